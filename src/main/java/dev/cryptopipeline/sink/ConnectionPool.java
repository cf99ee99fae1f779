package dev.cryptopipeline.sink;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A small pool of connections for loading days at once (HikariCP over a {@link Database}), each session set up as
 * {@link Database#SESSION_SETTINGS} says (and, when the pool has more than one connection, building a day's key in one
 * process).
 * Connections are opened on first demand, so an idle pool costs nothing. Thread safe.
 */
public final class ConnectionPool implements AutoCloseable {
    private final HikariDataSource pool;

    /**
     * @param database        where to connect
     * @param size            the most connections open at once
     * @param applicationName shown in {@code pg_stat_activity}
     * @param waitMillis      how long {@link #borrow} waits for a connection (at least 250 ms): a caller that retries
     *                        with its own backoff wants a quick answer when the server is down
     */
    public ConnectionPool(Database database, int size, String applicationName, long waitMillis) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("crypto-pipeline-loads");
        config.setDataSource(new Source(database, applicationName));
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(0);
        config.setAutoCommit(true);
        config.setConnectionTimeout(Math.max(250, waitMillis));
        config.setValidationTimeout(5_000);
        config.setKeepaliveTime(60_000);
        config.setMaxLifetime(0);
        config.setIdleTimeout(600_000);
        // Connect on first use, not now: a run that loads nothing never opens one.
        config.setInitializationFailTimeout(-1);
        // With several loads at once the cores are busy already: a parallel key build per load would only contend.
        config.setConnectionInitSql(Database.SESSION_SETTINGS
                + (size > 1 ? "; SET max_parallel_maintenance_workers = 0" : ""));
        this.pool = new HikariDataSource(config);
    }

    /**
     * Opens one connection in the background and keeps it idle in the pool, so the first borrower (the first day's
     * load, once its export is done) does not wait for a connection to be set up: TCP, authentication (SCRAM's key
     * derivation, on a JVM still cold) and the session settings. A failure is left to that borrower, which meets it
     * again and retries or reports it.
     */
    public void warmUp() {
        Thread t = new Thread(() -> {
            try {
                pool.getConnection().close(); // back to the pool, open
            } catch (SQLException | RuntimeException e) {
                // the first load connects again, and says why it cannot
            }
        }, "connect");
        t.setDaemon(true);
        t.start();
    }

    /** A connection in auto-commit mode; close it to give it back. */
    public Connection borrow() throws SQLException {
        return pool.getConnection();
    }

    /** Closes a broken connection for good instead of giving it back. */
    public void discard(Connection connection) {
        pool.evictConnection(connection);
    }

    @Override
    public void close() {
        pool.close();
    }

    /** The database as a {@link DataSource}, the way the pool wants it. */
    private record Source(Database database, String applicationName) implements DataSource {
        @Override
        public Connection getConnection() throws SQLException {
            return database.connect(applicationName);
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            throw new SQLFeatureNotSupportedException("credentials come from the database settings");
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            throw new SQLFeatureNotSupportedException();
        }

        @Override
        public <T> T unwrap(Class<T> type) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> type) {
            return false;
        }
    }
}
