package dev.cryptopipeline.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cryptopipeline.ExitCode;
import dev.cryptopipeline.PipelineException;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What a loading command did, whether it succeeded or not.
 *
 * @param command    the command
 * @param runId      the run's id
 * @param loaded     the days loaded, ascending
 * @param skipped    days left alone because they were already loaded
 * @param unfinished days not loaded because the source has not finished them yet (the next run picks them up)
 * @param millis     wall time
 * @param dryRun     true if nothing was done: {@code planned} and {@code plan} say what would be
 * @param planned    the days the run set out to load
 * @param plan       the source's plan for them: work, SQL, estimated bytes and cost (dry run only)
 * @param stages     how busy each stage was
 * @param exitCode   how the run ended
 * @param error      the one-line error, or null
 * @param verified   the days compared with the source after the loads ({@code daily --verify-days}), ascending
 */
public record RunReport(String command, String runId, List<DayLoad> loaded, List<LocalDate> skipped,
                        List<LocalDate> unfinished, long millis, boolean dryRun, List<LocalDate> planned,
                        List<String> plan, Stages stages, ExitCode exitCode, String error, List<DayCheck> verified) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A run that verified nothing. */
    public RunReport(String command, String runId, List<DayLoad> loaded, List<LocalDate> skipped,
                     List<LocalDate> unfinished, long millis, boolean dryRun, List<LocalDate> planned,
                     List<String> plan, Stages stages, ExitCode exitCode, String error) {
        this(command, runId, loaded, skipped, unfinished, millis, dryRun, planned, plan, stages, exitCode, error,
                List.of());
    }

    public RunReport {
        verified = List.copyOf(verified);
        loaded = List.copyOf(loaded);
        skipped = List.copyOf(skipped);
        unfinished = List.copyOf(unfinished);
        planned = List.copyOf(planned);
        plan = List.copyOf(plan);
        Objects.requireNonNull(stages, "stages");
        Objects.requireNonNull(exitCode, "exitCode");
    }

    /**
     * One loaded day.
     *
     * @param replaced true if an earlier load of the day was replaced
     * @param reason   why it was loaded (see {@link DayPlan.Reason#label()})
     */
    public record DayLoad(LocalDate day, long rows, long bytes, long millis, boolean replaced, String reason) {
    }

    /**
     * How the stages of a run used their time, for the log and the benchmark.
     *
     * @param exportMillis      time the export stage was working (not waiting for the loads to catch up)
     * @param loadMillis        time spent loading, summed over the days (several load at once)
     * @param firstLoadedMillis from the start of the run to the first day's commit, or -1
     * @param jobs              days loaded at once at most
     */
    public record Stages(long exportMillis, long loadMillis, long firstLoadedMillis, int jobs) {
        /** No stage ran. */
        public static final Stages NONE = new Stages(0, 0, -1, 0);

        /** These stages and then {@code later}'s, as one. */
        Stages plus(Stages later) {
            return new Stages(exportMillis + later.exportMillis, loadMillis + later.loadMillis,
                    firstLoadedMillis >= 0 ? firstLoadedMillis : later.firstLoadedMillis, Math.max(jobs, later.jobs));
        }
    }

    /** The same report, ended by {@code e}. */
    public RunReport failedWith(PipelineException e) {
        return new RunReport(command, runId, loaded, skipped, unfinished, millis, dryRun, planned, plan, stages,
                e.exitCode(), e.getMessage(), verified);
    }

    /** The ledger's word for how it ended: ok, failed, bad-input, data-check, try-later, interrupted. */
    public String outcome() {
        return outcome(exitCode);
    }

    static String outcome(ExitCode code) {
        return switch (code) {
            case OK -> "ok";
            case FAILED -> "failed";
            case USAGE -> "bad-input";
            case DATA_CHECK -> "data-check";
            case TRY_LATER -> "try-later";
            case HUNG_UP, INTERRUPTED, TERMINATED -> "interrupted";
        };
    }

    /** Rows loaded, all days together. */
    public long rows() {
        return loaded.stream().mapToLong(DayLoad::rows).sum();
    }

    /** Compressed lake bytes read, all days together. */
    public long bytes() {
        return loaded.stream().mapToLong(DayLoad::bytes).sum();
    }

    /**
     * One line for stdout (then the plan's lines, for a dry run), e.g.
     * {@code backfill: loaded 3 days (30000 rows) 2024-01-01..2024-01-03 in 2.1 s}.
     */
    public String summaryLine() {
        StringBuilder b = new StringBuilder(command).append(": ");
        if (exitCode.stoppedBySignal()) {
            b.append("interrupted: ").append(loaded.size()).append(" of ").append(plural(planned.size(), "day"))
                    .append(" loaded; run again to finish");
            return b.toString();
        }
        if (dryRun) {
            b.append("dry run, nothing changed: ").append(planned.isEmpty() ? "nothing to do"
                    : "would load " + plural(planned.size(), "day") + " " + range(planned));
        } else if (loaded.isEmpty()) {
            b.append(exitCode == ExitCode.OK ? "nothing to do" : "nothing loaded");
        } else {
            b.append("loaded ").append(plural(loaded.size(), "day")).append(" (").append(rows()).append(" rows) ")
                    .append(range(loaded.stream().map(DayLoad::day).toList()));
            if (loaded.size() < planned.size()) {
                b.append(" of ").append(planned.size()).append(" planned");
            }
        }
        if (!skipped.isEmpty()) {
            b.append("; skipped ").append(plural(skipped.size(), "day")).append(" already loaded ")
                    .append(range(skipped));
        }
        if (!unfinished.isEmpty()) {
            b.append("; ").append(range(unfinished)).append(" not finished at the source yet, left for a later run");
        }
        if (!verified.isEmpty()) {
            List<DayCheck> differ = verified.stream().filter(DayCheck::differs).toList();
            b.append("; verified ").append(plural(verified.size(), "day")).append(' ')
                    .append(VerifyReport.ranges(verified.stream().map(DayCheck::day).toList(), 3)).append(": ")
                    .append(differ.isEmpty() ? (verified.size() == 1 ? "it matches" : "all match") : differ.size()
                            + " differed from the source" + (exitCode == ExitCode.OK ? " and "
                            + (differ.size() == 1 ? "was" : "were") + " reloaded" : "") + ": "
                            + VerifyReport.listed(differ, 5));
        }
        b.append(String.format(Locale.ROOT, " in %.1f s", millis / 1000.0));
        plan.forEach(line -> b.append('\n').append(line));
        return b.toString();
    }

    /**
     * One JSON object for scripts: {@code command, run_id, outcome, exit_code, dry_run, days_planned, days_loaded,
     * rows, bytes, seconds, loaded[{day, rows, bytes, seconds, reason}], skipped[], unfinished[], days_verified,
     * verified[{day, result, source_rows, loaded_rows, ...}] (as {@code verify --json}'s days), differing[], error}.
     */
    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("command", command);
        root.put("run_id", runId);
        root.put("outcome", outcome());
        root.put("exit_code", exitCode.value());
        root.put("dry_run", dryRun);
        root.put("days_planned", planned.size());
        root.put("days_loaded", loaded.size());
        root.put("rows", rows());
        root.put("bytes", bytes());
        root.put("seconds", millis / 1000.0);
        ArrayNode days = root.putArray("loaded");
        for (DayLoad d : loaded) {
            days.addObject().put("day", d.day().toString()).put("rows", d.rows()).put("bytes", d.bytes())
                    .put("seconds", d.millis() / 1000.0).put("reason", d.reason());
        }
        ArrayNode s = root.putArray("skipped");
        skipped.forEach(d -> s.add(d.toString()));
        ArrayNode u = root.putArray("unfinished");
        unfinished.forEach(d -> u.add(d.toString()));
        root.put("days_verified", verified.size());
        ArrayNode v = root.putArray("verified");
        verified.forEach(c -> v.add(VerifyReport.json(c)));
        ArrayNode differing = root.putArray("differing");
        verified.stream().filter(DayCheck::differs).forEach(c -> differing.add(c.day().toString()));
        if (error == null) {
            root.putNull("error");
        } else {
            root.put("error", error);
        }
        return root.toString();
    }

    private static String plural(int n, String word) {
        return n + " " + word + (n == 1 ? "" : "s");
    }

    static String range(List<LocalDate> days) {
        return days.size() == 1 ? days.get(0).toString() : days.get(0) + ".." + days.get(days.size() - 1);
    }
}
