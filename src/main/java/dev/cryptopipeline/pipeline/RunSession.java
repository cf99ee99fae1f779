package dev.cryptopipeline.pipeline;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.sink.ConnectionPool;
import dev.cryptopipeline.sink.Database;
import dev.cryptopipeline.sink.Migrations;
import dev.cryptopipeline.sink.PostgresSink;
import dev.cryptopipeline.state.Ledger;
import dev.cryptopipeline.state.RunLock;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One locked run: its own session holding the run lock (for the whole run; taken again on a new connection if the
 * session is lost), the schema migrated, the run recorded in the ledger, and a small pool of other connections for
 * the day loads, which run in their own transactions. A dry run takes no lock, migrates nothing and records nothing.
 * Thread safe: load workers share it.
 */
final class RunSession implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RunSession.class);
    private static final DateTimeFormatter RUN_ID_TIME =
            DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private final Database database;
    private final Identifier schema;
    private final RunContext context;
    private final Ledger ledger;
    private final Clock clock;
    private final boolean dryRun;
    private final String runId;
    private Connection connection;
    private ConnectionPool pool;
    private List<Migrations.Migration> migrated = List.of();
    private boolean recorded;

    private RunSession(Database database, Identifier schema, RunContext context, Ledger ledger, Clock clock,
                       boolean dryRun) {
        this.database = database;
        this.schema = schema;
        this.context = context;
        this.ledger = ledger;
        this.clock = clock;
        this.dryRun = dryRun;
        this.runId = dryRun ? "dry-run" : RUN_ID_TIME.format(clock.instant()) + "-"
                + String.format("%04x", new SecureRandom().nextInt(1 << 16));
    }

    /** Connects; for a real run, takes the run lock (or throws TryLater naming the holder). Nothing is written yet. */
    static RunSession connect(Database database, Identifier schema, RunContext context, Ledger ledger, Clock clock,
                              boolean dryRun) {
        RunSession s = new RunSession(database, schema, context, ledger, clock, dryRun);
        s.connection = s.open();
        try {
            if (!dryRun) {
                RunLock.acquire(s.connection, schema);
            }
            return s;
        } catch (SQLException | RuntimeException e) {
            s.close();
            throw e instanceof SQLException q ? SqlErrors.translate(q, "taking the run lock") : (RuntimeException) e;
        }
    }

    /**
     * Applies pending migrations, drops the replaced loads a stopped run left behind, and records the run as
     * running. Call once, after the caller's prechecks.
     */
    void start() throws SQLException {
        if (dryRun) {
            return;
        }
        checkEncoding(connection);
        migrated = Migrations.migrate(connection, schema);
        if (!migrated.isEmpty()) {
            log.info("Schema {}: applied migrations {}", schema, migrated.stream().map(Migrations.Migration::version)
                    .toList());
        }
        new PostgresSink(connection, schema).dropRetiredLoads();
        ledger.startRun(connection, new Ledger.Run(runId, context.command(), context.arguments(), context.host(),
                context.pid(), clock.instant(), null, "running", null, null, null, null));
        recorded = true;
    }

    String runId() {
        return runId;
    }

    /**
     * Refuses a database whose encoding cannot hold every token name and symbol (they are Unicode, any script): its
     * loads would fail on the first such name, or store something else. UTF8 holds them; SQL_ASCII stores the bytes
     * as they come (what Debian's cluster gets when it is created without a locale) and is accepted too.
     */
    private static void checkEncoding(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_database(), current_setting('server_encoding')")) {
            rs.next();
            String database = rs.getString(1);
            String encoding = rs.getString(2);
            if (!encoding.equals("UTF8") && !encoding.equals("SQL_ASCII")) {
                throw new PipelineException.Failed("The database " + database + " is encoded " + encoding + ", which"
                        + " cannot hold every token name (they are Unicode): load into a UTF8 database (CREATE"
                        + " DATABASE … ENCODING 'UTF8' TEMPLATE template0) and point --jdbc-url at it");
            }
        }
    }

    boolean dryRun() {
        return dryRun;
    }

    List<Migrations.Migration> migrated() {
        return migrated;
    }

    /** Why the database cannot come back while the run waits, if it cannot (see {@link Database#lost()}). */
    Optional<String> lost() {
        return database.lost();
    }

    /** The session's own connection (auto-commit, UTC), for ledger reads and writes. */
    synchronized Connection connection() throws SQLException {
        if (connection == null) {
            reconnect();
        }
        return connection;
    }

    /**
     * Makes sure the run still holds its lock: if the session was lost (a restart, a killed backend), connects again
     * and takes the lock again, or throws TryLater if another run took it meanwhile. Call before each commit.
     */
    synchronized void ensureLock() throws SQLException {
        if (dryRun) {
            return;
        }
        if (connection != null && connection.isValid(5)) {
            return;
        }
        dropConnection();
        reconnect();
    }

    private void reconnect() throws SQLException {
        connection = setUp(database.connect(context.applicationName()));
        if (!dryRun) {
            RunLock.acquire(connection, schema);
            log.info("Reconnected to PostgreSQL and took the run lock again");
        }
    }

    private void dropConnection() {
        if (connection == null) {
            return;
        }
        try {
            connection.close();
        } catch (SQLException e) {
            log.debug("Closing the lost connection: {}", e.getMessage());
        }
        connection = null;
    }

    /**
     * The pool of load connections, opened on first use with at most {@code size} connections, handing one out within
     * {@code waitMillis} or failing (transiently).
     */
    synchronized ConnectionPool pool(int size, long waitMillis) {
        if (pool == null) {
            pool = new ConnectionPool(database, size, context.applicationName(), waitMillis);
        }
        return pool;
    }

    /** Records the end of the run (best effort: a lost database only loses the record, never data). */
    synchronized void finish(String outcome, String error, int exitCode, int daysLoaded) {
        if (!recorded) {
            return;
        }
        for (int attempt = 1; attempt <= 2; attempt++) {
            try {
                Connection c = connection();
                if (!c.getAutoCommit()) {
                    c.rollback();
                    c.setAutoCommit(true);
                }
                ledger.finishRun(c, runId, clock.instant(), outcome, error, exitCode, daysLoaded);
                recorded = false;
                return;
            } catch (SQLException | PipelineException e) {
                log.debug("Could not record the end of run {}: {}", runId, e.getMessage());
                dropConnection();
            }
        }
    }

    /** Sessions run as {@link Database#SESSION_SETTINGS} says: in UTC, with no statement timeout. */
    private static Connection setUp(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(Database.SESSION_SETTINGS);
        }
        return c;
    }

    private Connection open() {
        try {
            return setUp(database.connect(context.applicationName()));
        } catch (SQLException e) {
            throw SqlErrors.connectError(e, database.describe());
        }
    }

    /** Releases the pool, the run lock and the session. */
    @Override
    public synchronized void close() {
        try {
            if (pool != null) {
                pool.close();
                pool = null;
            }
        } finally {
            if (connection != null && !dryRun) {
                RunLock.release(connection, schema);
            }
            dropConnection();
        }
    }
}
