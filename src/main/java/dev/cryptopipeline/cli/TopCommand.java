package dev.cryptopipeline.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Properties;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code crypto-pipeline}: the top command; it only dispatches to its subcommands. */
@Command(name = "crypto-pipeline", mixinStandardHelpOptions = true, versionProvider = TopCommand.Version.class,
        description = "Keeps a PostgreSQL copy of Ethereum token transfers from BigQuery's crypto_ethereum dataset,"
                + " one UTC day at a time, through a data lake.",
        subcommands = {SetupCommand.class, BackfillCommand.class, DailyCommand.class, VerifyCommand.class,
                StatusCommand.class,
                DbCommand.class, CommandLine.HelpCommand.class, AutoComplete.GenerateCompletion.class})
final class TopCommand implements Runnable {
    final Map<String, String> env;
    final ConfigDefaults defaults;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    TopCommand(Map<String, String> env, ConfigDefaults defaults) {
        this.env = env;
        this.defaults = defaults;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "Missing command: give one of setup, backfill, daily, verify, status, db");
    }

    /** The version from the jar's manifest and the git commit it was built from. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = TopCommand.class.getPackage().getImplementationVersion();
            Properties git = new Properties();
            try (InputStream in = TopCommand.class.getResourceAsStream("/crypto-pipeline-git.properties")) {
                if (in != null) {
                    git.load(in);
                }
            } catch (IOException e) {
                // no build information: say so below
            }
            String commit = git.getProperty("git.commit.id.abbrev", "");
            String dirty = "true".equals(git.getProperty("git.dirty")) ? " with local changes" : "";
            return new String[] {"crypto-pipeline " + (v == null ? "(development build)" : v)
                    + (commit.isEmpty() ? "" : " (commit " + commit + dirty + ")")};
        }
    }
}
