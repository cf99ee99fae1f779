package dev.cryptopipeline.pipeline;

import dev.cryptopipeline.Backoff;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LakeLayout;
import dev.cryptopipeline.lake.Manifest;
import dev.cryptopipeline.sink.ConnectionPool;
import dev.cryptopipeline.sink.PostgresSink;
import dev.cryptopipeline.source.Source;
import dev.cryptopipeline.state.Ledger;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stages of a loading run, overlapped: one thread exports (source → lake) day after day, handing each day over as
 * soon as it is in the lake, while up to {@code jobs} days load at once (lake → PostgreSQL), each on its own pooled
 * connection and in its own transaction. The export runs at most a few days ahead of the loads, so the lake never
 * fills with days waiting to load.
 *
 * <p>Days commit in plan order: a day that is copied and checked waits, holding no lock on the target table, until
 * the days before it have committed. So after a crash or a failure the loaded days are always a prefix of the plan,
 * and a later run (even {@code daily}) finishes exactly the rest. When the export fails, the days already exported
 * still load; when a day's load fails, the days after it are cancelled (rolled back) and the days before it finish;
 * {@link #stop} (a signal) cancels every load in flight. Then the first failure is thrown. One instance per run.
 */
final class StagePipeline {
    private static final Logger log = LoggerFactory.getLogger(StagePipeline.class);

    /**
     * @param jobs          days loaded at once
     * @param daysPerExport days handed to the source in one piece of bulk work
     * @param allowEmpty    whether an empty export may replace a loaded non-empty day
     */
    record Settings(int jobs, int daysPerExport, boolean allowEmpty, Pipeline.Retry retry) {
    }

    private final Source source;
    private final Lake lake;
    private final RunSession session;
    private final Ledger ledger;
    private final Identifier schema;
    private final OptionalInt queryLimit;
    private final Clock clock;
    private final Progress progress;
    private final Settings settings;

    private final Object monitor = new Object();
    private final Map<Integer, Manifest> exported = new HashMap<>();
    private final Map<Integer, Connection> active = new ConcurrentHashMap<>();
    private final Map<Integer, Thread> loading = new ConcurrentHashMap<>();
    private List<DayPlan.Task> tasks = List.of();
    private Map<LocalDate, Integer> index = Map.of();
    /** The index of the last day committed, in plan order. */
    private int committed = -1;
    private boolean exportDone;
    private RuntimeException failure;
    /** No more days are started: a failure or a stop. */
    private volatile boolean aborted;
    /** Days at or after this index are abandoned (rolled back); all of them after a stop. */
    private volatile int stopAt = Integer.MAX_VALUE;
    private Thread exporter;
    private long exportMillis;
    private final AtomicInteger loadedCount = new AtomicInteger();
    private long loadMillis;
    private long rows;
    private long firstLoadedMillis = -1;
    private long t0;

    StagePipeline(Source source, Lake lake, RunSession session, Ledger ledger, Identifier schema,
                  OptionalInt queryLimit, Clock clock, Progress progress, Settings settings) {
        this.source = source;
        this.lake = lake;
        this.session = session;
        this.ledger = ledger;
        this.schema = schema;
        this.queryLimit = queryLimit;
        this.clock = clock;
        this.progress = progress;
        this.settings = settings;
    }

    /** What the run did: the loads in day order, and how busy each stage was. */
    record Result(List<RunReport.DayLoad> loads, RunReport.Stages stages) {
    }

    /**
     * Exports and loads the plan's days.
     *
     * @param loads receives each load as it commits, so a caller knows what was done even when this throws
     * @throws PipelineException the first failure; the days committed before it stay loaded
     */
    Result run(DayPlan plan, List<RunReport.DayLoad> loads) {
        t0 = System.nanoTime();
        tasks = plan.toLoad();
        Map<LocalDate, Integer> idx = new HashMap<>();
        for (int i = 0; i < tasks.size(); i++) {
            idx.put(tasks.get(i).day(), i);
        }
        index = idx;
        if (tasks.isEmpty()) {
            return new Result(List.of(), RunReport.Stages.NONE);
        }
        int jobs = Math.max(1, Math.min(settings.jobs(), tasks.size()));
        // A connection within the retry's longest wait (at most 10 s): when the server is down, the retry loop waits.
        ConnectionPool pool = session.pool(jobs, Math.min(10_000, settings.retry().maxDelay().toMillis()));
        pool.warmUp();
        Source.ExportRequest request = new Source.ExportRequest(session.runId(), queryLimit, plan.fresh());
        exporter = new Thread(() -> export(plan, request), "export");
        exporter.setDaemon(true);
        exporter.start();
        ExecutorService workers = Executors.newFixedThreadPool(jobs, r -> {
            Thread t = new Thread(r, "load");
            t.setDaemon(true);
            return t;
        });
        List<Future<?>> futures = new ArrayList<>();
        try {
            for (int next = 0; next < tasks.size(); next++) {
                Manifest m = awaitExport(next);
                if (m == null) {
                    break;
                }
                int i = next;
                futures.add(workers.submit(() -> {
                    loading.put(i, Thread.currentThread());
                    try {
                        load(i, m, pool, loads);
                    } catch (RuntimeException e) {
                        fail(e, i);
                    } catch (Error e) {
                        fail(unexpected(e), i);
                    } finally {
                        loading.remove(i);
                        Thread.interrupted(); // a stop's wake-up call must not outlive this day
                    }
                }));
            }
        } catch (PipelineException.Interrupted e) {
            fail(e, 0);
        } finally {
            // Every load ends (committed, or rolled back) before the run does.
            for (Future<?> f : futures) {
                awaitQuietly(f);
            }
            workers.shutdown();
            stopExporter();
        }
        synchronized (monitor) {
            if (failure != null) {
                throw failure;
            }
        }
        log.info("Run {}: {} day(s), {} rows in {} ms; export busy {} ms, load busy {} ms ({} at once), first day"
                        + " loaded after {} ms", session.runId(), loads.size(), rows, millisSince(t0), exportMillis,
                loadMillis, jobs, firstLoadedMillis);
        return new Result(List.copyOf(loads), stages(jobs));
    }

    /** How busy the stages were so far. */
    RunReport.Stages stages(int jobs) {
        synchronized (monitor) {
            return new RunReport.Stages(exportMillis, loadMillis, firstLoadedMillis, jobs);
        }
    }

    /**
     * Stops the run from another thread (a signal): loads in flight are cancelled and rolled back, the export stops,
     * and {@link #run} throws {@code reason}. Idempotent.
     */
    void stop(PipelineException.Interrupted reason) {
        fail(reason, 0);
    }

    /**
     * Records the first failure and stops starting days; the days from index {@code from} on are abandoned (their
     * statements cancelled, rolled back), the ones before it finish.
     */
    private void fail(RuntimeException e, int from) {
        synchronized (monitor) {
            if (failure == null && !(e instanceof Aborted)) {
                failure = e;
            }
            aborted = true;
            stopAt = Math.min(stopAt, from);
            monitor.notifyAll();
        }
        // Cancel the statements in flight (COPY, index builds) so the run ends in seconds, rolled back; and wake
        // a load waiting on the lake (a stalled read) or on a retry.
        for (var a : active.entrySet()) {
            if (a.getKey() >= stopAt) {
                try {
                    a.getValue().unwrap(PGConnection.class).cancelQuery();
                } catch (SQLException | RuntimeException ignored) {
                    // the connection is gone already: nothing to cancel
                }
            }
        }
        for (var l : loading.entrySet()) {
            if (l.getKey() >= stopAt && l.getValue() != Thread.currentThread()) {
                l.getValue().interrupt();
            }
        }
        Thread t = exporter;
        if (t != null && t != Thread.currentThread()) {
            t.interrupt();
        }
    }

    /** An error no stage should meet (a broken installation, no memory): the run ends, never hangs. */
    private static PipelineException unexpected(Error e) {
        return new PipelineException.Failed("Unexpected error: " + e + "; the days in flight were rolled back (check"
                + " the installation, or run with -v)", e);
    }

    /** Thrown inside a load that is abandoned because the run is stopping; never reported. */
    private static final class Aborted extends RuntimeException {
        Aborted() {
            super("aborted", null, false, false);
        }
    }

    // ---- the export stage ----

    private void export(DayPlan plan, Source.ExportRequest request) {
        try {
            for (List<LocalDate> chunk : plan.chunks(settings.daysPerExport())) {
                if (aborted) {
                    return;
                }
                long started = System.nanoTime();
                java.util.concurrent.atomic.AtomicLong waited = new java.util.concurrent.atomic.AtomicLong();
                source.export(chunk, request, lake, m -> waited.addAndGet(handOver(m)));
                synchronized (monitor) {
                    exportMillis += Math.max(0, millisSince(started) - waited.get());
                }
            }
            synchronized (monitor) {
                exportDone = true;
                monitor.notifyAll();
            }
        } catch (Aborted e) {
            // the run is stopping
        } catch (PipelineException.Interrupted e) {
            if (!aborted) {
                fail(e, 0);
            }
        } catch (RuntimeException e) {
            // The days already handed over still load; nothing after them is exported.
            fail(aborted ? new Aborted() : e, Integer.MAX_VALUE);
        } catch (Error e) {
            fail(unexpected(e), Integer.MAX_VALUE);
        }
    }

    /** Hands an exported day to the loads, waiting while it is too far ahead of them; returns the millis waited. */
    private long handOver(Manifest m) {
        Integer i = index.get(m.day());
        if (i == null) {
            throw new PipelineException.DataCheck("The " + source.name() + " source exported " + m.day()
                    + ", a day this run did not ask for; nothing was loaded from it");
        }
        progress.exported(m.day(), m.rows());
        long started = System.nanoTime();
        int ahead = settings.jobs() + 1;
        synchronized (monitor) {
            while (!aborted && i > committed + ahead) {
                waitOn();
            }
            if (aborted) {
                throw new Aborted();
            }
            exported.putIfAbsent(i, m);
            monitor.notifyAll();
        }
        return millisSince(started);
    }

    /**
     * The next day to load, once exported; null when the run stops starting days (a day that was exported before an
     * export failure is still handed out, as long as it is not abandoned).
     */
    private Manifest awaitExport(int i) {
        synchronized (monitor) {
            while (!exported.containsKey(i) && !exportDone && !aborted) {
                waitOn();
            }
            if (i >= stopAt) {
                return null;
            }
            if (exported.containsKey(i)) {
                return exported.remove(i);
            }
            if (aborted) {
                return null;
            }
        }
        fail(new PipelineException.DataCheck("The " + source.name() + " source finished without exporting "
                + tasks.get(i).day() + "; nothing was loaded for it; run again"), i);
        return null;
    }

    private void stopExporter() {
        Thread t = exporter;
        if (t == null) {
            return;
        }
        if (aborted) {
            t.interrupt();
        }
        try {
            t.join(TimeUnit.SECONDS.toMillis(aborted ? 30 : 3600));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            log.warn("The export stage did not stop within 30 s; leaving it behind (a later run reuses or redoes"
                    + " its work)");
        }
    }

    // ---- the load stage ----

    /**
     * Loads one day, retrying a transient database failure (lost connection, server restart, serialization failure,
     * lack of resources) on a new connection. The day's load is one transaction, so a retry starts from the old day,
     * never from half of the new one.
     */
    private void load(int i, Manifest exportedManifest, ConnectionPool pool, List<RunReport.DayLoad> loads) {
        DayPlan.Task task = tasks.get(i);
        LocalDate day = task.day();
        Pipeline.Retry retry = settings.retry();
        Backoff backoff = new Backoff(retry.firstDelay(), retry.maxDelay());
        for (int attempt = 1; ; attempt++) {
            if (i >= stopAt) {
                return;
            }
            Connection c = null;
            boolean broken = false;
            try {
                c = borrowInTurn(i, pool);
                if (i >= stopAt) {
                    return;
                }
                // Load what the lake holds, checked against the manifest the lake holds: the commit marker.
                Manifest m = LakeLayout.readManifest(lake, day, exportedManifest.runId());
                refuseEmptyReplacement(c, m);
                String runFolder = LakeLayout.runPrefix(day, m.runId());
                PostgresSink.LoadResult r = new PostgresSink(c, schema).load(lake, m,
                        () -> awaitTurn(i),
                        (tx, n) -> ledger.markLoaded(tx, new Ledger.LoadedDay(day, n, m.source(), runFolder,
                                m.sourceJobs(), m.queryLimit(), clock.instant(), session.runId(),
                                task.reason().label())));
                RunReport.DayLoad done = new RunReport.DayLoad(r.day(), r.rows(), r.bytes(), r.millis(), r.replaced(),
                        task.reason().label());
                committed(i, done, loads);
                return;
            } catch (SQLException e) {
                if (i >= stopAt) {
                    return;
                }
                broken = true;
                if (!SqlErrors.transientFailure(e) || attempt >= retry.attempts()) {
                    throw SqlErrors.translate(e, "loading " + day);
                }
                Optional<String> lost = session.lost();
                if (lost.isPresent()) {
                    throw new PipelineException.TryLater("PostgreSQL failed while loading " + day + " ("
                            + e.getSQLState() + ": " + SqlErrors.firstLine(e) + "): " + lost.get() + "; the old data"
                            + " is intact", e);
                }
                long wait = backoff.next();
                log.warn("PostgreSQL failed while loading {} ({}: {}); the day is rolled back, retry {} of {} in {} ms",
                        day, e.getSQLState(), SqlErrors.firstLine(e), attempt, retry.attempts() - 1, wait);
                sleep(wait);
            } catch (Aborted e) {
                return;
            } catch (RuntimeException e) {
                if (i >= stopAt) {
                    return;
                }
                throw e;
            } finally {
                active.remove(i);
                release(pool, c, broken);
            }
        }
    }

    /**
     * A connection for day {@code i}, borrowed only once every earlier day not yet committed holds one. A day that is
     * loaded waits for the days before it to commit, holding its connection; if later days could take the pool's last
     * connections first (the pool hands a returned connection back to the thread that returned it, and the server
     * may refuse more), an earlier day would wait for a connection that only its own commit frees.
     */
    private Connection borrowInTurn(int i, ConnectionPool pool) throws SQLException {
        synchronized (monitor) {
            while (i < stopAt && !earlierDaysHoldConnections(i)) {
                waitOn();
            }
            if (i >= stopAt) {
                throw new Aborted();
            }
        }
        Connection c = pool.borrow();
        synchronized (monitor) {
            active.put(i, c);
            monitor.notifyAll();
        }
        return c;
    }

    /** Whether every day before {@code i} that is not committed yet holds a connection. Under the monitor. */
    private boolean earlierDaysHoldConnections(int i) {
        for (int j = committed + 1; j < i; j++) {
            if (!active.containsKey(j)) {
                return false;
            }
        }
        return true;
    }

    /** Refuses to replace a loaded non-empty day with an empty export, unless allowed. */
    private void refuseEmptyReplacement(Connection c, Manifest m) throws SQLException {
        if (m.rows() > 0 || settings.allowEmpty()) {
            return;
        }
        Optional<Long> loaded = ledger.rowsOf(c, m.day());
        if (loaded.isPresent() && loaded.get() > 0) {
            throw new PipelineException.DataCheck("Day " + m.day() + ": the new export (" + lake.location() + "/"
                    + LakeLayout.runPrefix(m.day(), m.runId()) + ") has no rows, but " + loaded.get()
                    + " rows are loaded; the loaded day was kept. If the source really has no transfers that day,"
                    + " run again with --allow-empty");
        }
    }

    /** Inside a day's transaction, before its swap: waits until the days before it have committed. */
    private void awaitTurn(int i) throws SQLException {
        synchronized (monitor) {
            while (i < stopAt && committed < i - 1) {
                waitOn();
            }
            if (i >= stopAt) {
                throw new Aborted();
            }
        }
        session.ensureLock();
    }

    private void committed(int i, RunReport.DayLoad done, List<RunReport.DayLoad> loads) {
        int n;
        long total;
        synchronized (monitor) {
            committed = i;
            loads.add(done);
            loadMillis += done.millis();
            rows += done.rows();
            total = rows;
            if (firstLoadedMillis < 0) {
                firstLoadedMillis = millisSince(t0);
            }
            monitor.notifyAll();
        }
        n = loadedCount.incrementAndGet();
        log.info("Day {} done ({} of {}): {} rows, {} bytes in {} ms ({}); run {}", done.day(), n, tasks.size(),
                done.rows(), done.bytes(), done.millis(), done.reason(), session.runId());
        progress.loaded(done, n, tasks.size(), total);
    }

    private static void release(ConnectionPool pool, Connection c, boolean broken) {
        if (c == null) {
            return;
        }
        if (broken) {
            pool.discard(c);
        }
        try {
            c.close();
        } catch (SQLException e) {
            log.debug("Returning a connection: {}", e.getMessage());
        }
    }

    private void sleep(long millis) {
        synchronized (monitor) {
            long end = System.currentTimeMillis() + millis;
            for (long left = millis; left > 0 && stopAt == Integer.MAX_VALUE; left = end - System.currentTimeMillis()) {
                try {
                    monitor.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new Aborted();
                }
            }
        }
    }

    private void waitOn() {
        try {
            monitor.wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PipelineException.Interrupted("Interrupted");
        }
    }

    private void awaitQuietly(Future<?> f) {
        while (true) {
            try {
                f.get();
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                return; // the task reported its failure itself
            } catch (java.util.concurrent.CancellationException e) {
                return;
            } catch (InterruptedException e) {
                // The main thread interrupted (a signal): stop everything, then keep waiting for the loads to end.
                fail(new PipelineException.Interrupted("Interrupted"), 0);
            }
        }
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
