package dev.cryptopipeline.cli;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.StatusReport;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code status}: what is loaded; with {@code --check}, a monitoring check. */
@Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Show the loaded days, the gaps between them, trial loads and the last run. Read-only: creates"
                + " nothing and takes no lock. With --check, exit 0 when all is well and 3 otherwise, with one line"
                + " saying why (for monitoring, systemd or CI).")
final class StatusCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--json", description = "Print one JSON object for scripts.")
    boolean json;

    @Option(names = "--check", description = "Exit 3 unless the newest loaded day is at most --max-age-days old,"
            + " there are no gaps, every loaded day still has its partition, no day differed from the source when"
            + " last verified and the last run did not fail; print one line saying why.")
    boolean check;

    @Option(names = "--max-age-days", paramLabel = "N", defaultValue = "2",
            description = "With --check: the oldest the newest loaded day may be, in days before today, UTC"
                    + " (default: ${DEFAULT-VALUE}).")
    int maxAgeDays;

    @Override
    public Integer call() {
        if (maxAgeDays < 0) {
            throw new PipelineException.BadInput("--max-age-days must be 0 or more, not " + maxAgeDays);
        }
        try (Pipeline pipeline = common.openReader()) {
            StatusReport report = pipeline.status();
            if (check) {
                Optional<String> problem = report.problem(LocalDate.now(ZoneOffset.UTC), maxAgeDays);
                common.out().println(problem.map(p -> "CRITICAL: " + p).orElseGet(() -> "OK: " + report.days().size()
                        + " days loaded through " + report.days().get(report.days().size() - 1).day()
                        + ", no gaps, last run " + report.effectiveLastRun().map(r -> r.outcome()).orElse("none")));
                return problem.isPresent() ? 3 : 0;
            }
            if (json) {
                common.out().println(report.toJson());
            } else {
                common.out().print(report.toTable());
                common.out().println("Config:   " + common.defaults().describe());
            }
            return 0;
        }
    }
}
