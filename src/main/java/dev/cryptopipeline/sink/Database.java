package dev.cryptopipeline.sink;

import java.sql.Connection;
import java.sql.SQLException;

/** A PostgreSQL server to connect to: a JDBC URL, or the embedded server under the data directory. */
public interface Database extends AutoCloseable {

    /**
     * Opens a new connection in auto-commit mode.
     *
     * @param applicationName shown in {@code pg_stat_activity}, so a lock holder can be named
     */
    Connection connect(String applicationName) throws SQLException;

    /** Where the server is, for logs and messages, without credentials. */
    String describe();

    /** Releases the server (stops the embedded one if this process started it). Idempotent. */
    @Override
    void close();
}
