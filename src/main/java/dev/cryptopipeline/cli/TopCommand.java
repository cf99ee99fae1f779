package dev.cryptopipeline.cli;

import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code crypto-pipeline}: the top command; it only dispatches to its subcommands. */
@Command(name = "crypto-pipeline", mixinStandardHelpOptions = true, versionProvider = TopCommand.Version.class,
        description = "Keeps a PostgreSQL copy of Ethereum token transfers from BigQuery's crypto_ethereum dataset,"
                + " one UTC day at a time, through a data lake.",
        subcommands = {SetupCommand.class, BackfillCommand.class, DailyCommand.class, StatusCommand.class,
                DbCommand.class, CommandLine.HelpCommand.class})
final class TopCommand implements Runnable {
    final Map<String, String> env;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    TopCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "Missing command: give one of setup, backfill, daily, status, db");
    }

    /** The version from the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = TopCommand.class.getPackage().getImplementationVersion();
            return new String[] {"crypto-pipeline " + (v == null ? "(development build)" : v)};
        }
    }
}
