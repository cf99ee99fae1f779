package dev.cryptopipeline.pipeline;

import java.util.Objects;

/**
 * Who is running: recorded in the runs ledger and shown to a second run that finds the lock taken.
 *
 * @param command   the subcommand ({@code setup}, {@code backfill}, {@code daily})
 * @param arguments the command line, with secrets removed
 * @param host      the host name
 * @param pid       the process id
 */
public record RunContext(String command, String arguments, String host, long pid) {
    public RunContext {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(arguments, "arguments");
        Objects.requireNonNull(host, "host");
    }

    /** The {@code application_name} of the run's database sessions (at most 63 bytes, PostgreSQL's limit). */
    public String applicationName() {
        String name = "crypto-pipeline " + command + " pid=" + pid + "@" + host;
        return name.length() <= 63 ? name : name.substring(0, 63);
    }
}
