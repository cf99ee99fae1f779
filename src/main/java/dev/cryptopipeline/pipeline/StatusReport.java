package dev.cryptopipeline.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cryptopipeline.state.Ledger;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The state of the target: loaded days, gaps between the first and last loaded day, trial loads, and the last run
 * (shown as {@code abandoned} when it says {@code running} but nobody holds the run lock any more).
 *
 * @param withoutPartition loaded days whose partition is no longer in the table (dropped or detached by hand)
 * @param lockHolder       who holds the run lock now, if anyone
 * @param asOf             when the ledger was read (verifications older than {@value #STALE_DAYS} days before it
 *                         are old)
 */
public record StatusReport(String schema, String database, List<Ledger.LoadedDay> days,
                           List<LocalDate> withoutPartition, Optional<Ledger.Run> lastRun,
                           Optional<String> lockHolder, Instant asOf) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Outcomes that mean the last run failed and needs a look. */
    private static final Set<String> FAILED = Set.of("failed", "data-check", "bad-input");
    /** Days listed in the table; the rest are summarized (--json lists every day). */
    static final int TABLE_DAYS = 14;
    /** A day last verified longer ago than this is shown as not verified recently. */
    public static final int STALE_DAYS = 30;

    public StatusReport {
        days = List.copyOf(days);
        withoutPartition = List.copyOf(withoutPartition);
    }

    /** The state as of now. */
    public StatusReport(String schema, String database, List<Ledger.LoadedDay> days, List<LocalDate> withoutPartition,
                        Optional<Ledger.Run> lastRun, Optional<String> lockHolder) {
        this(schema, database, days, withoutPartition, lastRun, lockHolder, Instant.now());
    }

    /** Loaded days never compared with the source since their load. */
    public List<LocalDate> neverVerified() {
        return days.stream().filter(d -> d.verifiedAt() == null).map(Ledger.LoadedDay::day).toList();
    }

    /** Loaded days last compared with the source more than {@value #STALE_DAYS} days ago. */
    public List<LocalDate> verifiedLongAgo() {
        Instant limit = asOf.minus(java.time.Duration.ofDays(STALE_DAYS));
        return days.stream().filter(d -> d.verifiedAt() != null && d.verifiedAt().isBefore(limit))
                .map(Ledger.LoadedDay::day).toList();
    }

    /** Loaded days that differed from the source when last compared (and were not loaded again since). */
    public List<LocalDate> differing() {
        return days.stream().filter(d -> d.verification() != null && !d.verification().equals("match"))
                .map(Ledger.LoadedDay::day).toList();
    }

    /** A run of consecutive missing days. */
    public record Gap(LocalDate first, LocalDate last) {
        /** How many days are missing. */
        public long days() {
            return ChronoUnit.DAYS.between(first, last) + 1;
        }

        @Override
        public String toString() {
            return (first.equals(last) ? first.toString() : first + ".." + last) + " (" + days()
                    + (days() == 1 ? " day)" : " days)");
        }
    }

    /** Runs of days missing between the first and the last loaded day, ascending. */
    public List<Gap> gaps() {
        List<Gap> gaps = new ArrayList<>();
        for (int i = 1; i < days.size(); i++) {
            LocalDate after = days.get(i - 1).day();
            LocalDate before = days.get(i).day();
            if (after.plusDays(1).isBefore(before)) {
                gaps.add(new Gap(after.plusDays(1), before.minusDays(1)));
            }
        }
        return gaps;
    }

    /** Days loaded with a {@code --query-limit}: partial trial loads. */
    public List<LocalDate> trialDays() {
        return days.stream().filter(Ledger.LoadedDay::trial).map(Ledger.LoadedDay::day).toList();
    }

    /** The last run as it really is: a {@code running} run whose lock is gone ended without saying so. */
    public Optional<Ledger.Run> effectiveLastRun() {
        return lastRun.map(r -> r.outcome().equals("running") && lockHolder.isEmpty()
                ? new Ledger.Run(r.runId(), r.command(), r.arguments(), r.host(), r.pid(), r.startedAt(),
                r.finishedAt(), "abandoned", "ended without recording an outcome (killed, or the machine stopped)",
                r.exitCode(), r.daysPlanned(), r.daysLoaded())
                : r);
    }

    /**
     * What a monitoring check should complain about, if anything: nothing loaded, the newest loaded day older than
     * {@code maxAgeDays} before {@code today} (UTC), gaps, days that differed from the source when last verified, or
     * a failed last run.
     */
    public Optional<String> problem(LocalDate today, int maxAgeDays) {
        if (days.isEmpty()) {
            return Optional.of("nothing is loaded into schema " + schema);
        }
        List<String> problems = new ArrayList<>();
        LocalDate newest = days.get(days.size() - 1).day();
        long age = ChronoUnit.DAYS.between(newest, today);
        if (age > maxAgeDays) {
            problems.add("the newest loaded day " + newest + " is " + age + " days old (more than " + maxAgeDays + ")");
        }
        List<Gap> gaps = gaps();
        if (!gaps.isEmpty()) {
            problems.add(gaps.stream().mapToLong(Gap::days).sum() + " day(s) missing: " + describe(gaps, 3));
        }
        if (!withoutPartition.isEmpty()) {
            problems.add(withoutPartitionText(3));
        }
        List<LocalDate> differing = differing();
        if (!differing.isEmpty()) {
            problems.add(differing.size() + " day(s) differed from the source when last verified: "
                    + VerifyReport.ranges(differing, 3) + " (reload them)");
        }
        effectiveLastRun().filter(r -> FAILED.contains(r.outcome())).ifPresent(r -> problems.add("the last run ("
                + r.command() + ", started " + iso(r.startedAt()) + ") ended " + r.outcome()
                + (r.error() == null ? "" : ": " + r.error())));
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    /**
     * One JSON object: {@code {"schema", "days":[{"day","rows","loaded_at","reason","query_limit"?,"verified_at",
     * "verification"}], "verification":{"stale_after_days","never_verified":[...],"verified_long_ago":[...],
     * "differing":[...]}, "gaps":[{"from","to","days"}], "without_partition":[...], "trial_days":[...],
     * "last_run":{...} or null, "lock_holder": ... or null}}, days ascending, times ISO-8601 UTC.
     */
    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode ds = root.putArray("days");
        for (Ledger.LoadedDay d : days) {
            ObjectNode n = ds.addObject();
            n.put("day", d.day().toString());
            n.put("rows", d.rows());
            n.put("loaded_at", iso(d.loadedAt()));
            n.put("source", d.source());
            n.put("reason", d.reason());
            if (d.queryLimit() != null) {
                n.put("query_limit", d.queryLimit());
            }
            n.put("verified_at", d.verifiedAt() == null ? null : iso(d.verifiedAt()));
            n.put("verification", d.verification());
        }
        ObjectNode v = root.putObject("verification");
        v.put("stale_after_days", STALE_DAYS);
        ArrayNode never = v.putArray("never_verified");
        neverVerified().forEach(d -> never.add(d.toString()));
        ArrayNode old = v.putArray("verified_long_ago");
        verifiedLongAgo().forEach(d -> old.add(d.toString()));
        ArrayNode differ = v.putArray("differing");
        differing().forEach(d -> differ.add(d.toString()));
        ArrayNode gs = root.putArray("gaps");
        gaps().forEach(g -> gs.addObject().put("from", g.first().toString()).put("to", g.last().toString())
                .put("days", g.days()));
        ArrayNode wp = root.putArray("without_partition");
        withoutPartition.forEach(d -> wp.add(d.toString()));
        ArrayNode ts = root.putArray("trial_days");
        trialDays().forEach(d -> ts.add(d.toString()));
        Optional<Ledger.Run> run = effectiveLastRun();
        if (run.isPresent()) {
            Ledger.Run r = run.get();
            ObjectNode n = root.putObject("last_run");
            n.put("command", r.command());
            n.put("run_id", r.runId());
            n.put("started_at", iso(r.startedAt()));
            n.put("finished_at", r.finishedAt() == null ? null : iso(r.finishedAt()));
            n.put("outcome", r.outcome());
            if (r.exitCode() != null) {
                n.put("exit_code", r.exitCode());
            }
            if (r.daysPlanned() != null) {
                n.put("days_planned", r.daysPlanned());
            }
            if (r.daysLoaded() != null) {
                n.put("days_loaded", r.daysLoaded());
            }
            if (r.error() != null) {
                n.put("error", r.error());
            }
        } else {
            root.putNull("last_run");
        }
        if (lockHolder.isPresent()) {
            root.put("lock_holder", lockHolder.get());
        } else {
            root.putNull("lock_holder");
        }
        root.put("schema", schema);
        return root.toString();
    }

    private String withoutPartitionText(int max) {
        return withoutPartition.size() + " loaded day(s) have no partition in " + schema + ".token_transfers (dropped"
                + " or detached by hand?): " + VerifyReport.ranges(withoutPartition, max) + "; load them again with"
                + " 'crypto-pipeline backfill --reload --start-date " + withoutPartition.get(0) + " --end-date "
                + withoutPartition.get(withoutPartition.size() - 1) + "'";
    }

    /** A readable table for a terminal: a summary, then the last {@value #TABLE_DAYS} days. */
    public String toTable() {
        StringBuilder b = new StringBuilder();
        b.append("Target:   ").append(database).append(", schema ").append(schema).append('\n');
        long total = days.stream().mapToLong(Ledger.LoadedDay::rows).sum();
        b.append("Loaded:   ").append(days.size()).append(days.size() == 1 ? " day, " : " days, ").append(total)
                .append(" rows").append(days.isEmpty() ? ""
                        : ", " + days.get(0).day() + ".." + days.get(days.size() - 1).day()).append('\n');
        List<Gap> gaps = gaps();
        b.append("Gaps:     ").append(gaps.isEmpty() ? "none" : gaps.stream().mapToLong(Gap::days).sum()
                + " day(s) missing: " + describe(gaps, 10)).append('\n');
        if (!withoutPartition.isEmpty()) {
            b.append("Missing:  ").append(withoutPartitionText(10)).append('\n');
        }
        List<LocalDate> trials = trialDays();
        if (!trials.isEmpty()) {
            b.append("Trials:   ").append(trials.size()).append(" day(s) loaded with --query-limit (partial): ")
                    .append(trials.size() == 1 ? trials.get(0) : trials.get(0) + " .. " + trials.get(trials.size() - 1))
                    .append("; a backfill over them without --query-limit loads them fully\n");
        }
        if (!days.isEmpty()) {
            b.append("Verified: ").append(verificationSummary()).append('\n');
        }
        effectiveLastRun().ifPresentOrElse(r -> b.append("Last run: ").append(r.command()).append(' ')
                        .append(r.outcome()).append(", started ").append(iso(r.startedAt()))
                        .append(r.finishedAt() == null ? "" : ", finished " + iso(r.finishedAt()))
                        .append(r.daysPlanned() == null || r.daysLoaded() == null ? ""
                                : ", " + r.daysLoaded() + " of " + r.daysPlanned() + " day(s) loaded")
                        .append(r.error() == null ? "" : ": " + r.error()).append('\n'),
                () -> b.append("Last run: none\n"));
        lockHolder.ifPresent(h -> b.append("Running:  ").append(h).append('\n'));
        if (!days.isEmpty()) {
            List<Ledger.LoadedDay> shown = days.subList(Math.max(0, days.size() - TABLE_DAYS), days.size());
            b.append('\n').append(String.format(Locale.ROOT, "%-10s  %10s  %-20s  %-9s  %-6s  %-22s  %s%n", "day",
                    "rows", "loaded_at", "source", "limit", "reason", "verified"));
            if (shown.size() < days.size()) {
                b.append("(").append(days.size() - shown.size()).append(" earlier days not shown; --json lists all)\n");
            }
            for (Ledger.LoadedDay d : shown) {
                b.append(String.format(Locale.ROOT, "%-10s  %10d  %-20s  %-9s  %-6s  %-22s  %s%n", d.day(), d.rows(),
                        iso(d.loadedAt()), d.source(), d.queryLimit() == null ? "-" : d.queryLimit() + "*",
                        d.reason() == null ? "-" : d.reason(), d.verifiedAt() == null ? "never"
                                : d.verifiedAt().toString().substring(0, 10) + " " + d.verification()));
            }
            if (!trials.isEmpty()) {
                b.append("* a trial load: at most that many rows of the day\n");
            }
        }
        return b.toString();
    }

    /** How recently the loaded days were compared with the source, in one line. */
    private String verificationSummary() {
        List<LocalDate> never = neverVerified();
        if (never.size() == days.size()) {
            return (days.size() == 1 ? "not yet" : "none of the " + days.size() + " loaded days yet")
                    + ": run 'crypto-pipeline verify', or daily with --verify-days N";
        }
        List<LocalDate> old = verifiedLongAgo();
        List<LocalDate> differing = differing();
        StringBuilder b = new StringBuilder().append(days.size() - never.size() - old.size()).append(" of ")
                .append(days.size()).append(" days in the last ").append(STALE_DAYS).append(" days");
        if (!never.isEmpty()) {
            b.append("; never: ").append(never.size()).append(" (").append(VerifyReport.ranges(never, 3)).append(')');
        }
        if (!old.isEmpty()) {
            b.append("; over ").append(STALE_DAYS).append(" days ago: ").append(old.size()).append(" (")
                    .append(VerifyReport.ranges(old, 3)).append(')');
        }
        if (!differing.isEmpty()) {
            b.append("; differed from the source: ").append(VerifyReport.ranges(differing, 5))
                    .append(" (reload: daily --date D, or backfill --reload)");
        }
        return b.toString();
    }

    private static String describe(List<Gap> gaps, int max) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < Math.min(max, gaps.size()); i++) {
            b.append(i == 0 ? "" : ", ").append(gaps.get(i));
        }
        if (gaps.size() > max) {
            b.append(" and ").append(gaps.size() - max).append(" more gaps");
        }
        return b.toString();
    }

    private static String iso(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
