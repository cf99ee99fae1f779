package dev.cryptopipeline.cli;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.RunReport;
import dev.cryptopipeline.pipeline.VerifyReport;
import java.io.PrintWriter;
import java.util.function.Supplier;

/** Runs a loading command and prints its result: a summary line, or one JSON object (also when it fails). */
final class Reports {
    private Reports() {
    }

    /**
     * Runs {@code command} with SIGINT and SIGTERM stopping it cleanly, prints its summary, and returns its exit code.
     *
     * @throws PipelineException when it fails (after printing the JSON summary, with {@code json})
     */
    static int loading(Pipeline pipeline, boolean json, PrintWriter out, Supplier<RunReport> command) {
        RunReport report = run(pipeline, json, out, command);
        out.println(json ? report.toJson() : report.summaryLine());
        return report.exitCode().value();
    }

    /** Runs {@code verify} under signal handling; on failure prints the JSON summary first, if asked for. */
    static VerifyReport verifying(Pipeline pipeline, boolean json, PrintWriter out, Supplier<VerifyReport> command) {
        try (Signals ignored = Signals.stopOnSignal(pipeline::stop)) {
            return command.get();
        } catch (PipelineException e) {
            if (json) {
                pipeline.lastVerify().ifPresent(r -> out.println(r.toJson()));
            }
            throw e;
        }
    }

    /** Runs {@code command} under signal handling; on failure prints the JSON summary first, if asked for. */
    static RunReport run(Pipeline pipeline, boolean json, PrintWriter out, Supplier<RunReport> command) {
        try (Signals ignored = Signals.stopOnSignal(pipeline::stop)) {
            return command.get();
        } catch (PipelineException e) {
            if (json) {
                pipeline.lastReport().ifPresent(r -> out.println(r.toJson()));
            }
            throw e;
        }
    }
}
