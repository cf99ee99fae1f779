package dev.cryptopipeline.sink;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;

/** A PostgreSQL server to connect to: a JDBC URL, or the embedded server under the data directory. */
public interface Database extends AutoCloseable {
    /**
     * Run on every session that runs or loads: UTC, so a time in a message or a day boundary reads the same on any
     * server; and no statement or idle-in-transaction timeout, as pg_dump and pg_restore do, so that a limit a DBA
     * set for interactive users (for the database or the role) does not cancel a day's COPY or key build midway.
     * The swap sets its own short lock timeout.
     */
    String SESSION_SETTINGS = "SET TIME ZONE 'UTC'; SET statement_timeout = 0;"
            + " SET idle_in_transaction_session_timeout = 0";

    /**
     * Opens a new connection in auto-commit mode.
     *
     * @param applicationName shown in {@code pg_stat_activity}, so a lock holder can be named
     */
    Connection connect(String applicationName) throws SQLException;

    /** Where the server is, for logs and messages, without credentials. */
    String describe();

    /**
     * Why the server cannot come back while a run waits for it (the embedded server this run uses has died), or
     * empty when it may (a server of one's own restarts, a network heals): retrying is then only a slower failure.
     */
    default Optional<String> lost() {
        return Optional.empty();
    }

    /** Releases the server (stops the embedded one if this process started it). Idempotent. */
    @Override
    void close();
}
