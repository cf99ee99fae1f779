package dev.cryptopipeline.cli;

import dev.cryptopipeline.config.PipelineConfig;
import dev.cryptopipeline.config.SourceKind;
import dev.cryptopipeline.pipeline.Pipeline;
import java.io.PrintWriter;
import java.util.Map;
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

    @Option(names = "--dry-run",
            description = "Print the plan (days, SQL, estimated bytes and cost) and change nothing anywhere.")
    boolean dryRun;

    @Option(names = "--gcp-project", paramLabel = "ID",
            description = "The Google Cloud project that runs the BigQuery jobs and owns the lake bucket"
                    + " (env GOOGLE_CLOUD_PROJECT; default: the one of your gcloud credentials).")
    String gcpProject;

    @Option(names = "--bq-dataset", paramLabel = "NAME",
            description = "The BigQuery staging dataset (default: ${DEFAULT-VALUE}).",
            defaultValue = "crypto_pipeline_staging")
    String bqDataset;

    @Option(names = "--bq-location", paramLabel = "LOC",
            description = "The BigQuery location, where the public dataset lives (default: ${DEFAULT-VALUE}).",
            defaultValue = "US")
    String bqLocation;

    @Option(names = "--lake-retention-days", paramLabel = "N",
            description = "Age in days after which the bucket created by setup deletes lake objects"
                    + " (default: ${DEFAULT-VALUE}).", defaultValue = "30")
    int lakeRetentionDays;

    @Option(names = "--max-bytes-billed", paramLabel = "BYTES",
            description = "Cap on every BigQuery query job; a run whose estimate exceeds it stops before spending"
                    + " (default: 5 GiB per day plus 10 GiB).")
    Long maxBytesBilled;

    @Option(names = "--bigquery-endpoint", paramLabel = "URL",
            description = "Another BigQuery endpoint, for emulators and tests (env CRYPTO_PIPELINE_BIGQUERY_ENDPOINT);"
                    + " no credentials are needed then.")
    String bigqueryEndpoint;

    @Option(names = "--gcs-endpoint", paramLabel = "URL",
            description = "Another Cloud Storage endpoint, for emulators and tests (env STORAGE_EMULATOR_HOST);"
                    + " no credentials are needed then.")
    String gcsEndpoint;

    @Option(names = {"-v", "--verbose"}, description = "Log debug detail and show stack traces of errors.")
    boolean verbose;

    /** The environment the top command was given. */
    Map<String, String> env() {
        return ((TopCommand) spec.parent().userObject()).env;
    }

    /** Where results go. */
    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** The effective configuration of this command. */
    PipelineConfig config() {
        return Wiring.config(this, env());
    }

    /** Opens the pipeline for this command; the caller closes it. */
    Pipeline openPipeline() {
        return Wiring.open(this, env(), spec.name(), spec.commandLine().getParseResult().originalArgs());
    }
}
