package dev.cryptopipeline.cli;

import picocli.CommandLine.Option;

/** How a loading command runs and reports. */
final class RunOptions {
    @Option(names = "--jobs", paramLabel = "N",
            description = "Days loaded at once, each on its own connection (default: from the machine's cores and"
                    + " the server's free connections, at most 4).")
    Integer jobs;

    @Option(names = "--dry-run",
            description = "Print the plan (days, SQL, estimated bytes and cost) and change nothing anywhere.")
    boolean dryRun;

    @Option(names = "--json", description = "Print one JSON summary object on stdout (days, rows, bytes, seconds,"
            + " outcome, exit code), also when the run fails.")
    boolean json;
}
