package dev.cryptopipeline.pipeline;

import dev.cryptopipeline.ExitCode;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.PipelineConfig;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.sink.Database;
import dev.cryptopipeline.sink.Migrations;
import dev.cryptopipeline.sink.PostgresSink;
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
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
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
    private volatile VerifyReport lastVerify;

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
        return catchUp(0);
    }

    /**
     * Like {@link #catchUp()}, then verifies the last {@code verifyDays} loaded days against the source and reloads,
     * exported afresh, exactly those that differ (ledger reason {@code source changed}). Idempotent.
     */
    public RunReport catchUp(int verifyDays) {
        return run("daily", c -> {
            if (!Migrations.isInstalled(c, config.pgSchema()) || ledger.loadedDays(c).isEmpty()) {
                throw nothingLoaded();
            }
        }, (loaded, finished) -> DayPlan.catchUp(loaded, yesterday(), finished), verifyDays);
    }

    /** The refusal of {@code daily} before anything was ever loaded. */
    public PipelineException.BadInput nothingLoaded() {
        return new PipelineException.BadInput("Nothing has been loaded into schema " + config.pgSchema()
                + " yet, so daily does not know where to start: run 'crypto-pipeline setup --chain"
                + " --start-date YYYY-MM-DD' or 'crypto-pipeline backfill --start-date YYYY-MM-DD' first");
    }

    /** Loads exactly {@code day}, exported afresh, replacing what was loaded for it. Idempotent. */
    public RunReport reload(LocalDate day) {
        return reload(day, 0);
    }

    /** Like {@link #reload(LocalDate)}, then verifies as {@link #catchUp(int)} does. Idempotent. */
    public RunReport reload(LocalDate day, int verifyDays) {
        checkDay("--date", day);
        return run("daily", c -> { }, (loaded, finished) -> DayPlan.exactly(day, loaded, finished), verifyDays);
    }

    /**
     * Compares every loaded day in {@code [start, end]} (either may be null: unbounded) with what the source holds
     * now, by row count and content fingerprint, each day with the query limit it was loaded with; records in the
     * ledger when each day was verified and how it compared. Writes nothing to the table and loads nothing. Holds the
     * run lock like every command that writes the ledger (so no load replaces a day between its two readings; a
     * reader without the lock would still never see a day half swapped). Idempotent.
     *
     * @return the days that differ and those that match; exit code 3 if any differs
     */
    public VerifyReport verify(LocalDate start, LocalDate end) {
        if (start != null && end != null && start.isAfter(end)) {
            throw new PipelineException.BadInput("--start-date " + start + " is after --end-date " + end
                    + ": give a start on or before the end");
        }
        long t0 = System.nanoTime();
        owner = Thread.currentThread();
        String runId = "none";
        List<LocalDate> planned = List.of();
        try (RunSession s = RunSession.connect(database, config.pgSchema(), context, ledger, clock,
                config.dryRun())) {
            runId = s.runId();
            try {
                Connection c = s.connection();
                if (!Migrations.isInstalled(c, config.pgSchema())) {
                    throw new PipelineException.Failed("Nothing to verify: schema " + config.pgSchema() + " is not"
                            + " set up in " + database.describe() + "; check --pg-schema and --jdbc-url");
                }
                s.start();
                List<Ledger.LoadedDay> days = ledger.days(c).stream().filter(d -> (start == null
                        || !d.day().isBefore(start)) && (end == null || !d.day().isAfter(end))).toList();
                planned = days.stream().map(Ledger.LoadedDay::day).toList();
                Map<LocalDate, OptionalInt> limits = Verifier.limits(days);
                Verifier verifier = new Verifier(source, config.pgSchema(), ledger, clock);
                if (config.dryRun()) {
                    return new VerifyReport(runId, List.of(), planned, millisSince(t0), true,
                            days.isEmpty() ? List.of() : verifier.plan(limits), null, null);
                }
                verifier.checkCost(limits);
                checkStopped();
                VerifyReport report = new VerifyReport(runId, verifier.verify(c, days, this::checkStopped), planned,
                        millisSince(t0), false, List.of(), null, null);
                s.finish(report.outcome(), report.problem(), report.exitCode().value(), 0);
                return report;
            } catch (PipelineException thrown) {
                PipelineException e = bySignal(thrown);
                s.finish(RunReport.outcome(e.exitCode()), e.getMessage(), e.exitCode().value(), 0);
                throw e;
            } catch (SQLException e) {
                PipelineException t = SqlErrors.translate(e, "verifying");
                s.finish(RunReport.outcome(t.exitCode()), t.getMessage(), t.exitCode().value(), 0);
                throw t;
            }
        } catch (PipelineException e) {
            lastVerify = new VerifyReport(runId, List.of(), planned, millisSince(t0), config.dryRun(), List.of(),
                    e.getMessage(), e.exitCode());
            throw e;
        } finally {
            owner = null;
            Thread.interrupted(); // a stop's wake-up call ends with the command
        }
    }

    /** The report of the last verify, when it failed (then with its exit code and error). */
    public Optional<VerifyReport> lastVerify() {
        return Optional.ofNullable(lastVerify);
    }

    /**
     * Reads the ledger. Writes nothing and takes no lock.
     *
     * @throws PipelineException.Failed if the schema is not set up
     */
    public StatusReport status() {
        Connection connection;
        try {
            connection = database.connect(context.applicationName());
        } catch (SQLException e) {
            throw SqlErrors.connectError(e, database.describe()); // as every other command says it
        }
        try (Connection c = connection) {
            if (!Migrations.isInstalled(c, config.pgSchema())) {
                throw new PipelineException.Failed("Nothing to show: schema " + config.pgSchema() + " is not set up in "
                        + database.describe() + "; check --pg-schema and --jdbc-url, or run 'crypto-pipeline setup'");
            }
            Set<LocalDate> partitions = PostgresSink.partitionDays(c, config.pgSchema()).orElseThrow(() ->
                    new PipelineException.Failed("Schema " + config.pgSchema() + " in " + database.describe()
                            + " has its ledger but no token_transfers table (dropped by hand?): restore it from a"
                            + " backup, or load the days again into a new --pg-schema"));
            List<Ledger.LoadedDay> days = ledger.days(c);
            return new StatusReport(config.pgSchema().name(), database.describe(), days, days.stream()
                    .map(Ledger.LoadedDay::day).filter(d -> !partitions.contains(d)).toList(), ledger.lastRun(c),
                    RunLock.holder(c, config.pgSchema()), clock.instant());
        } catch (SQLException e) {
            throw SqlErrors.translate(e, "reading the status");
        }
    }

    /**
     * Stops the run in progress from another thread (a signal handler): the days in flight are rolled back, the days
     * already loaded stay, the run is recorded as interrupted, and the running command throws
     * {@link PipelineException.Interrupted}. Thread safe; idempotent.
     *
     * @param signal the exit code of the signal: {@code HUNG_UP}, {@code INTERRUPTED} or {@code TERMINATED}
     */
    public void stop(ExitCode signal) {
        if (stopped != null) {
            return;
        }
        PipelineException.Interrupted reason = new PipelineException.Interrupted(
                signal.name().toLowerCase(Locale.ROOT).replace('_', ' '), signal);
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
        return run(command, precheck, planner, 0);
    }

    private RunReport run(String command, Precheck precheck,
                          BiFunction<Map<LocalDate, OptionalInt>, LocalDate, DayPlan> planner, int verifyDays) {
        long t0 = System.nanoTime();
        owner = Thread.currentThread();
        List<RunReport.DayLoad> loads = new ArrayList<>();
        List<DayCheck> checks = new ArrayList<>();
        DayPlan plan = new DayPlan(List.of(), List.of(), List.of(), false);
        String runId = "none";
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
                Verifier verifier = new Verifier(source, config.pgSchema(), ledger, clock);
                Map<LocalDate, OptionalInt> toVerify = plan.lastLoaded(loaded, config.queryLimit(), verifyDays);
                if (config.dryRun()) {
                    List<String> lines = new ArrayList<>(plan.toLoad().isEmpty() ? List.of()
                            : source.plan(plan.days(), config.queryLimit()));
                    if (!toVerify.isEmpty()) {
                        lines.addAll(verifier.plan(toVerify));
                    }
                    return remember(new RunReport(command, runId, List.of(), plan.skipped(), plan.unfinished(),
                            millisSince(t0), true, plan.days(), lines, RunReport.Stages.NONE, ExitCode.OK, null));
                }
                source.checkCost(plan.candidates(), config.queryLimit());
                // The days to verify are known before any job: a verify over the cap stops the run before the loads.
                verifier.checkCost(toVerify);
                if (plan.candidates().contains(yesterday())) {
                    plan = planner.apply(loaded, source.lastFinishedDay(clock.instant()));
                }
                checkStopped();
                logPlan(command, plan);
                ledger.planRun(c, runId, plan.toLoad().size());
                jobs = config.jobs() > 0 ? config.jobs() : autoJobs(c);
                progress.planned(runId, plan.toLoad().size());
                StagePipeline.Result result = stagePipeline(s, config.queryLimit(), jobs).run(plan, loads);
                RunReport.Stages busy = result.stages();
                if (verifyDays > 0) {
                    Reloaded reloaded = verifyAndReload(s, verifier, verifyDays, plan, loads, checks, jobs);
                    plan = reloaded.plan();
                    busy = busy.plus(reloaded.stages());
                }
                prune(s);
                RunReport report = new RunReport(command, runId, loads, plan.skipped(), plan.unfinished(),
                        millisSince(t0), false, plan.days(), List.of(), busy, ExitCode.OK, null, checks);
                s.finish("ok", null, 0, loads.size());
                return remember(report);
            } catch (PipelineException e) {
                throw ended(s, command, runId, plan, loads, checks, stages, jobs, t0, e);
            } catch (SQLException e) {
                throw ended(s, command, runId, plan, loads, checks, stages, jobs, t0,
                        SqlErrors.translate(e, "loading"));
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

    /**
     * After the loads: verifies the last {@code n} loaded days against the source, then reloads those that differ,
     * exported afresh, each with the query limit it was loaded with (so a trial stays a trial of the same size), and
     * verifies them once more: a day that still differs right after its reload is not fixed by reloading (the source
     * keeps changing it, or the two fingerprints disagree), and daily must not reload it every day in silence.
     *
     * @return the plan, with the reloaded days added to its days, and how busy the reloads kept the stages
     * @throws PipelineException.DataCheck if a reloaded day still differs
     */
    private Reloaded verifyAndReload(RunSession s, Verifier verifier, int n, DayPlan plan,
                                    List<RunReport.DayLoad> loads, List<DayCheck> checks, int jobs)
            throws SQLException {
        List<Ledger.LoadedDay> all = ledger.days(s.connection());
        List<Ledger.LoadedDay> last = all.subList(Math.max(0, all.size() - n), all.size());
        checks.addAll(verifier.verify(s.connection(), last, this::checkStopped));
        Map<OptionalInt, List<LocalDate>> differ = new TreeMap<>(java.util.Comparator.comparingInt(
                (OptionalInt l) -> l.orElse(Integer.MAX_VALUE)));
        for (DayCheck c : checks) {
            if (c.differs()) {
                differ.computeIfAbsent(c.queryLimit() == null ? OptionalInt.empty() : OptionalInt.of(c.queryLimit()),
                        l -> new ArrayList<>()).add(c.day());
            }
        }
        List<DayPlan.Task> tasks = new ArrayList<>(plan.toLoad());
        RunReport.Stages busy = RunReport.Stages.NONE;
        for (Map.Entry<OptionalInt, List<LocalDate>> group : differ.entrySet()) {
            DayPlan reload = DayPlan.sourceChanged(group.getValue());
            log.warn("Reloading {} day(s) that differ from the source, exported afresh: {}", reload.toLoad().size(),
                    VerifyReport.ranges(reload.days(), 10));
            tasks.addAll(reload.toLoad());
            ledger.planRun(s.connection(), s.runId(), tasks.size());
            busy = busy.plus(stagePipeline(s, group.getKey(), jobs).run(reload, loads).stages());
        }
        if (!differ.isEmpty()) {
            List<LocalDate> reloaded = differ.values().stream().flatMap(List::stream).toList();
            List<DayCheck> still = verifier.verify(s.connection(), ledger.days(s.connection()).stream()
                    .filter(d -> reloaded.contains(d.day())).toList(), this::checkStopped).stream()
                    .filter(DayCheck::differs).toList();
            if (!still.isEmpty()) {
                throw new PipelineException.DataCheck(still.size() + " day(s) still differ from the source right"
                        + " after they were reloaded: " + VerifyReport.listed(still, 10) + "; the source keeps"
                        + " changing them, or the fingerprints of the source and of PostgreSQL disagree (a bug: please"
                        + " report it with 'crypto-pipeline verify --json'); the reloaded data was kept");
            }
        }
        return new Reloaded(new DayPlan(tasks, plan.skipped(), plan.unfinished(), plan.fresh()), busy);
    }

    private record Reloaded(DayPlan plan, RunReport.Stages stages) {
    }

    /**
     * The stage pipeline of this run's session, made the one a stop reaches; a stop that came before it stops it at
     * once.
     */
    private StagePipeline stagePipeline(RunSession s, OptionalInt queryLimit, int jobs) {
        StagePipeline p = new StagePipeline(source, lake, s, ledger, config.pgSchema(), queryLimit, clock, progress,
                new StagePipeline.Settings(jobs, DAYS_PER_EXPORT, config.allowEmpty(), retry));
        stages = p;
        if (stopped != null) {
            p.stop(stopped);
        }
        return p;
    }

    /** Records how a run ended and builds the exception (and report) the caller sees. */
    private PipelineException ended(RunSession s, String command, String runId, DayPlan plan,
                                    List<RunReport.DayLoad> loads, List<DayCheck> checks, StagePipeline pipeline,
                                    int jobs, long t0, PipelineException e) {
        PipelineException shown = bySignal(e);
        if (shown instanceof PipelineException.Interrupted i) {
            shown = new PipelineException.Interrupted("interrupted: " + loads.size() + " of "
                    + plan.toLoad().size() + " day" + (plan.toLoad().size() == 1 ? "" : "s")
                    + " loaded; run again to finish", i.exitCode());
        }
        RunReport report = new RunReport(command, runId, loads, plan.skipped(), plan.unfinished(), millisSince(t0),
                false, plan.days(), List.of(), pipeline == null ? RunReport.Stages.NONE
                : pipeline.stages(jobs), shown.exitCode(), shown.getMessage(), checks);
        remember(report);
        s.finish(report.outcome(), shown.getMessage(), shown.exitCode().value(), loads.size());
        return shown;
    }

    /**
     * An interruption as the signal that stopped the run ends it: code that notices a thread interrupt (a source
     * generating or waiting) throws with Ctrl-C's exit code, whatever the signal was.
     */
    private PipelineException bySignal(PipelineException e) {
        PipelineException.Interrupted signal = stopped;
        if (e instanceof PipelineException.Interrupted && signal != null && e.exitCode() != signal.exitCode()) {
            return new PipelineException.Interrupted(e.getMessage(), signal.exitCode());
        }
        return e;
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
