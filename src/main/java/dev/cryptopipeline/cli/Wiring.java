package dev.cryptopipeline.cli;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.config.PipelineConfig;
import dev.cryptopipeline.config.Secret;
import dev.cryptopipeline.config.SourceKind;
import com.google.cloud.bigquery.BigQuery;
import dev.cryptopipeline.lake.GcsLake;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LocalLake;
import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.RunContext;
import dev.cryptopipeline.sink.Database;
import dev.cryptopipeline.sink.EmbeddedDatabase;
import dev.cryptopipeline.sink.JdbcDatabase;
import dev.cryptopipeline.source.BigQueryJobs;
import dev.cryptopipeline.source.BigQuerySource;
import dev.cryptopipeline.source.Source;
import dev.cryptopipeline.source.SyntheticSource;
import java.net.InetAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that reads the environment and builds concrete classes: configuration, source, lake, database.
 */
final class Wiring {
    private static final Logger log = LoggerFactory.getLogger(Wiring.class);
    static final int ROWS_PER_FILE = 250_000;
    /** Default table expiration of the staging dataset: staging tables are only needed until extracted. */
    static final int STAGING_DAYS = 3;
    static final int EXTRACT_THREADS = 8;

    private Wiring() {
    }

    /** Builds and validates the effective configuration. */
    static PipelineConfig config(CommonOptions o, Map<String, String> env) {
        Path dataDir = (o.dataDir != null ? o.dataDir : defaultDataDir(env)).toAbsolutePath().normalize();
        PipelineConfig.GcpConfig gcp = new PipelineConfig.GcpConfig(Optional.ofNullable(blankToNull(o.gcpProject)),
                new Identifier(o.bqDataset), o.bqLocation, o.lakeRetentionDays, Optional.ofNullable(o.maxBytesBilled),
                Optional.ofNullable(blankToNull(o.bigqueryEndpoint)), Optional.ofNullable(blankToNull(o.gcsEndpoint)));
        String lake = o.lake;
        if (lake == null || lake.isEmpty()) {
            if (o.source == SourceKind.SYNTHETIC) {
                lake = dataDir.resolve("lake").toString();
            } else {
                lake = GoogleCloud.project(gcp).map(p -> "gs://" + p + "-crypto-lake").orElse("");
            }
        } else if (!lake.startsWith("gs://")) {
            lake = Path.of(lake).toAbsolutePath().normalize().toString();
        }
        Identifier schema = new Identifier(o.pgSchema);
        return new PipelineConfig(o.source, lake, database(o.jdbcUrl, env), schema, dataDir,
                o.queryLimit == null ? OptionalInt.empty() : OptionalInt.of(o.queryLimit), o.rowsPerDay, gcp,
                o.dryRun);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /** {@code $XDG_DATA_HOME/crypto-pipeline}, else {@code $HOME/.local/share/crypto-pipeline}. */
    static Path defaultDataDir(Map<String, String> env) {
        String xdg = env.get("XDG_DATA_HOME");
        if (xdg != null && !xdg.isEmpty()) {
            return Path.of(xdg, "crypto-pipeline");
        }
        String home = env.getOrDefault("HOME", System.getProperty("user.home"));
        return Path.of(home, ".local", "share", "crypto-pipeline");
    }

    /**
     * The database settings: a password in the URL is moved out of it into a {@link Secret}; otherwise
     * {@code PGPASSWORD} is used, or the driver reads {@code ~/.pgpass}. The user is the URL's, or {@code PGUSER}.
     */
    static PipelineConfig.DatabaseConfig database(String jdbcUrl, Map<String, String> env) {
        if (jdbcUrl == null || jdbcUrl.isEmpty()) {
            return PipelineConfig.DatabaseConfig.embedded();
        }
        Optional<Secret> password = Optional.empty();
        boolean hasUser = false;
        String url = jdbcUrl;
        int q = jdbcUrl.indexOf('?');
        if (q >= 0) {
            List<String> kept = new ArrayList<>();
            for (String param : jdbcUrl.substring(q + 1).split("&")) {
                String key = param.contains("=") ? param.substring(0, param.indexOf('=')) : param;
                if (key.equalsIgnoreCase("password")) {
                    password = Optional.of(new Secret(URLDecoder.decode(param.substring(key.length() + 1),
                            StandardCharsets.UTF_8)));
                } else if (!param.isEmpty()) {
                    hasUser |= key.equalsIgnoreCase("user");
                    kept.add(param);
                }
            }
            url = jdbcUrl.substring(0, q) + (kept.isEmpty() ? "" : "?" + String.join("&", kept));
        }
        if (password.isEmpty() && env.get("PGPASSWORD") != null && !env.get("PGPASSWORD").isEmpty()) {
            password = Optional.of(new Secret(env.get("PGPASSWORD")));
        }
        Optional<String> user = Optional.empty();
        if (!hasUser && env.get("PGUSER") != null && !env.get("PGUSER").isEmpty()) {
            user = Optional.of(env.get("PGUSER"));
        }
        return new PipelineConfig.DatabaseConfig(Optional.of(url), user, password);
    }

    /** Opens the pipeline of a command; the caller closes it (which stops an embedded server it started). */
    static Pipeline open(CommonOptions o, Map<String, String> env, String command, List<String> args) {
        PipelineConfig config = config(o, env);
        log.info("crypto-pipeline {}: {}", command, describe(config));
        Clock clock = Clock.systemUTC();
        Source source = Deferred.source(config.source().optionValue(), () -> source(config, clock));
        Lake lake = Deferred.lake(config.lake(), () -> lake(config));
        return open(config, command, args, source, lake, clock);
    }

    /** Opens a pipeline over the given source and lake (tests pass in-process fakes of the cloud services). */
    static Pipeline open(PipelineConfig config, String command, List<String> args, Source source, Lake lake,
                         Clock clock) {
        Database database = config.database().jdbcUrl()
                .<Database>map(url -> new JdbcDatabase(url, config.database().user(), config.database().password()))
                .orElseGet(() -> EmbeddedDatabase.lazy(config.dataDir()));
        RunContext context = new RunContext(command, redact(args), hostName(), ProcessHandle.current().pid());
        return new Pipeline(config, source, lake, database, clock, context);
    }

    private static Source source(PipelineConfig config, Clock clock) {
        return switch (config.source()) {
            case SYNTHETIC -> new SyntheticSource(config.rowsPerDay(), ROWS_PER_FILE, clock);
            case BIGQUERY -> {
                PipelineConfig.GcpConfig gcp = config.gcp();
                BigQuery bigquery = GoogleCloud.bigquery(gcp);
                yield new BigQuerySource(bigquery, new BigQueryJobs(bigquery, BigQueryJobs.Timing.defaults()),
                        new BigQuerySource.Settings(GoogleCloud.requireProject(gcp), gcp.bqDataset(),
                                gcp.bqLocation(), gcp.maxBytesBilled(), STAGING_DAYS, EXTRACT_THREADS), clock);
            }
        };
    }

    private static Lake lake(PipelineConfig config) {
        if (config.lake().isEmpty()) {
            throw new PipelineException.BadInput("No lake given: set --lake (a local folder or gs://bucket[/prefix])"
                    + " or --gcp-project for the default gs://<project>-crypto-lake");
        }
        if (config.gcsLake()) {
            return new GcsLake(GoogleCloud.storage(config.gcp()), config.lake(), config.gcp().bqLocation(),
                    config.gcp().retentionDays());
        }
        return new LocalLake(Path.of(config.lake()));
    }

    /** The effective configuration for the log: every value that matters, no secret. */
    static String describe(PipelineConfig c) {
        return "source=" + c.source().optionValue() + " lake=" + c.lake() + " database="
                + c.database().jdbcUrl().orElse("embedded (" + c.dataDir().resolve("postgres") + ")")
                + c.database().user().map(u -> " user=" + u).orElse("")
                + c.database().password().map(p -> " password=" + p).orElse("")
                + " pg-schema=" + c.pgSchema() + " data-dir=" + c.dataDir()
                + (c.queryLimit().isPresent() ? " query-limit=" + c.queryLimit().getAsInt() : "")
                + (c.source() == SourceKind.SYNTHETIC ? " rows-per-day=" + c.rowsPerDay()
                : " gcp-project=" + c.gcp().project().orElse("(default)") + " bq-dataset=" + c.gcp().bqDataset()
                        + " bq-location=" + c.gcp().bqLocation()
                        + c.gcp().maxBytesBilled().map(b -> " max-bytes-billed=" + b).orElse("")
                        + c.gcp().bigqueryEndpoint().map(e -> " bigquery-endpoint=" + e).orElse(""))
                + c.gcp().gcsEndpoint().map(e -> " gcs-endpoint=" + e).orElse("")
                + (c.dryRun() ? " dry-run" : "");
    }

    /** The command line as recorded in the runs ledger: any password in it replaced by {@code ****}. */
    static String redact(List<String> args) {
        List<String> out = new ArrayList<>();
        for (String a : args) {
            out.add(a.replaceAll("(?i)(password=)[^&\\s]*", "$1****"));
        }
        return String.join(" ", out);
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "unknown-host";
        }
    }
}
