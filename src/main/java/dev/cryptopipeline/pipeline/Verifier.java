package dev.cryptopipeline.pipeline;

import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.lake.Fingerprint;
import dev.cryptopipeline.sink.PostgresFingerprint;
import dev.cryptopipeline.source.Source;
import dev.cryptopipeline.state.Ledger;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compares loaded days with what the source holds now, by row count and {@link Fingerprint}: the source computes them
 * over the rows an export would load (each day with the {@code --query-limit} it was loaded with, so a trial load is
 * compared with a trial of the same size), PostgreSQL over the rows it holds. Records each day's verification in the
 * ledger and writes nothing else. The caller holds the run lock, so no load changes a day while it is compared. One
 * per run; not thread safe.
 */
final class Verifier {
    private static final Logger log = LoggerFactory.getLogger(Verifier.class);

    private final Source source;
    private final Identifier schema;
    private final Ledger ledger;
    private final Clock clock;

    Verifier(Source source, Identifier schema, Ledger ledger, Clock clock) {
        this.source = source;
        this.schema = schema;
        this.ledger = ledger;
        this.clock = clock;
    }

    /**
     * Checks, spending nothing, that the source's queries for these days stay within its cost cap.
     *
     * @param days each day with the query limit it is (or will be) loaded with
     * @throws dev.cryptopipeline.PipelineException.BadInput if one would exceed it
     */
    void checkCost(Map<LocalDate, OptionalInt> days) {
        byLimit(days).forEach((limit, group) -> source.checkFingerprintCost(group, limit));
    }

    /** What verifying these days would do, for a dry run. */
    List<String> plan(Map<LocalDate, OptionalInt> days) {
        List<String> lines = new ArrayList<>();
        byLimit(days).forEach((limit, group) -> lines.addAll(source.planFingerprints(group, limit)));
        lines.add("postgresql: would compute the fingerprint of " + days.size() + " loaded day"
                + (days.size() == 1 ? "" : "s") + " (one read of each day's partition)");
        return lines;
    }

    /**
     * Compares each day and records the outcome in the ledger (and, at a day's first verification, the loaded rows'
     * fingerprint).
     *
     * @param days         the ledger records of the days, ascending
     * @param checkStopped throws if the run is being stopped
     * @return one check per day, ascending
     */
    List<DayCheck> verify(Connection c, List<Ledger.LoadedDay> days, Runnable checkStopped) throws SQLException {
        if (days.isEmpty()) {
            return List.of();
        }
        long t0 = System.nanoTime();
        Map<LocalDate, Fingerprint.Day> atSource = new TreeMap<>();
        for (Map.Entry<OptionalInt, List<LocalDate>> group : byLimit(limits(days)).entrySet()) {
            checkStopped.run();
            atSource.putAll(source.fingerprints(group.getValue(), group.getKey()));
        }
        long sourceMillis = millisSince(t0);
        List<DayCheck> checks = new ArrayList<>();
        Instant now = clock.instant();
        for (Ledger.LoadedDay d : days) {
            checkStopped.run();
            long started = System.nanoTime();
            Fingerprint.Day loaded = PostgresFingerprint.of(c, schema, d.day());
            Fingerprint.Day at = atSource.getOrDefault(d.day(), Fingerprint.Day.EMPTY);
            boolean changed = d.fingerprint() != null && !d.fingerprint().equals(loaded.sum());
            DayCheck check = new DayCheck(d.day(), d.queryLimit(), at, loaded, changed);
            checks.add(check);
            ledger.markVerified(c, d.day(), d.runId(), loaded.sum(), now, check.outcome().label());
            if (check.differs()) {
                log.warn("Day {} differs from the {} source ({}): the source has {} rows, PostgreSQL {}{}", d.day(),
                        source.name(), check.outcome().label(), at.rows(), loaded.rows(), changed
                                ? "; PostgreSQL's rows changed since the day was first verified" : "");
            } else {
                log.debug("Day {} matches the source: {} rows, fingerprint {} ({} ms in PostgreSQL)", d.day(),
                        loaded.rows(), loaded.sum(), millisSince(started));
            }
        }
        long differing = checks.stream().filter(DayCheck::differs).count();
        log.info("Verified {} day(s) against the {} source: {} match, {} differ; source {} ms, PostgreSQL {} ms",
                checks.size(), source.name(), checks.size() - differing, differing, sourceMillis,
                millisSince(t0) - sourceMillis);
        return checks;
    }

    /** Each loaded day with the query limit it was loaded with, ascending. */
    static Map<LocalDate, OptionalInt> limits(List<Ledger.LoadedDay> days) {
        Map<LocalDate, OptionalInt> limits = new TreeMap<>();
        days.forEach(d -> limits.put(d.day(), d.queryLimit() == null ? OptionalInt.empty()
                : OptionalInt.of(d.queryLimit())));
        return limits;
    }

    /** The days grouped by query limit (usually one group: a limit is for trials), each group ascending. */
    private static Map<OptionalInt, List<LocalDate>> byLimit(Map<LocalDate, OptionalInt> days) {
        Map<OptionalInt, List<LocalDate>> groups = new LinkedHashMap<>();
        new TreeMap<>(days).forEach((day, limit) -> groups.computeIfAbsent(limit, l -> new ArrayList<>()).add(day));
        return groups;
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
