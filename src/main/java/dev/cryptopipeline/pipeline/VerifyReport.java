package dev.cryptopipeline.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cryptopipeline.ExitCode;
import dev.cryptopipeline.PipelineException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What {@code verify} found, whether it finished or not.
 *
 * @param runId    the run's id
 * @param checks   one per verified day, ascending
 * @param planned  the days it set out to verify
 * @param millis   wall time
 * @param dryRun   true if nothing was done: {@code plan} says what would be
 * @param plan     the work, SQL and estimated cost (dry run only)
 * @param error    the one-line error that ended it, or null
 * @param errorCode the exit code of that error, or null
 */
public record VerifyReport(String runId, List<DayCheck> checks, List<LocalDate> planned, long millis, boolean dryRun,
                           List<String> plan, String error, ExitCode errorCode) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public VerifyReport {
        checks = List.copyOf(checks);
        planned = List.copyOf(planned);
        plan = List.copyOf(plan);
        Objects.requireNonNull(runId, "runId");
    }

    /** The same report, ended by {@code e}. */
    VerifyReport failedWith(PipelineException e) {
        return new VerifyReport(runId, checks, planned, millis, dryRun, plan, e.getMessage(), e.exitCode());
    }

    /** The days that differ from the source. */
    public List<DayCheck> differing() {
        return checks.stream().filter(DayCheck::differs).toList();
    }

    /** 0 when every day matches, 3 when one differs, else the error's code. */
    public ExitCode exitCode() {
        if (errorCode != null) {
            return errorCode;
        }
        return differing().isEmpty() ? ExitCode.OK : ExitCode.DATA_CHECK;
    }

    /** The ledger's word for how it ended. */
    public String outcome() {
        return RunReport.outcome(exitCode());
    }

    /** The one line recorded as the run's error: the failure, or the days that differ; null if all is well. */
    public String problem() {
        if (error != null) {
            return error;
        }
        List<DayCheck> bad = differing();
        if (bad.isEmpty()) {
            return null;
        }
        return bad.size() + " of " + plural(checks.size(), "day") + (bad.size() == 1 ? " differs" : " differ")
                + " from the source: " + listed(bad, 10) + (bad.size() == 1 ? "; reload it with 'crypto-pipeline"
                + " daily --date " + bad.get(0).day() + "'" : "; reload them with 'crypto-pipeline daily --date D'"
                + " for each, 'backfill --reload' for a range, or let 'daily --verify-days N' do it");
    }

    /**
     * The table of the days that differ (source rows, loaded rows, what differs) and the days that match, then the
     * summary line.
     */
    public String toTable() {
        StringBuilder b = new StringBuilder();
        List<DayCheck> bad = differing();
        if (!bad.isEmpty()) {
            b.append(String.format(Locale.ROOT, "%-11s  %12s  %12s  %s%n", "day", "source_rows", "loaded_rows",
                    "differs"));
            for (DayCheck c : bad) {
                b.append(String.format(Locale.ROOT, "%-11s  %12d  %12d  %s%s%n", c.day() + (c.trial() ? "*" : ""),
                        c.source().rows(), c.loaded().rows(), c.outcome() == DayCheck.Outcome.ROWS ? "rows" : "content",
                        c.loadedChanged() ? " (PostgreSQL's rows changed since the day was first verified)" : ""));
            }
        }
        List<LocalDate> good = checks.stream().filter(c -> !c.differs()).map(DayCheck::day).toList();
        if (!good.isEmpty() && !bad.isEmpty()) {
            b.append("match: ").append(plural(good.size(), "day")).append(": ").append(ranges(good, 20))
                    .append('\n');
        }
        long trials = checks.stream().filter(DayCheck::trial).count();
        if (trials > 0) {
            b.append("* a trial load");
            if (trials > bad.stream().filter(DayCheck::trial).count()) {
                b.append(" (").append(plural((int) trials, "trial day")).append(" in all)");
            }
            b.append(": compared with the source limited to the same --query-limit\n");
        }
        return b.append(summaryLine()).append('\n').toString();
    }

    /**
     * One line, e.g. {@code verify: all 30 days match the source (2024-01-01..2024-01-30) in 2.1 s}, then the plan's
     * lines for a dry run.
     */
    public String summaryLine() {
        StringBuilder b = new StringBuilder("verify: ");
        List<DayCheck> bad = differing();
        if (exitCode().stoppedBySignal()) {
            b.append("interrupted after ").append(checks.size()).append(" of ").append(plural(planned.size(), "day"));
        } else if (dryRun) {
            b.append("dry run, nothing changed: ").append(planned.isEmpty() ? "nothing to verify"
                    : "would verify " + plural(planned.size(), "loaded day") + " " + ranges(planned, 5));
        } else if (error != null) {
            b.append("failed after ").append(checks.size()).append(" of ").append(plural(planned.size(), "day"))
                    .append(": ").append(error);
        } else if (checks.isEmpty()) {
            b.append("nothing to verify (no loaded day in the range)");
        } else if (bad.isEmpty()) {
            b.append(checks.size() == 1 ? "the day matches" : "all " + checks.size() + " days match")
                    .append(" the source (").append(ranges(checks.stream().map(DayCheck::day).toList(), 5))
                    .append(')');
        } else {
            b.append(problem());
        }
        b.append(String.format(Locale.ROOT, " in %.1f s", millis / 1000.0));
        plan.forEach(line -> b.append('\n').append(line));
        return b.toString();
    }

    /**
     * One JSON object: {@code command, run_id, outcome, exit_code, dry_run, days_planned, days_verified,
     * days_differing, seconds, days[{day, result, source_rows, loaded_rows, source_fingerprint, loaded_fingerprint,
     * query_limit?, loaded_changed?}], differing[], error}; fingerprints are decimal strings (they exceed 2^53).
     */
    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("command", "verify");
        root.put("run_id", runId);
        root.put("outcome", outcome());
        root.put("exit_code", exitCode().value());
        root.put("dry_run", dryRun);
        root.put("days_planned", planned.size());
        root.put("days_verified", checks.size());
        root.put("days_differing", differing().size());
        root.put("seconds", millis / 1000.0);
        ArrayNode days = root.putArray("days");
        checks.forEach(c -> days.add(json(c)));
        ArrayNode d = root.putArray("differing");
        differing().forEach(c -> d.add(c.day().toString()));
        if (error == null) {
            root.putNull("error");
        } else {
            root.put("error", error);
        }
        return root.toString();
    }

    /** One day as JSON, also used by a daily run's report. */
    static ObjectNode json(DayCheck c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("day", c.day().toString());
        n.put("result", c.outcome().label());
        n.put("source_rows", c.source().rows());
        n.put("loaded_rows", c.loaded().rows());
        n.put("source_fingerprint", c.source().sum().toString());
        n.put("loaded_fingerprint", c.loaded().sum().toString());
        if (c.trial()) {
            n.put("query_limit", c.queryLimit());
        }
        if (c.loadedChanged()) {
            n.put("loaded_changed", true);
        }
        return n;
    }

    /** Days listed with what differs, e.g. {@code 2024-01-03 (rows), 2024-01-05 (content)}, at most {@code max}. */
    static String listed(List<DayCheck> days, int max) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < Math.min(max, days.size()); i++) {
            DayCheck c = days.get(i);
            parts.add(c.day() + " (" + (c.outcome() == DayCheck.Outcome.ROWS ? "rows" : "content") + ")");
        }
        return String.join(", ", parts) + (days.size() > max ? " and " + (days.size() - max) + " more" : "");
    }

    /** Ascending days as runs, e.g. {@code 2024-01-01..2024-01-03, 2024-01-05}, at most {@code max} runs. */
    static String ranges(List<LocalDate> days, int max) {
        List<String> runs = new ArrayList<>();
        int i = 0;
        while (i < days.size()) {
            int j = i;
            while (j + 1 < days.size() && days.get(j).plusDays(1).equals(days.get(j + 1))) {
                j++;
            }
            runs.add(i == j ? days.get(i).toString() : days.get(i) + ".." + days.get(j));
            i = j + 1;
        }
        if (runs.size() <= max) {
            return String.join(", ", runs);
        }
        return String.join(", ", runs.subList(0, max)) + " and " + (runs.size() - max) + " more";
    }

    private static String plural(int n, String word) {
        return n + " " + word + (n == 1 ? "" : "s");
    }
}
