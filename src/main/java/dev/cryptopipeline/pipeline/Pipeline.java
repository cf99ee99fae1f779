package dev.cryptopipeline.pipeline;

import dev.cryptopipeline.Backoff;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.PipelineConfig;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LakeLayout;
import dev.cryptopipeline.lake.Manifest;
import dev.cryptopipeline.sink.Database;
import dev.cryptopipeline.sink.Migrations;
import dev.cryptopipeline.sink.PostgresSink;
import dev.cryptopipeline.source.Source;
import dev.cryptopipeline.state.Ledger;
import dev.cryptopipeline.state.RunLock;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The library's one entry point: setup, backfill, daily catch-up, reload of a day, and status. Every command that
 * writes holds the run lock for its whole run, applies pending schema migrations, and records itself in the runs
 * ledger. Days are UTC days; "finished" means over (UTC) and finished at the source. Not thread safe: one per run.
 */
public final class Pipeline implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Pipeline.class);
    /** The Ethereum genesis day: no transfers before it. */
    public static final LocalDate FIRST_DAY = LocalDate.of(2015, 7, 30);
    /** Days handed to the source at once, so a long backfill is exported in bulk and loaded as it goes. */
    static final int DAYS_PER_EXPORT = 31;
    private static final DateTimeFormatter RUN_ID_TIME =
            DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private final PipelineConfig config;
    private final Source source;
    private final Lake lake;
    private final Database database;
    private final Clock clock;
    private final RunContext context;
    private final Ledger ledger;
    private final Retry retry;

    /**
     * How a day's load is retried after a transient database failure.
     *
     * @param attempts   tries of one day's load, the first included
     * @param firstDelay the first wait, doubled each time (with jitter) up to {@code maxDelay}
     */
    public record Retry(int attempts, Duration firstDelay, Duration maxDelay) {
        /** 8 tries, waiting about a minute and a half in all. */
        public static Retry defaults() {
            return new Retry(8, Duration.ofSeconds(1), Duration.ofSeconds(30));
        }
    }

    public Pipeline(PipelineConfig config, Source source, Lake lake, Database database, Clock clock,
                    RunContext context) {
        this(config, source, lake, database, clock, context, Retry.defaults());
    }

    public Pipeline(PipelineConfig config, Source source, Lake lake, Database database, Clock clock,
                    RunContext context, Retry retry) {
        this.retry = retry;
        this.config = config;
        this.source = source;
        this.lake = lake;
        this.database = database;
        this.clock = clock;
        this.context = context;
        this.ledger = new Ledger(config.pgSchema());
    }

    /** The effective configuration this pipeline runs with. */
    public PipelineConfig config() {
        return config;
    }

    /**
     * Creates, if absent, the lake, what the source needs, and the PostgreSQL schema (migrations). Idempotent.
     *
     * @return one line per resource, saying what was created and what already existed
     */
    public List<String> setup() {
        List<String> lines = new ArrayList<>();
        if (config.dryRun()) {
            lines.add("dry run: would create, if absent, the lake " + lake.location() + ", what the " + source.name()
                    + " source needs, and schema " + config.pgSchema() + " in " + database.describe()
                    + "; nothing was changed");
            return lines;
        }
        boolean created = lake.prepare();
        lines.add("lake " + lake.location() + ": " + (created ? "created" : "already exists") + " ("
                + lake.retention() + ")");
        lines.addAll(source.prepare());
        lines.add(write(c -> { }, s -> "schema " + config.pgSchema() + " in " + database.describe() + ": "
                + (s.migrated().isEmpty() ? "already up to date (version " + Migrations.latestVersion() + ")"
                        : "created or migrated to version " + Migrations.latestVersion())));
        return lines;
    }

    /**
     * Loads every finished day in {@code [start, end]}, skipping days already loaded unless {@code reload}.
     * Idempotent; after a crash, running it again finishes the rest.
     *
     * @param end the last day, or null for the last finished day
     */
    public RunReport backfill(LocalDate start, LocalDate end, boolean reload) {
        LocalDate yesterday = yesterday();
        LocalDate last = end == null ? yesterday : end;
        checkDay("--start-date", start);
        checkDay("--end-date", last);
        if (start.isAfter(last)) {
            throw new PipelineException.BadInput("--start-date " + start + " is after --end-date " + last
                    + ": give a start on or before the end");
        }
        prepareLake();
        long t0 = System.nanoTime();
        return write(c -> { }, s -> {
            Connection c = s.connection();
            LocalDate finished = lastFinishedDay();
            SortedSet<LocalDate> loaded = loadedDays(c);
            List<LocalDate> toLoad = new ArrayList<>();
            List<LocalDate> skipped = new ArrayList<>();
            List<LocalDate> unfinished = new ArrayList<>();
            for (LocalDate d = start; !d.isAfter(last); d = d.plusDays(1)) {
                if (!reload && loaded.contains(d)) {
                    skipped.add(d);
                } else if (d.isAfter(finished)) {
                    unfinished.add(d);
                } else {
                    toLoad.add(d);
                }
            }
            log.info("Backfill {}..{}: {} to load, {} already loaded, {} not finished at the source", start, last,
                    toLoad.size(), skipped.size(), unfinished.size());
            return report("backfill", s, toLoad, skipped, unfinished, t0);
        });
    }

    /**
     * Loads every finished day after the last loaded one, through yesterday (UTC). Idempotent.
     *
     * @throws PipelineException.BadInput if nothing has been loaded yet (run setup --chain or backfill first)
     */
    public RunReport catchUp() {
        prepareLake();
        long t0 = System.nanoTime();
        return write(c -> {
            if (loadedDays(c).isEmpty()) {
                throw new PipelineException.BadInput("Nothing has been loaded into schema " + config.pgSchema()
                        + " yet, so daily does not know where to start: run 'crypto-pipeline setup --chain"
                        + " --start-date YYYY-MM-DD' or 'crypto-pipeline backfill --start-date YYYY-MM-DD' first");
            }
        }, s -> {
            LocalDate last = loadedDays(s.connection()).last();
            LocalDate finished = lastFinishedDay();
            List<LocalDate> toLoad = new ArrayList<>();
            List<LocalDate> unfinished = new ArrayList<>();
            for (LocalDate d = last.plusDays(1); !d.isAfter(yesterday()); d = d.plusDays(1)) {
                (d.isAfter(finished) ? unfinished : toLoad).add(d);
            }
            if (toLoad.isEmpty()) {
                log.info("Nothing to do: the last loaded day is {}{}", last,
                        unfinished.isEmpty() ? "" : " and " + unfinished + " is not finished at the source yet");
            }
            return report("daily", s, toLoad, List.of(), unfinished, t0);
        });
    }

    /** Loads exactly {@code day}, replacing what was loaded for it. Idempotent. */
    public RunReport reload(LocalDate day) {
        checkDay("--date", day);
        prepareLake();
        long t0 = System.nanoTime();
        return write(c -> { }, s -> {
            if (day.isAfter(lastFinishedDay())) {
                log.info("{} is not finished at the source yet; nothing loaded", day);
                return report("daily", s, List.of(), List.of(), List.of(day), t0);
            }
            return report("daily", s, List.of(day), List.of(), List.of(), t0);
        });
    }

    /** Reads the ledger. Writes nothing and takes no lock. */
    public StatusReport status() {
        try (Connection c = connect()) {
            if (!Migrations.isInstalled(c, config.pgSchema())) {
                return new StatusReport(false, config.pgSchema().name(), database.describe(), List.of(),
                        Optional.empty());
            }
            return new StatusReport(true, config.pgSchema().name(), database.describe(), ledger.days(c),
                    ledger.lastRun(c));
        } catch (SQLException e) {
            throw translate(e, "reading the status");
        }
    }

    private RunReport report(String command, Session s, List<LocalDate> toLoad, List<LocalDate> skipped,
                             List<LocalDate> unfinished, long t0) throws SQLException {
        if (config.dryRun()) {
            List<String> plan = toLoad.isEmpty() ? List.of() : source.plan(toLoad, config.queryLimit());
            return new RunReport(command, s.runId(), List.of(), skipped, unfinished, millisSince(t0), true, toLoad,
                    plan);
        }
        return new RunReport(command, s.runId(), loadDays(s, toLoad), skipped, unfinished, millisSince(t0), false,
                List.of(), List.of());
    }

    private void prepareLake() {
        if (!config.dryRun()) {
            lake.prepare();
        }
    }

    /**
     * The last day finished at the source. A dry run spends nothing, so it does not ask the source and assumes
     * yesterday.
     */
    private LocalDate lastFinishedDay() {
        return config.dryRun() ? yesterday() : source.lastFinishedDay(clock.instant());
    }

    /** The loaded days; none if the schema is not set up yet. */
    private SortedSet<LocalDate> loadedDays(Connection c) throws SQLException {
        return Migrations.isInstalled(c, config.pgSchema()) ? ledger.loadedDays(c) : new java.util.TreeSet<>();
    }

    private List<RunReport.DayLoad> loadDays(Session s, List<LocalDate> days) throws SQLException {
        List<RunReport.DayLoad> loads = new ArrayList<>();
        for (int i = 0; i < days.size(); i += DAYS_PER_EXPORT) {
            List<LocalDate> chunk = days.subList(i, Math.min(days.size(), i + DAYS_PER_EXPORT));
            List<Manifest> exported = source.export(chunk, s.runId, config.queryLimit(), lake);
            for (Manifest e : exported) {
                // Load what the lake holds, checked against the manifest the lake holds: the commit marker.
                Manifest m = LakeLayout.readManifest(lake, e.day(), e.runId());
                loads.add(loadDay(s, m));
            }
        }
        return loads;
    }

    /**
     * Loads one day, retrying a transient database failure (lost connection, server restart, serialization failure,
     * lack of resources) on a new connection that takes the run lock again. The day's load is one transaction, so a
     * retry starts from the old day, never from half of the new one.
     */
    private RunReport.DayLoad loadDay(Session s, Manifest m) throws SQLException {
        String runFolder = LakeLayout.runPrefix(m.day(), m.runId());
        Backoff backoff = new Backoff(retry.firstDelay(), retry.maxDelay());
        for (int attempt = 1; ; attempt++) {
            try {
                if (s.connection == null) {
                    s.reconnect();
                }
                PostgresSink.LoadResult r = new PostgresSink(s.connection, config.pgSchema()).load(lake, m,
                        (tx, rows) -> ledger.markLoaded(tx, new Ledger.LoadedDay(m.day(), rows, m.source(),
                                runFolder, m.sourceJobs(), m.queryLimit(), clock.instant(), s.runId)));
                return new RunReport.DayLoad(r.day(), r.rows(), r.bytes(), r.millis(), r.replaced());
            } catch (SQLException e) {
                if (!transientFailure(e) || attempt >= retry.attempts()) {
                    throw e;
                }
                long wait = backoff.next();
                log.warn("PostgreSQL failed while loading {} ({}: {}); the day is rolled back, retry {} of {} in {} ms",
                        m.day(), e.getSQLState(), firstLine(e), attempt, retry.attempts() - 1, wait);
                s.dropConnection();
                Backoff.sleep(wait);
            }
        }
    }

    /** A step that runs under the lock before anything is written; it may refuse the run. */
    @FunctionalInterface
    private interface Precheck {
        void run(Connection c) throws SQLException;
    }

    /** The body of a writing command. */
    @FunctionalInterface
    private interface Body<T> {
        T run(Session session) throws SQLException;
    }

    /**
     * A locked run: its connection (holding the run lock, replaced after a lost connection), its id, and the
     * migrations it applied.
     */
    private final class Session implements AutoCloseable {
        final String runId;
        List<Migrations.Migration> migrated = List.of();
        Connection connection;

        Session(Connection connection, String runId) {
            this.connection = connection;
            this.runId = runId;
        }

        String runId() {
            return runId;
        }

        Connection connection() {
            return connection;
        }

        List<Migrations.Migration> migrated() {
            return migrated;
        }

        /** Forgets a broken connection (its session, and so its lock, is gone or going). */
        void dropConnection() {
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

        /** Opens a new connection and takes the run lock on it again. */
        void reconnect() throws SQLException {
            connection = utc(database.connect(context.applicationName()));
            RunLock.acquire(connection, config.pgSchema());
            log.info("Reconnected to PostgreSQL and took the run lock again");
        }

        @Override
        public void close() throws SQLException {
            if (connection != null) {
                connection.close();
            }
        }
    }

    /** Runs {@code body} under the run lock, after migrations, recorded in the runs ledger. */
    private <T> T write(Precheck precheck, Body<T> body) {
        String runId = RUN_ID_TIME.format(clock.instant()) + "-" + String.format("%04x",
                new SecureRandom().nextInt(1 << 16));
        if (config.dryRun()) {
            // A plan: read what is loaded, take no lock, migrate nothing, record nothing.
            try (Session s = new Session(connect(), "dry-run")) {
                precheck.run(s.connection);
                return body.run(s);
            } catch (SQLException e) {
                throw translate(e, "planning the run");
            }
        }
        try (Session s = new Session(connect(), runId)) {
            RunLock.acquire(s.connection, config.pgSchema());
            precheck.run(s.connection);
            s.migrated = Migrations.migrate(s.connection, config.pgSchema());
            if (!s.migrated.isEmpty()) {
                log.info("Schema {}: applied migrations {}", config.pgSchema(),
                        s.migrated.stream().map(Migrations.Migration::version).toList());
            }
            int leftovers = lake.removeUnfinished();
            if (leftovers > 0) {
                log.info("Removed {} unfinished lake file(s) left by an interrupted run from {}", leftovers,
                        lake.location());
            }
            ledger.startRun(s.connection, new Ledger.Run(runId, context.command(), context.arguments(),
                    context.host(), context.pid(), clock.instant(), null, "running", null));
            try {
                T result = body.run(s);
                ledger.finishRun(s.connection, runId, clock.instant(), "ok", null);
                return result;
            } catch (PipelineException e) {
                recordFailure(s.connection, runId, outcome(e), e.getMessage());
                throw e;
            } catch (SQLException | RuntimeException e) {
                RuntimeException t = e instanceof SQLException q ? translate(q, "loading") : (RuntimeException) e;
                recordFailure(s.connection, runId, t instanceof PipelineException p ? outcome(p) : "failed",
                        t.getMessage());
                throw t;
            }
        } catch (SQLException e) {
            throw translate(e, "preparing the run");
        }
    }

    private void recordFailure(Connection c, String runId, String outcome, String error) {
        if (c == null) {
            return;
        }
        try {
            if (!c.getAutoCommit()) {
                c.rollback();
            }
            ledger.finishRun(c, runId, clock.instant(), outcome, error);
        } catch (SQLException e) {
            log.debug("Could not record the failed run {}: {}", runId, e.getMessage());
        }
    }

    private static String outcome(PipelineException e) {
        return switch (e.exitCode()) {
            case OK -> "ok";
            case FAILED -> "failed";
            case USAGE -> "bad-input";
            case DATA_CHECK -> "data-check";
            case TRY_LATER -> "try-later";
        };
    }

    /** Sessions run in UTC, so every time in a message or a day boundary reads the same on any server. */
    private static Connection utc(Connection c) throws SQLException {
        try (java.sql.Statement st = c.createStatement()) {
            st.execute("SET TIME ZONE 'UTC'");
        }
        return c;
    }

    private Connection connect() {
        try {
            return utc(database.connect(context.applicationName()));
        } catch (SQLException e) {
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (state.startsWith("28") || state.equals("08004")) {
                throw new PipelineException.Failed("PostgreSQL at " + database.describe() + " refused the login ("
                        + firstLine(e) + "): check the user in --jdbc-url and the password in PGPASSWORD or"
                        + " ~/.pgpass", e);
            }
            if (state.equals("3D000")) {
                throw new PipelineException.Failed("PostgreSQL at " + database.describe() + ": " + firstLine(e)
                        + ": create the database or fix --jdbc-url", e);
            }
            throw new PipelineException.Failed("Cannot connect to PostgreSQL at " + database.describe() + " ("
                    + firstLine(e) + "): check --jdbc-url and that the server is running", e);
        }
    }

    /**
     * Transient database failures, worth a retry on a new connection: connection exceptions (08), operator
     * intervention such as a restart or pg_terminate_backend (57P01-57P03), serialization failure and deadlock (40001,
     * 40P01), lock timeout (55P03) and insufficient resources (53). Authentication (28), syntax or privilege (42) and
     * data (22) errors are permanent.
     */
    static boolean transientFailure(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        return state.startsWith("08") || state.startsWith("57P") || state.equals("40001") || state.equals("40P01")
                || state.equals("55P03") || state.startsWith("53");
    }

    /** Maps an SQL error to the exception family: transient ones to try-later, the rest to failed. */
    static PipelineException translate(SQLException e, String doing) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (transientFailure(e)) {
            return new PipelineException.TryLater("PostgreSQL failed while " + doing + " (" + state + ": "
                    + firstLine(e) + "); the old data is intact: run again later", e);
        }
        if (state.equals("42501")) {
            return new PipelineException.Failed("PostgreSQL refused a privilege while " + doing + " (" + firstLine(e)
                    + "): the database user needs to create, or own, the schema given by --pg-schema", e);
        }
        return new PipelineException.Failed("PostgreSQL failed while " + doing + " (" + state + ": " + firstLine(e)
                + "); the old data is intact", e);
    }

    private static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private void checkDay(String option, LocalDate day) {
        if (day.isBefore(FIRST_DAY)) {
            throw new PipelineException.BadInput(option + " " + day + " is before Ethereum's first day "
                    + FIRST_DAY + ": give a later date");
        }
        LocalDate yesterday = yesterday();
        if (day.isAfter(yesterday)) {
            throw new PipelineException.BadInput(option + " " + day + " has not finished yet (UTC): the last"
                    + " finished day is " + yesterday);
        }
    }

    private LocalDate yesterday() {
        return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC).minusDays(1);
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /** Releases the database (stopping the embedded server if this run started it). Idempotent. */
    @Override
    public void close() {
        database.close();
    }
}
