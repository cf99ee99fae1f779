package dev.cryptopipeline.cli;

import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.StatusReport;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code status}: what is loaded. */
@Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Show the loaded days, their row counts, the gaps between them and the last run."
                + " Writes nothing.")
final class StatusCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--json", description = "Print one JSON object for scripts.")
    boolean json;

    @Override
    public Integer call() {
        try (Pipeline pipeline = common.openPipeline()) {
            StatusReport report = pipeline.status();
            if (json) {
                common.out().println(report.toJson());
            } else {
                common.out().print(report.toTable());
            }
            return 0;
        }
    }
}
