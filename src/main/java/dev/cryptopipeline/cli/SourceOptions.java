package dev.cryptopipeline.cli;

import dev.cryptopipeline.config.SourceKind;
import picocli.CommandLine.Option;

/** Where transfers come from and where the lake is: the options of the commands that load (and of setup). */
final class SourceOptions {
    @Option(names = "--source", paramLabel = "bigquery|synthetic",
            description = "Where transfers come from (env CRYPTO_PIPELINE_SOURCE; default: ${DEFAULT-VALUE}).",
            defaultValue = "bigquery")
    SourceKind source;

    @Option(names = "--lake", paramLabel = "PATH_OR_URI",
            description = "The data lake: a local folder or gs://bucket[/prefix] (env CRYPTO_PIPELINE_LAKE;"
                    + " default: <data-dir>/lake for the synthetic source, gs://<project>-crypto-lake for BigQuery).")
    String lake;

    @Option(names = "--lake-retention-days", paramLabel = "N",
            description = "Lake exports older than N days are deleted: by the bucket's lifecycle rule that setup"
                    + " creates, or, for a local lake, after each run, never the export a loaded day came from"
                    + " (default: ${DEFAULT-VALUE}).", defaultValue = "30")
    int lakeRetentionDays;

    @Option(names = "--query-limit", paramLabel = "N",
            description = "At most N rows per day, the first N by (block_number, log_index): a trial load.")
    Integer queryLimit;

    @Option(names = "--rows-per-day", paramLabel = "N",
            description = "Rows per day of the synthetic source (default: ${DEFAULT-VALUE}).", defaultValue = "10000")
    int rowsPerDay;

    @Option(names = "--gcp-project", paramLabel = "ID",
            description = "The Google Cloud project that runs the BigQuery jobs and owns the lake bucket"
                    + " (env GOOGLE_CLOUD_PROJECT; default: the one of your gcloud credentials).")
    String gcpProject;

    @Option(names = "--google-credentials", paramLabel = "FILE",
            description = "A service account key file (env GOOGLE_APPLICATION_CREDENTIALS; default: Application"
                    + " Default Credentials, from 'gcloud auth application-default login'). setup saves its path,"
                    + " so that cron and systemd runs, which have no such variable, use it too.")
    String googleCredentials;

    @Option(names = "--bq-dataset", paramLabel = "NAME",
            description = "The BigQuery staging dataset (default: ${DEFAULT-VALUE}).",
            defaultValue = "crypto_pipeline_staging")
    String bqDataset;

    @Option(names = "--bq-location", paramLabel = "LOC",
            description = "The BigQuery location, where the public dataset lives (default: ${DEFAULT-VALUE}).",
            defaultValue = "US")
    String bqLocation;

    @Option(names = "--max-bytes-billed", paramLabel = "BYTES",
            description = "Cap on every BigQuery query job; a run whose dry-run estimate exceeds it starts no job"
                    + " (default: 5 GiB per day plus 10 GiB per export query and its row count, 1 GiB per completeness"
                    + " query).")
    Long maxBytesBilled;

    @Option(names = "--bigquery-endpoint", paramLabel = "URL",
            description = "Another BigQuery endpoint, for tests (env CRYPTO_PIPELINE_BIGQUERY_ENDPOINT, or"
                    + " BIGQUERY_EMULATOR_HOST);"
                    + " no credentials are needed then.")
    String bigqueryEndpoint;

    @Option(names = "--gcs-endpoint", paramLabel = "URL",
            description = "Another Cloud Storage endpoint, for tests (env STORAGE_EMULATOR_HOST);"
                    + " no credentials are needed then.")
    String gcsEndpoint;
}
