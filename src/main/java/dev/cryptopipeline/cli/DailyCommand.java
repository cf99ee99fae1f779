package dev.cryptopipeline.cli;

import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.RunReport;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code daily}: the cron job. */
@Command(name = "daily", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Load every finished UTC day after the last loaded one through yesterday (catching up missed"
                + " days), or exactly --date. Run it from cron after 09:00 UTC.")
final class DailyCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--date", paramLabel = "YYYY-MM-DD", description = "Load exactly this UTC day, replacing it.")
    LocalDate date;

    @Override
    public Integer call() {
        try (Pipeline pipeline = common.openPipeline()) {
            RunReport report = date == null ? pipeline.catchUp() : pipeline.reload(date);
            common.out().println(report.summaryLine());
            return report.exitCode().value();
        }
    }
}
