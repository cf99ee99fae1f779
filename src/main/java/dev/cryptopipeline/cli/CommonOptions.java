package dev.cryptopipeline.cli;

import dev.cryptopipeline.config.PipelineConfig;
import dev.cryptopipeline.pipeline.Pipeline;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The options every command takes: where the database and the tool's files are. Values not given as flags come from
 * the environment, then the config file, then the defaults shown in {@code --help} (see {@link ConfigDefaults}).
 */
final class CommonOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--jdbc-url", paramLabel = "URL",
            description = {"The target PostgreSQL (env CRYPTO_PIPELINE_JDBC_URL; default: the embedded"
                    + " PostgreSQL under the data dir). The password comes from PGPASSWORD or ~/.pgpass. Example:",
                    "  jdbc:postgresql://db:5432/crypto?user=loader"})
    String jdbcUrl;

    @Option(names = "--pg-schema", paramLabel = "NAME",
            description = "The PostgreSQL schema of the table and ledger (default: ${DEFAULT-VALUE}).",
            defaultValue = "crypto_eth")
    String pgSchema;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "The tool's own directory: saved configuration, embedded PostgreSQL, default lake, log"
                    + " (env CRYPTO_PIPELINE_HOME; default: $XDG_DATA_HOME/crypto-pipeline or"
                    + " ~/.local/share/crypto-pipeline).")
    Path dataDir;

    @Option(names = "--config", paramLabel = "FILE",
            description = "A properties file with the options' names as keys, e.g. source=synthetic (env"
                    + " CRYPTO_PIPELINE_CONFIG; default: the one setup saved in the data dir, if any).")
    Path config;

    @Option(names = {"-v", "--verbose"}, description = "Log debug detail and show stack traces of errors.")
    boolean verbose;

    /** The environment the top command was given. */
    Map<String, String> env() {
        return top().env;
    }

    /** The config file the defaults came from, if any. */
    ConfigDefaults defaults() {
        return top().defaults;
    }

    private TopCommand top() {
        CommandSpec s = spec;
        while (s.parent() != null) {
            s = s.parent();
        }
        return (TopCommand) s.userObject();
    }

    /** Where results go. */
    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** The configuration of a command that only reads the database (status, db). */
    PipelineConfig config() {
        return Wiring.config(this, null, null, false, env());
    }

    /** Opens a pipeline that only reads the database, never creating anything (status). */
    Pipeline openReader() {
        return Wiring.openReader(this, env(), spec.name(), spec.commandLine().getParseResult().originalArgs());
    }

    /** Opens the pipeline of a loading command; the caller closes it. */
    Pipeline openPipeline(SourceOptions source, RunOptions run, boolean allowEmpty, boolean createDatabase) {
        return Wiring.open(this, source, run, allowEmpty, createDatabase, env(), spec.name(),
                spec.commandLine().getParseResult().originalArgs());
    }
}
