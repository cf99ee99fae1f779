package dev.cryptopipeline.pipeline;

import dev.cryptopipeline.ExitCode;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.PipelineConfig;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.sink.Database;
import dev.cryptopipeline.sink.Migrations;
import dev.cryptopipeline.source.Source;
import dev.cryptopipeline.state.Ledger;
import dev.cryptopipeline.state.RunLock;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The library's one entry point: setup, backfill, daily catch-up, reload of a day, and status. Every command that
 * writes holds the run lock for its whole run, applies pending schema migrations, and records itself in the runs
 * ledger. Days are UTC days; "finished" means over (UTC) and finished at the source. One per run: not thread safe,
 * except {@link #stop}, which a signal handler may call from another thread.
 */
public final class Pipeline implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Pipeline.class);
    /** The Ethereum genesis day: no transfers before it. */
    public static final LocalDate FIRST_DAY = LocalDate.of(2015, 7, 30);
    /** Days handed to the source at once, so a long backfill is exported in bulk and loaded as it goes. */
    static final int DAYS_PER_EXPORT = 31;

    private final PipelineConfig config;
    private final Source source;
    private final Lake lake;
    private final Database database;
    private final Clock clock;
    private final RunContext context;
    private final Ledger ledger;
    private final Retry retry;
    private final Progress progress;
    /** The thread running the current command, which a stop interrupts when no stage is running yet. */
    private volatile Thread owner;
    private volatile StagePipeline stages;
    private volatile PipelineException.Interrupted stopped;
    private volatile RunReport lastReport;

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
        this(config, source, lake, database, clock, context, Retry.defaults(), Progress.NONE);
    }

    public Pipeline(PipelineConfig config, Source source, Lake lake, Database database, Clock clock,
                    RunContext context, Retry retry) {
        this(config, source, lake, database, clock, context, retry, Progress.NONE);
    }

    public Pipeline(PipelineConfig config, Source source, Lake lake, Database database, Clock clock,
                    RunContext context, Retry retry, Progress progress) {
        this.retry = retry;
        this.config = config;
        this.source = source;
        this.lake = lake;
        this.database = database;
        this.clock = clock;
        this.context = context;
        this.progress = progress;
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
        try (RunSession s = RunSession.connect(database, config.pgSchema(), context, ledger, clock, false)) {
            s.start();
            s.finish("ok", null, 0, 0);
            lines.add("schema " + config.pgSchema() + " in " + database.describe() + ": "
                    + (s.migrated().isEmpty() ? "already up to date (version " + Migrations.latestVersion() + ")"
                    : "created or migrated to version " + Migrations.latestVersion()));
        } catch (SQLException e) {
            throw SqlErrors.translate(e, "setting up the schema");
        }
        return lines;
    }

    /**
     * Loads every finished day in {@code [start, end]}, skipping days already loaded unless {@code reload} (days
     * loaded as trials, with a smaller query limit, are replaced). Idempotent; after a crash, running it again
     * finishes the rest.
     *
     * @param end the last day, or null for the last finished day
     */
    public RunReport backfill(LocalDate start, LocalDate end, boolean reload) {
        LocalDate last = end == null ? yesterday() : end;
        checkDay("--start-date", start);
        checkDay("--end-date", last);
        if (start.isAfter(last)) {
            throw new PipelineException.BadInput("--start-date " + start + " is after --end-date " + last
                    + ": give a start on or before the end");
        }
        return run("backfill", c -> { }, (loaded, finished) -> DayPlan.backfill(start, last, reload, loaded,
                config.queryLimit(), finished));
    }

    /**
     * Loads every finished day after the last loaded one, through yesterday (UTC). Idempotent.
     *
     * @throws PipelineException.BadInput if nothing has been loaded yet (run setup --chain or backfill first)
     */
    public RunReport catchUp() {
        return run("daily", c -> {
            if (!Migrations.isInstalled(c, config.pgSchema()) || ledger.loadedDays(c).isEmpty()) {
                throw nothingLoaded();
            }
        }, (loaded, finished) -> DayPlan.catchUp(loaded, yesterday(), finished));
    }

    /** The refusal of {@code daily} before anything was ever loaded. */
    public PipelineException.BadInput nothingLoaded() {
        return new PipelineException.BadInput("Nothing has been loaded into schema " + config.pgSchema()
                + " yet, so daily does not know where to start: run 'crypto-pipeline setup --chain"
                + " --start-date YYYY-MM-DD' or 'crypto-pipeline backfill --start-date YYYY-MM-DD' first");
    }

    /** Loads exactly {@code day}, exported afresh, replacing what was loaded for it. Idempotent. */
    public RunReport reload(LocalDate day) {
        checkDay("--date", day);
        return run("daily", c -> { }, (loaded, finished) -> DayPlan.exactly(day, loaded, finished));
    }

    /**
     * Reads the ledger. Writes nothing and takes no lock.
     *
     * @throws PipelineException.Failed if the schema is not set up
     */
    public StatusReport status() {
        try (Connection c = database.connect(context.applicationName())) {
            if (!Migrations.isInstalled(c, config.pgSchema())) {
                throw new PipelineException.Failed("Nothing to show: schema " + config.pgSchema() + " is not set up in "
                        + database.describe() + "; check --pg-schema and --jdbc-url, or run 'crypto-pipeline setup'");
            }
            return new StatusReport(config.pgSchema().name(), database.describe(), ledger.days(c),
                    ledger.lastRun(c), RunLock.holder(c, config.pgSchema()));
        } catch (SQLException e) {
            throw SqlErrors.translate(e, "reading the status");
        }
    }

    /**
     * Stops the run in progress from another thread (a signal handler): the days in flight are rolled back, the days
     * already loaded stay, the run is recorded as interrupted, and the running command throws
     * {@link PipelineException.Interrupted}. Thread safe; idempotent.
     *
     * @param terminated true for SIGTERM (exit 143), false for SIGINT (exit 130)
     */
    public void stop(boolean terminated) {
        if (stopped != null) {
            return;
        }
        PipelineException.Interrupted reason = new PipelineException.Interrupted(
                terminated ? "terminated" : "interrupted", terminated);
        stopped = reason;
        StagePipeline s = stages;
        Thread running = owner;
        if (s != null) {
            s.stop(reason);
        } else if (running != null) {
            running.interrupt();
        }
    }

    /** The report of the last loading command, also when it failed (then with its exit code and error). */
    public Optional<RunReport> lastReport() {
        return Optional.ofNullable(lastReport);
    }

    /** A step run under the lock before anything is written; it may refuse the run. */
    @FunctionalInterface
    private interface Precheck {
        void run(Connection c) throws SQLException;
    }

    /**
     * Runs a loading command: lock, precheck, migrate and record the run, plan the days (asking the source which days
     * are finished only when that matters, and only after checking the cost), then export and load them.
     */
    private RunReport run(String command, Precheck precheck,
                          BiFunction<Map<LocalDate, OptionalInt>, LocalDate, DayPlan> planner) {
        long t0 = System.nanoTime();
        owner = Thread.currentThread();
        List<RunReport.DayLoad> loads = new ArrayList<>();
        DayPlan plan = new DayPlan(List.of(), List.of(), List.of(), false);
        String runId = "none";
        StagePipeline pipeline = null;
        int jobs = Math.max(1, config.jobs());
        try (RunSession s = RunSession.connect(database, config.pgSchema(), context, ledger, clock,
                config.dryRun())) {
            runId = s.runId();
            try {
                Connection c = s.connection();
                precheck.run(c);
                if (!config.dryRun()) {
                    lake.prepareForRun();
                    s.start();
                    int leftovers = lake.removeUnfinished();
                    if (leftovers > 0) {
                        log.info("Removed {} unfinished lake file(s) left by an interrupted run from {}", leftovers,
                                lake.location());
                    }
                }
                Map<LocalDate, OptionalInt> loaded = Migrations.isInstalled(c, config.pgSchema())
                        ? ledger.loadedDays(c) : new TreeMap<>();
                plan = planner.apply(loaded, yesterday());
                checkStopped();
                if (config.dryRun()) {
                    List<String> lines = plan.toLoad().isEmpty() ? List.of()
                            : source.plan(plan.days(), config.queryLimit());
                    return remember(new RunReport(command, runId, List.of(), plan.skipped(), plan.unfinished(),
                            millisSince(t0), true, plan.days(), lines, RunReport.Stages.NONE, ExitCode.OK, null));
                }
                source.checkCost(plan.candidates(), config.queryLimit());
                if (plan.candidates().contains(yesterday())) {
                    plan = planner.apply(loaded, source.lastFinishedDay(clock.instant()));
                }
                checkStopped();
                logPlan(command, plan);
                ledger.planRun(c, runId, plan.toLoad().size());
                jobs = config.jobs() > 0 ? config.jobs() : autoJobs(c);
                pipeline = new StagePipeline(source, lake, s, ledger, config.pgSchema(), config.queryLimit(), clock,
                        progress, new StagePipeline.Settings(jobs, DAYS_PER_EXPORT, config.allowEmpty(), retry));
                stages = pipeline;
                if (stopped != null) {
                    pipeline.stop(stopped);
                }
                progress.planned(runId, plan.toLoad().size());
                StagePipeline.Result result = pipeline.run(plan, loads);
                prune(s);
                RunReport report = new RunReport(command, runId, result.loads(), plan.skipped(), plan.unfinished(),
                        millisSince(t0), false, plan.days(), List.of(), result.stages(), ExitCode.OK, null);
                s.finish("ok", null, 0, result.loads().size());
                return remember(report);
            } catch (PipelineException e) {
                throw ended(s, command, runId, plan, loads, pipeline, jobs, t0, e);
            } catch (SQLException e) {
                throw ended(s, command, runId, plan, loads, pipeline, jobs, t0, SqlErrors.translate(e, "loading"));
            }
        } catch (PipelineException e) {
            if (lastReport == null || !lastReport.runId().equals(runId)) {
                remember(new RunReport(command, runId, loads, plan.skipped(), plan.unfinished(), millisSince(t0),
                        config.dryRun(), plan.days(), List.of(), RunReport.Stages.NONE, e.exitCode(),
                        e.getMessage()));
            }
            throw e;
        } finally {
            stages = null;
            owner = null;
            Thread.interrupted(); // a stop's wake-up call ends with the command
            progress.finished();
        }
    }

    /** Records how a run ended and builds the exception (and report) the caller sees. */
    private PipelineException ended(RunSession s, String command, String runId, DayPlan plan,
                                    List<RunReport.DayLoad> loads, StagePipeline pipeline, int jobs, long t0,
                                    PipelineException e) {
        PipelineException shown = e;
        if (e instanceof PipelineException.Interrupted i) {
            shown = new PipelineException.Interrupted("interrupted: " + loads.size() + " of "
                    + plan.toLoad().size() + " day" + (plan.toLoad().size() == 1 ? "" : "s")
                    + " loaded; run again to finish", i.exitCode() == ExitCode.TERMINATED);
        }
        RunReport report = new RunReport(command, runId, loads, plan.skipped(), plan.unfinished(), millisSince(t0),
                false, plan.days(), List.of(), pipeline == null ? RunReport.Stages.NONE
                : pipeline.stages(jobs), shown.exitCode(), shown.getMessage());
        remember(report);
        s.finish(report.outcome(), shown.getMessage(), shown.exitCode().value(), loads.size());
        return shown;
    }

    private RunReport remember(RunReport report) {
        lastReport = report;
        return report;
    }

    private void checkStopped() {
        if (stopped != null) {
            throw stopped;
        }
        if (Thread.interrupted()) {
            throw new PipelineException.Interrupted("interrupted");
        }
    }

    private void logPlan(String command, DayPlan plan) {
        log.info("{}: {} day(s) to load{}, {} already loaded, {} not finished at the source", command,
                plan.toLoad().size(), plan.toLoad().isEmpty() ? "" : " (" + RunReport.range(plan.days()) + ")",
                plan.skipped().size(), plan.unfinished().size());
        if (plan.trialReplacements() > 0) {
            log.warn("Replacing {} trial load(s) (days loaded with a smaller --query-limit) with full days",
                    plan.trialReplacements());
        }
    }

    /** Removes lake exports older than the retention, never the one a loaded day was last loaded from. */
    private void prune(RunSession s) throws SQLException {
        List<String> removed = lake.prune(Duration.ofDays(config.gcp().retentionDays()),
                new HashSet<>(ledger.lakeRuns(s.connection())));
        if (!removed.isEmpty()) {
            log.info("Pruned {} lake export folder(s) older than {} days from {}: {}", removed.size(),
                    config.gcp().retentionDays(), lake.location(), removed.size() <= 5 ? removed
                            : removed.subList(0, 5) + " and " + (removed.size() - 5) + " more");
        }
    }

    /**
     * Days loaded at once when not given: the machine's cores, at most 4, and at most half the connections the
     * server has free (others need some too).
     */
    private static int autoJobs(Connection c) throws SQLException {
        int free;
        try (java.sql.Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery("""
                SELECT current_setting('max_connections')::int
                       - current_setting('superuser_reserved_connections')::int
                       - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')""")) {
            rs.next();
            free = rs.getInt(1);
        }
        int jobs = Math.max(1, Math.min(Math.min(Runtime.getRuntime().availableProcessors(), 4), free / 2));
        log.debug("Loading up to {} day(s) at once ({} cores, {} free connections)", jobs,
                Runtime.getRuntime().availableProcessors(), free);
        return jobs;
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

    /** Releases the database (stopping the embedded server if this run is its last user). Idempotent. */
    @Override
    public void close() {
        database.close();
    }
}
