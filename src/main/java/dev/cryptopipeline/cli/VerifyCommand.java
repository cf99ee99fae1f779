package dev.cryptopipeline.cli;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.VerifyReport;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code verify}: compares loaded days with what the source holds now. */
@Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Compare every loaded UTC day (or those from --start-date to --end-date) with what the source"
                + " holds now: row count and a fingerprint of every loaded column. Print the days that differ and"
                + " those that match; exit 0 when all match, 3 when one differs. Loads nothing; records in the"
                + " ledger when each day was verified. A trial load is compared with the source limited to its own"
                + " --query-limit.")
final class VerifyCommand implements Callable<Integer> {
    @Mixin CommonOptions common;
    @Mixin SourceOptions source;
    @Mixin RunOptions run;

    @Option(names = "--start-date", paramLabel = "YYYY-MM-DD",
            description = "The first UTC day to verify (default: the first loaded day).")
    LocalDate startDate;

    @Option(names = "--end-date", paramLabel = "YYYY-MM-DD",
            description = "The last UTC day to verify (default: the last loaded day).")
    LocalDate endDate;

    @Override
    public Integer call() {
        if (startDate != null && endDate != null && startDate.isAfter(endDate)) {
            throw new PipelineException.BadInput("--start-date " + startDate + " is after --end-date " + endDate
                    + ": give a start on or before the end");
        }
        try (Pipeline pipeline = common.openPipeline(source, run, false, false)) {
            VerifyReport report = Reports.verifying(pipeline, run.json, common.out(),
                    () -> pipeline.verify(startDate, endDate));
            common.out().print(run.json ? report.toJson() + "\n" : report.toTable());
            return report.exitCode().value();
        }
    }
}
