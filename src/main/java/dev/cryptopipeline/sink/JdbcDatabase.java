package dev.cryptopipeline.sink;

import dev.cryptopipeline.config.Secret;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Optional;
import java.util.Properties;

/**
 * A PostgreSQL server reached by JDBC URL. The user and password come from the URL's user, {@code PGUSER} and
 * {@code PGPASSWORD} (resolved by the CLI) or the driver's own {@code ~/.pgpass} lookup; they are never logged.
 */
public final class JdbcDatabase implements Database {
    private final String url;
    private final Optional<String> user;
    private final Optional<Secret> password;

    /**
     * @param url      a {@code jdbc:postgresql:} URL without a password
     * @param user     the user, or empty for the URL's or the driver's default
     * @param password the password, or empty for {@code ~/.pgpass}
     */
    public JdbcDatabase(String url, Optional<String> user, Optional<Secret> password) {
        this.url = url;
        this.user = user;
        this.password = password;
    }

    @Override
    public Connection connect(String applicationName) throws SQLException {
        Properties p = new Properties();
        user.ifPresent(u -> p.setProperty("user", u));
        password.ifPresent(s -> p.setProperty("password", s.reveal()));
        p.setProperty("ApplicationName", applicationName);
        p.setProperty("connectTimeout", "10");
        p.setProperty("loginTimeout", "15");
        p.setProperty("tcpKeepAlive", "true");
        return DriverManager.getConnection(url, p);
    }

    @Override
    public String describe() {
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q);
    }

    @Override
    public void close() {
        // Nothing to release: connections are closed by their users.
    }
}
