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
 * @param lockHolder who holds the run lock now, if anyone
 */
public record StatusReport(String schema, String database, List<Ledger.LoadedDay> days,
                           Optional<Ledger.Run> lastRun, Optional<String> lockHolder) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Outcomes that mean the last run failed and needs a look. */
    private static final Set<String> FAILED = Set.of("failed", "data-check", "bad-input");
    /** Days listed in the table; the rest are summarized (--json lists every day). */
    static final int TABLE_DAYS = 14;

    public StatusReport {
        days = List.copyOf(days);
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
     * {@code maxAgeDays} before {@code today} (UTC), gaps, or a failed last run.
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
        effectiveLastRun().filter(r -> FAILED.contains(r.outcome())).ifPresent(r -> problems.add("the last run ("
                + r.command() + ", started " + iso(r.startedAt()) + ") ended " + r.outcome()
                + (r.error() == null ? "" : ": " + r.error())));
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    /**
     * One JSON object: {@code {"schema", "days":[{"day","rows","loaded_at","reason","query_limit"?}],
     * "gaps":[{"from","to","days"}], "trial_days":[...], "last_run":{...} or null, "lock_holder": ... or null}}, days
     * ascending, times ISO-8601 UTC.
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
        }
        ArrayNode gs = root.putArray("gaps");
        gaps().forEach(g -> gs.addObject().put("from", g.first().toString()).put("to", g.last().toString())
                .put("days", g.days()));
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
        List<LocalDate> trials = trialDays();
        if (!trials.isEmpty()) {
            b.append("Trials:   ").append(trials.size()).append(" day(s) loaded with --query-limit (partial): ")
                    .append(trials.size() == 1 ? trials.get(0) : trials.get(0) + " .. " + trials.get(trials.size() - 1))
                    .append("; a backfill over them without --query-limit loads them fully\n");
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
            b.append('\n').append(String.format(Locale.ROOT, "%-10s  %10s  %-20s  %-9s  %-6s  %s%n", "day", "rows",
                    "loaded_at", "source", "limit", "reason"));
            if (shown.size() < days.size()) {
                b.append("(").append(days.size() - shown.size()).append(" earlier days not shown; --json lists all)\n");
            }
            for (Ledger.LoadedDay d : shown) {
                b.append(String.format(Locale.ROOT, "%-10s  %10d  %-20s  %-9s  %-6s  %s%n", d.day(), d.rows(),
                        iso(d.loadedAt()), d.source(), d.queryLimit() == null ? "-" : d.queryLimit() + "*",
                        d.reason() == null ? "-" : d.reason()));
            }
            if (!trials.isEmpty()) {
                b.append("* a trial load: at most that many rows of the day\n");
            }
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
