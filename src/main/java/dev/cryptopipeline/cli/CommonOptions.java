package dev.cryptopipeline.cli;

import dev.cryptopipeline.config.SourceKind;
import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The options every command takes. Values not given as flags come from the environment, then the {@code --config}
 * file, then the defaults shown in {@code --help} (see {@link ConfigDefaults}).
 */
final class CommonOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--source", paramLabel = "bigquery|synthetic",
            description = "Where transfers come from (env CRYPTO_PIPELINE_SOURCE; default: ${DEFAULT-VALUE}).",
            defaultValue = "bigquery")
    SourceKind source;

    @Option(names = "--lake", paramLabel = "PATH_OR_URI",
            description = "The data lake: a local folder or gs://bucket[/prefix] (env CRYPTO_PIPELINE_LAKE;"
                    + " default: <data-dir>/lake for the synthetic source, gs://<project>-crypto-lake for BigQuery).")
    String lake;

    @Option(names = "--jdbc-url", paramLabel = "URL",
            description = "The target PostgreSQL, e.g. jdbc:postgresql://localhost:5432/crypto?user=crypto"
                    + " (env CRYPTO_PIPELINE_JDBC_URL; default: the embedded PostgreSQL under <data-dir>)."
                    + " The password comes from PGPASSWORD or ~/.pgpass.")
    String jdbcUrl;

    @Option(names = "--pg-schema", paramLabel = "NAME",
            description = "The PostgreSQL schema of the table and ledger (default: ${DEFAULT-VALUE}).",
            defaultValue = "crypto_eth")
    String pgSchema;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "The tool's own directory: embedded PostgreSQL, default lake (env CRYPTO_PIPELINE_HOME;"
                    + " default: $XDG_DATA_HOME/crypto-pipeline or ~/.local/share/crypto-pipeline).")
    Path dataDir;

    @Option(names = "--query-limit", paramLabel = "N",
            description = "At most N rows per day, the first N by (block_number, log_index), for trials.")
    Integer queryLimit;

    @Option(names = "--rows-per-day", paramLabel = "N",
            description = "Rows per day of the synthetic source (default: ${DEFAULT-VALUE}).", defaultValue = "10000")
    int rowsPerDay;

    @Option(names = "--config", paramLabel = "FILE",
            description = "A properties file with the same option names, e.g. source=synthetic"
                    + " (env CRYPTO_PIPELINE_CONFIG).")
    Path config;

    @Option(names = {"-v", "--verbose"}, description = "Log debug detail and show stack traces of errors.")
    boolean verbose;
}
