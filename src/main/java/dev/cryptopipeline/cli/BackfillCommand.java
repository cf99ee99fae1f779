package dev.cryptopipeline.cli;

import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.RunReport;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code backfill}: loads a range of days in bulk. */
@Command(name = "backfill", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Load every finished UTC day from --start-date to --end-date, skipping days already loaded"
                + " (unless --reload). Safe to run again; after a crash it finishes the rest.")
final class BackfillCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--start-date", required = true, paramLabel = "YYYY-MM-DD",
            description = "The first UTC day to load.")
    LocalDate startDate;

    @Option(names = "--end-date", paramLabel = "YYYY-MM-DD",
            description = "The last UTC day to load (default: yesterday, UTC).")
    LocalDate endDate;

    @Option(names = "--reload", description = "Load days again even if they are already loaded.")
    boolean reload;

    @Override
    public Integer call() {
        try (Pipeline pipeline = common.openPipeline()) {
            RunReport report = pipeline.backfill(startDate, endDate, reload);
            common.out().println(report.summaryLine());
            return report.exitCode().value();
        }
    }
}
