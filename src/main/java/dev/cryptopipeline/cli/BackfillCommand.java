package dev.cryptopipeline.cli;

import dev.cryptopipeline.pipeline.Pipeline;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code backfill}: loads a range of days in bulk. */
@Command(name = "backfill", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Load every finished UTC day from --start-date to --end-date, skipping days already loaded"
                + " (unless --reload; trial loads made with a smaller --query-limit are replaced). Safe to run"
                + " again; after a crash or Ctrl-C it finishes the rest.")
final class BackfillCommand implements Callable<Integer> {
    @Mixin CommonOptions common;
    @Mixin SourceOptions source;
    @Mixin RunOptions run;

    @Option(names = "--start-date", required = true, paramLabel = "YYYY-MM-DD",
            description = "The first UTC day to load.")
    LocalDate startDate;

    @Option(names = "--end-date", paramLabel = "YYYY-MM-DD",
            description = "The last UTC day to load (default: yesterday, UTC).")
    LocalDate endDate;

    @Option(names = "--reload", description = "Load days again, exported afresh, even if they are already loaded.")
    boolean reload;

    @Option(names = "--allow-empty", description = "Let a day the source now reports empty replace a loaded"
            + " non-empty day (refused otherwise, exit 3).")
    boolean allowEmpty;

    @Override
    public Integer call() {
        try (Pipeline pipeline = common.openPipeline(source, run, allowEmpty, true)) {
            return Reports.loading(pipeline, run.json, common.out(), () -> pipeline.backfill(startDate, endDate,
                    reload));
        }
    }
}
