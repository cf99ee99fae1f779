package dev.cryptopipeline.config;

import dev.cryptopipeline.PipelineException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The effective configuration of one run, immutable and validated. Built once by the CLI from flags, environment,
 * config file and defaults (in that order of precedence). {@code toString} never shows a secret.
 *
 * @param source      where the transfers come from
 * @param lake        the lake location: a local path or a {@code gs://bucket[/prefix]} URI; empty if none was
 *                    given and none can be derived (an error for the commands that need a lake)
 * @param database    how to reach PostgreSQL
 * @param pgSchema    the PostgreSQL schema holding the target table and the ledger
 * @param dataDir     the tool's own directory (embedded PostgreSQL data, default local lake)
 * @param queryLimit  at most this many rows per day (the first by block number and log index), or empty for all
 * @param rowsPerDay  the synthetic source's volume per day
 * @param gcp         the Google Cloud settings (used by the BigQuery source and a GCS lake)
 * @param dryRun      plan only: change nothing anywhere, spend nothing
 * @param jobs        days loaded at once, each on its own connection; 0 to choose from the machine and server
 * @param allowEmpty  let an empty export replace a loaded non-empty day
 */
public record PipelineConfig(
        SourceKind source,
        String lake,
        DatabaseConfig database,
        Identifier pgSchema,
        Path dataDir,
        OptionalInt queryLimit,
        int rowsPerDay,
        GcpConfig gcp,
        boolean dryRun,
        int jobs,
        boolean allowEmpty) {

    /** The largest {@code --jobs}: more connections than this only queue up on the server's disks. */
    public static final int MAX_JOBS = 32;

    /** A configuration loading one day at a time, refusing empty replacements. */
    public PipelineConfig(SourceKind source, String lake, DatabaseConfig database, Identifier pgSchema, Path dataDir,
                          OptionalInt queryLimit, int rowsPerDay, GcpConfig gcp, boolean dryRun) {
        this(source, lake, database, pgSchema, dataDir, queryLimit, rowsPerDay, gcp, dryRun, 1, false);
    }

    public PipelineConfig {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(lake, "lake");
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(pgSchema, "pgSchema");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(queryLimit, "queryLimit");
        Objects.requireNonNull(gcp, "gcp");
        if (source == SourceKind.BIGQUERY && !lake.isEmpty() && !lake.startsWith("gs://")) {
            throw new PipelineException.BadInput("The BigQuery source exports into a gs:// lake, not " + lake
                    + ": give --lake gs://bucket[/prefix] (or use --source synthetic with a local lake)");
        }
        if (queryLimit.isPresent() && queryLimit.getAsInt() <= 0) {
            throw new PipelineException.BadInput("--query-limit must be a positive integer, not " + queryLimit.getAsInt());
        }
        if (rowsPerDay <= 0) {
            throw new PipelineException.BadInput("--rows-per-day must be a positive integer, not " + rowsPerDay);
        }
        if (jobs < 0 || jobs > MAX_JOBS) {
            throw new PipelineException.BadInput("--jobs must be between 1 and " + MAX_JOBS + ", not " + jobs);
        }
    }

    /** True when the lake is a Google Cloud Storage URI. */
    public boolean gcsLake() {
        return lake.startsWith("gs://");
    }

    /**
     * How to reach PostgreSQL.
     *
     * @param jdbcUrl  the JDBC URL without its password, or empty for the embedded PostgreSQL under the data dir
     * @param user     the user (from the URL or {@code PGUSER}), or empty for the driver's default
     * @param password the password (from the URL or {@code PGPASSWORD}), or empty to let the driver read
     *                 {@code ~/.pgpass}
     */
    public record DatabaseConfig(Optional<String> jdbcUrl, Optional<String> user, Optional<Secret> password) {
        public DatabaseConfig {
            Objects.requireNonNull(jdbcUrl, "jdbcUrl");
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(password, "password");
            jdbcUrl.ifPresent(url -> {
                if (!url.startsWith("jdbc:postgresql:")) {
                    throw new PipelineException.BadInput("--jdbc-url must start with jdbc:postgresql:, e.g."
                            + " jdbc:postgresql://localhost:5432/crypto?user=crypto");
                }
            });
        }

        /** The embedded database, reached without a URL. */
        public static DatabaseConfig embedded() {
            return new DatabaseConfig(Optional.empty(), Optional.empty(), Optional.empty());
        }

        /** True when no URL is given and the tool runs its own PostgreSQL. */
        public boolean embeddedServer() {
            return jdbcUrl.isEmpty();
        }
    }

    /**
     * Google Cloud settings.
     *
     * @param project          the project that runs the jobs and owns the lake bucket, or empty
     * @param bqDataset        the staging dataset
     * @param bqLocation       the BigQuery location (where the public dataset lives)
     * @param retentionDays    days after which lake objects are deleted by the bucket's lifecycle rule
     * @param maxBytesBilled   cap on every query job, or empty for BigQuery's project default
     * @param bigqueryEndpoint an endpoint override (emulators, tests), or empty
     * @param gcsEndpoint      an endpoint override (emulators, tests), or empty
     * @param credentialsFile  a service account key file (absolute), or empty for Application Default Credentials
     */
    public record GcpConfig(Optional<String> project, Identifier bqDataset, String bqLocation, int retentionDays,
                            Optional<Long> maxBytesBilled, Optional<String> bigqueryEndpoint,
                            Optional<String> gcsEndpoint, Optional<Path> credentialsFile) {
        public GcpConfig {
            Objects.requireNonNull(project, "project");
            Objects.requireNonNull(bqDataset, "bqDataset");
            Objects.requireNonNull(bqLocation, "bqLocation");
            Objects.requireNonNull(maxBytesBilled, "maxBytesBilled");
            Objects.requireNonNull(bigqueryEndpoint, "bigqueryEndpoint");
            Objects.requireNonNull(gcsEndpoint, "gcsEndpoint");
            Objects.requireNonNull(credentialsFile, "credentialsFile");
            if (retentionDays <= 0) {
                throw new PipelineException.BadInput("--lake-retention-days must be a positive integer");
            }
            if (maxBytesBilled.isPresent() && maxBytesBilled.get() <= 0) {
                throw new PipelineException.BadInput("--max-bytes-billed must be a positive number of bytes");
            }
        }

        /** Defaults: no project, dataset {@code crypto_pipeline_staging} in {@code US}, 30 days of retention. */
        public static GcpConfig defaults() {
            return new GcpConfig(Optional.empty(), new Identifier("crypto_pipeline_staging"), "US", 30,
                    Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
        }
    }
}
