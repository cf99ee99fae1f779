package dev.cryptopipeline.cli;

import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.StatusReport;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code status}: what is loaded. */
@Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Show the loaded days, their row counts, the gaps between them and the last run."
                + " Writes nothing.")
final class StatusCommand implements Callable<Integer> {
    @ParentCommand TopCommand top;
    @Spec CommandSpec spec;
    @Mixin CommonOptions common;

    @Option(names = "--json", description = "Print one JSON object for scripts.")
    boolean json;

    @Override
    public Integer call() {
        try (Pipeline pipeline = Wiring.open(common, top.env, "status", spec.commandLine().getParseResult()
                .originalArgs())) {
            StatusReport report = pipeline.status();
            if (json) {
                spec.commandLine().getOut().println(report.toJson());
            } else {
                spec.commandLine().getOut().print(report.toTable());
            }
            return 0;
        }
    }
}
