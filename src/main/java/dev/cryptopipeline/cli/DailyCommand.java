package dev.cryptopipeline.cli;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.PipelineConfig;
import dev.cryptopipeline.pipeline.Pipeline;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code daily}: the scheduled job. */
@Command(name = "daily", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Load every finished UTC day after the last loaded one through yesterday (catching up missed"
                + " days), or exactly --date. Run it from cron or a systemd timer after 09:00 UTC.")
final class DailyCommand implements Callable<Integer> {
    @Mixin CommonOptions common;
    @Mixin SourceOptions source;
    @Mixin RunOptions run;

    @Option(names = "--date", paramLabel = "YYYY-MM-DD",
            description = "Load exactly this UTC day, exported afresh, replacing it.")
    LocalDate date;

    @Option(names = "--verify-days", paramLabel = "N", defaultValue = "0",
            description = "After loading, verify the last N loaded days against the source and reload, exported"
                    + " afresh, exactly those that differ (default: ${DEFAULT-VALUE}, none). Costs one query.")
    int verifyDays;

    @Option(names = "--allow-empty", description = "Let a day the source now reports empty replace a loaded"
            + " non-empty day (refused otherwise, exit 3).")
    boolean allowEmpty;

    @Override
    public Integer call() {
        if (verifyDays < 0) {
            throw new PipelineException.BadInput("--verify-days must be 0 or more, not " + verifyDays);
        }
        PipelineConfig where = common.config();
        if (date == null && where.database().embeddedServer() && !Wiring.embeddedExists(where.dataDir())) {
            // Catching up needs something loaded: with no database yet, say so without creating one.
            throw new PipelineException.BadInput("Nothing has been loaded yet (no database in " + where.dataDir()
                    + "), so daily does not know where to start: run 'crypto-pipeline setup --chain --start-date"
                    + " YYYY-MM-DD' first, or check --data-dir");
        }
        try (Pipeline pipeline = common.openPipeline(source, run, allowEmpty, true)) {
            return Reports.loading(pipeline, run.json, common.out(), () -> date == null
                    ? pipeline.catchUp(verifyDays) : pipeline.reload(date, verifyDays));
        }
    }
}
