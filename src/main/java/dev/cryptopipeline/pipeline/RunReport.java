package dev.cryptopipeline.pipeline;

import dev.cryptopipeline.ExitCode;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;

/**
 * What a loading command did.
 *
 * @param command    the command
 * @param runId      the run's id (also its lake folder name)
 * @param loaded     the days loaded, ascending
 * @param skipped    days left alone because they were already loaded
 * @param unfinished days not loaded because the source has not finished them yet (the next run picks them up)
 * @param millis     wall time
 * @param dryRun     true if nothing was done: {@code planned} and {@code plan} say what would be
 * @param planned    the days a real run would load (dry run only)
 * @param plan       the source's plan for them: work, SQL, estimated bytes and cost (dry run only)
 */
public record RunReport(String command, String runId, List<DayLoad> loaded, List<LocalDate> skipped,
                        List<LocalDate> unfinished, long millis, boolean dryRun, List<LocalDate> planned,
                        List<String> plan) {

    public RunReport {
        loaded = List.copyOf(loaded);
        skipped = List.copyOf(skipped);
        unfinished = List.copyOf(unfinished);
        planned = List.copyOf(planned);
        plan = List.copyOf(plan);
    }

    /**
     * One loaded day.
     *
     * @param replaced true if an earlier load of the day was replaced
     */
    public record DayLoad(LocalDate day, long rows, long bytes, long millis, boolean replaced) {
    }

    /** Every command that returns a report succeeded. */
    public ExitCode exitCode() {
        return ExitCode.OK;
    }

    /** Rows loaded, all days together. */
    public long rows() {
        return loaded.stream().mapToLong(DayLoad::rows).sum();
    }

    /** One line for stdout (then the plan's lines, for a dry run), e.g. {@code backfill: loaded 3 days (30000 rows) 2024-01-01..2024-01-03 in 2.1 s}. */
    public String summaryLine() {
        StringBuilder b = new StringBuilder(command).append(": ");
        if (dryRun) {
            b.append("dry run, nothing changed: ").append(planned.isEmpty() ? "nothing to do"
                    : "would load " + plural(planned.size(), "day") + " " + range(planned));
        } else if (loaded.isEmpty()) {
            b.append("nothing to do");
        } else {
            b.append("loaded ").append(plural(loaded.size(), "day")).append(" (").append(rows()).append(" rows) ")
                    .append(range(loaded.stream().map(DayLoad::day).toList()));
        }
        if (!skipped.isEmpty()) {
            b.append("; skipped ").append(plural(skipped.size(), "day")).append(" already loaded ")
                    .append(range(skipped));
        }
        if (!unfinished.isEmpty()) {
            b.append("; ").append(range(unfinished)).append(" not finished at the source yet, left for a later run");
        }
        b.append(String.format(Locale.ROOT, " in %.1f s", millis / 1000.0));
        plan.forEach(line -> b.append('\n').append(line));
        return b.toString();
    }

    private static String plural(int n, String word) {
        return n + " " + word + (n == 1 ? "" : "s");
    }

    private static String range(List<LocalDate> days) {
        return days.size() == 1 ? days.get(0).toString() : days.get(0) + ".." + days.get(days.size() - 1);
    }
}
