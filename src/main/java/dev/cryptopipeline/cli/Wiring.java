package dev.cryptopipeline.cli;

import com.google.cloud.bigquery.BigQuery;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.config.PipelineConfig;
import dev.cryptopipeline.config.Secret;
import dev.cryptopipeline.config.SourceKind;
import dev.cryptopipeline.lake.GcsLake;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LocalLake;
import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.Progress;
import dev.cryptopipeline.pipeline.RunContext;
import dev.cryptopipeline.sink.Database;
import dev.cryptopipeline.sink.EmbeddedDatabase;
import dev.cryptopipeline.sink.JdbcDatabase;
import dev.cryptopipeline.source.BigQueryJobs;
import dev.cryptopipeline.source.BigQuerySource;
import dev.cryptopipeline.source.Source;
import dev.cryptopipeline.source.SyntheticSource;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Properties;
import org.slf4j.LoggerFactory;

/**
 * The one place that reads the environment and builds concrete classes: configuration, source, lake, database.
 */
final class Wiring {
    static final int ROWS_PER_FILE = 250_000;
    /** Default table expiration of the staging dataset: staging tables are only needed until extracted. */
    static final int STAGING_DAYS = 3;
    static final int EXTRACT_THREADS = 8;

    private Wiring() {
    }

    /**
     * Builds and validates the effective configuration.
     *
     * @param source null for a command that only reads the database: then no source or lake is configured
     * @param run    null for a command that loads nothing
     */
    static PipelineConfig config(CommonOptions o, SourceOptions source, RunOptions run, boolean allowEmpty,
                                 Map<String, String> env) {
        Path dataDir = (o.dataDir != null ? o.dataDir : defaultDataDir(env)).toAbsolutePath().normalize();
        if (Files.exists(dataDir) && !Files.isDirectory(dataDir)) {
            throw new PipelineException.BadInput("--data-dir " + dataDir + " is a file, not a folder: give another"
                    + " --data-dir");
        }
        Identifier schema = Identifier.of("--pg-schema", o.pgSchema);
        if (schema.name().startsWith("pg_")) {
            throw new PipelineException.BadInput("--pg-schema " + schema + ": names starting with pg_ are reserved for"
                    + " PostgreSQL's own schemas; choose another, e.g. crypto_eth");
        }
        PipelineConfig.DatabaseConfig database = database(o.jdbcUrl, env);
        if (run != null && run.jobs != null && (run.jobs < 1 || run.jobs > PipelineConfig.MAX_JOBS)) {
            throw new PipelineException.BadInput("--jobs must be between 1 and " + PipelineConfig.MAX_JOBS + ", not "
                    + run.jobs);
        }
        int jobs = run == null || run.jobs == null ? 0 : run.jobs;
        boolean dryRun = run != null && run.dryRun;
        if (source == null) {
            return new PipelineConfig(SourceKind.SYNTHETIC, "", database, schema, dataDir, OptionalInt.empty(), 1,
                    PipelineConfig.GcpConfig.defaults(), dryRun, jobs, allowEmpty);
        }
        PipelineConfig.GcpConfig gcp = new PipelineConfig.GcpConfig(
                Optional.ofNullable(blankToNull(source.gcpProject)), Identifier.of("--bq-dataset", source.bqDataset),
                source.bqLocation, source.lakeRetentionDays, Optional.ofNullable(source.maxBytesBilled),
                Optional.ofNullable(blankToNull(source.bigqueryEndpoint)),
                Optional.ofNullable(blankToNull(source.gcsEndpoint)),
                Optional.ofNullable(blankToNull(source.googleCredentials)).map(f -> Path.of(f).toAbsolutePath()
                        .normalize()));
        String lake = source.lake;
        if (lake == null || lake.isEmpty()) {
            if (source.source == SourceKind.SYNTHETIC) {
                lake = dataDir.resolve("lake").toString();
            } else {
                lake = GoogleCloud.project(gcp).map(p -> "gs://" + p + "-crypto-lake").orElse("");
            }
        } else if (lake.startsWith("file:")) {
            try {
                lake = Path.of(java.net.URI.create(lake)).toAbsolutePath().normalize().toString();
            } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
                throw new PipelineException.BadInput("--lake " + lake + " is not a file URI of a local folder: give"
                        + " a folder path, e.g. /srv/crypto-lake, or gs://bucket[/prefix]");
            }
        } else if (!lake.startsWith("gs://")) {
            if (lake.matches("(?s)[A-Za-z][A-Za-z0-9+.-]*://.*")) {
                throw new PipelineException.BadInput("--lake " + lake + ": a lake is a local folder or a Cloud"
                        + " Storage bucket, gs://bucket[/prefix]; no other storage is supported");
            }
            lake = Path.of(lake).toAbsolutePath().normalize().toString();
        }
        return new PipelineConfig(source.source, lake, database, schema, dataDir,
                source.queryLimit == null ? OptionalInt.empty() : OptionalInt.of(source.queryLimit),
                source.rowsPerDay, gcp, dryRun, jobs, allowEmpty);
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
     * The JDBC form of a libpq URI ({@code postgresql://user:secret@host:port/db?sslmode=require}), to suggest it:
     * {@code jdbc:postgresql://host:port/db?user=user&sslmode=require}, without the password.
     */
    static Optional<String> jdbcForm(String libpq) {
        if (!libpq.startsWith("postgresql://") && !libpq.startsWith("postgres://")) {
            return Optional.empty();
        }
        try {
            URI uri = new URI(libpq);
            if (uri.getHost() == null) {
                return Optional.empty();
            }
            List<String> params = new ArrayList<>();
            if (uri.getRawUserInfo() != null) {
                params.add("user=" + uri.getRawUserInfo().split(":", 2)[0]);
            }
            if (uri.getRawQuery() != null) {
                Arrays.stream(uri.getRawQuery().split("&")).filter(p -> !p.startsWith("password="))
                        .forEach(params::add);
            }
            return Optional.of("jdbc:postgresql://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                    + (uri.getRawPath() == null ? "" : uri.getRawPath())
                    + (params.isEmpty() ? "" : "?" + String.join("&", params)));
        } catch (URISyntaxException e) {
            return Optional.empty();
        }
    }

    /**
     * The database settings, read with the PostgreSQL driver's own URL parser: a password in the URL is moved out of
     * it into a {@link Secret}; otherwise {@code PGPASSWORD} is used, or the driver reads {@code ~/.pgpass}. The user
     * is the URL's, or {@code PGUSER}.
     *
     * @throws PipelineException.BadInput if the URL is not one the driver accepts
     */
    static PipelineConfig.DatabaseConfig database(String jdbcUrl, Map<String, String> env) {
        if (jdbcUrl == null || jdbcUrl.isEmpty()) {
            return PipelineConfig.DatabaseConfig.embedded();
        }
        if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
            String example = jdbcForm(jdbcUrl).map(u -> u + " (the JDBC form of that libpq URI; the password goes in"
                    + " PGPASSWORD or ~/.pgpass)").orElse("jdbc:postgresql://localhost:5432/crypto?user=crypto");
            throw new PipelineException.BadInput("--jdbc-url must start with jdbc:postgresql:, e.g. " + example);
        }
        if (jdbcUrl.startsWith("jdbc:postgresql://")) {
            String authority = jdbcUrl.substring("jdbc:postgresql://".length()).split("[/?]", 2)[0];
            if (authority.contains("@")) {
                // The driver would take "user:secret@host" for a host name, and its error would show the password.
                String example = jdbcForm(jdbcUrl.substring("jdbc:".length()))
                        .orElse("jdbc:postgresql://HOST[:PORT]/DATABASE?user=NAME");
                throw new PipelineException.BadInput("--jdbc-url cannot carry user[:password]@ before the host (the"
                        + " PostgreSQL driver does not read it): use " + example + ", the password in PGPASSWORD or"
                        + " ~/.pgpass");
            }
        }
        Properties parsed = parse(jdbcUrl);
        Optional<Secret> password = Optional.ofNullable(parsed.getProperty("password")).filter(p -> !p.isEmpty())
                .map(Secret::new);
        String url = withoutPassword(jdbcUrl);
        Properties again = parse(url);
        if (password.isEmpty() && env.get("PGPASSWORD") != null && !env.get("PGPASSWORD").isEmpty()) {
            password = Optional.of(new Secret(env.get("PGPASSWORD")));
        }
        Optional<String> user = Optional.empty();
        if (again.getProperty("user") == null && env.get("PGUSER") != null && !env.get("PGUSER").isEmpty()) {
            user = Optional.of(env.get("PGUSER"));
        }
        return new PipelineConfig.DatabaseConfig(Optional.of(url), user, password);
    }

    private static Properties parse(String url) {
        Properties p;
        try {
            p = org.postgresql.Driver.parseURL(url, new Properties());
        } catch (RuntimeException e) {
            p = null;
        }
        if (p == null) {
            throw new PipelineException.BadInput("--jdbc-url is not a valid PostgreSQL JDBC URL (host, port,"
                    + " database or parameters cannot be read): use jdbc:postgresql://HOST[:PORT]/DATABASE[?user=NAME]");
        }
        return p;
    }

    /** The URL with every {@code password} parameter removed (a key with or without a value). */
    private static String withoutPassword(String url) {
        int q = url.indexOf('?');
        if (q < 0) {
            return url;
        }
        List<String> kept = new ArrayList<>();
        for (String param : url.substring(q + 1).split("&")) {
            int eq = param.indexOf('=');
            String key = eq < 0 ? param : param.substring(0, eq);
            if (!param.isEmpty() && !key.equalsIgnoreCase("password")) {
                kept.add(param);
            }
        }
        return url.substring(0, q) + (kept.isEmpty() ? "" : "?" + String.join("&", kept));
    }

    /** Opens the pipeline of a loading command; the caller closes it (which stops an embedded server it started). */
    static Pipeline open(CommonOptions o, SourceOptions s, RunOptions r, boolean allowEmpty, boolean createDatabase,
                         Map<String, String> env, String command, List<String> args) {
        PipelineConfig config = config(o, s, r, allowEmpty, env);
        if (createDatabase && (command.equals("setup") || config.database().embeddedServer()
                || config.lake().startsWith(config.dataDir() + "/"))) {
            checkCreatable(config.dataDir());
        }
        // Looked up here, not in a static field: --help and --version never start the logging library.
        LoggerFactory.getLogger(Wiring.class).info("crypto-pipeline {}: {}", command, describe(config));
        Clock clock = Clock.systemUTC();
        // Checked now, before any database is touched: a missing project, credential or lake is reported with
        // nothing written anywhere. A bucket's client is built on first use (a dry run never needs it).
        Source source = source(config, clock);
        Lake lake = lake(config);
        Progress progress = Main.terminalProgress(o.verbose, r != null && r.json);
        return open(config, command, args, source, lake, clock, database(config, createDatabase), progress);
    }

    /**
     * Refuses, before anything is written, a data directory that does not exist and cannot be made: the default one
     * under a HOME that does not exist or is not writable (a system user's {@code /nonexistent}), for one. Otherwise
     * the first thing to fail is the lake folder or the embedded server, and their messages point elsewhere.
     */
    static void checkCreatable(Path dataDir) {
        if (Files.isDirectory(dataDir)) {
            return;
        }
        Path existing = dataDir.getParent();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing != null && (!Files.isDirectory(existing) || !Files.isWritable(existing))) {
            throw new PipelineException.BadInput("Cannot create the data directory " + dataDir + ": " + existing
                    + (Files.isDirectory(existing) ? " is not writable" : " is not a folder") + " for user "
                    + System.getProperty("user.name") + "; give --data-dir (or CRYPTO_PIPELINE_HOME) a folder it can"
                    + " write");
        }
    }

    /** Opens a pipeline that only reads the database and never creates anything (status). */
    static Pipeline openReader(CommonOptions o, Map<String, String> env, String command, List<String> args) {
        PipelineConfig config = config(o, null, null, false, env);
        Clock clock = Clock.systemUTC();
        Source none = Deferred.source("none", () -> {
            throw new IllegalStateException("status uses no source");
        });
        Lake noLake = Deferred.lake("", () -> {
            throw new IllegalStateException("status uses no lake");
        });
        return open(config, command, args, none, noLake, clock, database(config, false), Progress.NONE);
    }

    /** Opens a pipeline over the given parts (tests pass in-process fakes of the cloud services). */
    static Pipeline open(PipelineConfig config, String command, List<String> args, Source source, Lake lake,
                         Clock clock, Database database, Progress progress) {
        RunContext context = new RunContext(command, redact(args), hostName(), ProcessHandle.current().pid());
        return new Pipeline(config, source, lake, database, clock, context, Pipeline.Retry.defaults(), progress);
    }

    /**
     * The target database. The embedded one is started on first use; when {@code create} is false and the data
     * directory holds no embedded database, it refuses instead of creating one.
     */
    static Database database(PipelineConfig config, boolean create) {
        if (config.database().jdbcUrl().isPresent()) {
            return new JdbcDatabase(config.database().jdbcUrl().get(), config.database().user(),
                    config.database().password());
        }
        if (!create && !embeddedExists(config.dataDir())) {
            throw new PipelineException.Failed("No crypto-pipeline database in " + config.dataDir()
                    + ": check --data-dir (or --jdbc-url), or run 'crypto-pipeline setup' first");
        }
        return EmbeddedDatabase.lazy(config.dataDir(), create);
    }

    /** True if the data directory holds an embedded database. */
    static boolean embeddedExists(Path dataDir) {
        return Files.exists(dataDir.resolve("postgres").resolve("PG_VERSION"));
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
            GcsLake.checkUri(config.lake());
            return Deferred.lake(config.lake(), () -> new GcsLake(GoogleCloud.storage(config.gcp()), config.lake(),
                    config.gcp().bqLocation(), config.gcp().retentionDays()));
        }
        return new LocalLake(Path.of(config.lake()), config.gcp().retentionDays());
    }

    /**
     * The settings {@code setup} saves in the data directory: where things are (source, lake, database, Google
     * Cloud), never a secret, never a per-run knob ({@code --query-limit}, {@code --dry-run}).
     */
    static Map<String, String> savedSettings(PipelineConfig c) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("source", c.source().optionValue());
        if (!c.lake().isEmpty()) {
            s.put("lake", c.lake());
        }
        c.database().jdbcUrl().ifPresent(url -> s.put("jdbc-url", c.database().user()
                .map(u -> url + (url.contains("?") ? "&" : "?") + "user=" + java.net.URLEncoder.encode(u,
                        java.nio.charset.StandardCharsets.UTF_8)).orElse(url)));
        s.put("pg-schema", c.pgSchema().name());
        s.put("data-dir", c.dataDir().toString());
        if (c.jobs() > 0) {
            s.put("jobs", Integer.toString(c.jobs()));
        }
        s.put("lake-retention-days", Integer.toString(c.gcp().retentionDays()));
        if (c.source() == SourceKind.SYNTHETIC) {
            s.put("rows-per-day", Integer.toString(c.rowsPerDay()));
        } else {
            GoogleCloud.project(c.gcp()).ifPresent(p -> s.put("gcp-project", p));
            s.put("bq-dataset", c.gcp().bqDataset().name());
            s.put("bq-location", c.gcp().bqLocation());
            c.gcp().maxBytesBilled().ifPresent(b -> s.put("max-bytes-billed", Long.toString(b)));
            c.gcp().bigqueryEndpoint().ifPresent(e -> s.put("bigquery-endpoint", e));
        }
        c.gcp().gcsEndpoint().ifPresent(e -> s.put("gcs-endpoint", e));
        if (c.source() != SourceKind.SYNTHETIC || c.gcsLake()) {
            // A path, not a secret: cron and systemd give no GOOGLE_APPLICATION_CREDENTIALS, the file gives it.
            c.gcp().credentialsFile().ifPresent(f -> s.put("google-credentials", f.toString()));
        }
        return s;
    }

    /** The effective configuration for the log: every value that matters, no secret. */
    static String describe(PipelineConfig c) {
        return "source=" + c.source().optionValue() + " lake=" + c.lake() + " database="
                + c.database().jdbcUrl().orElse("embedded (" + c.dataDir().resolve("postgres") + ")")
                + c.database().user().map(u -> " user=" + u).orElse("")
                + c.database().password().map(p -> " password=" + p).orElse("")
                + " pg-schema=" + c.pgSchema() + " data-dir=" + c.dataDir()
                + (c.queryLimit().isPresent() ? " query-limit=" + c.queryLimit().getAsInt() : "")
                + " jobs=" + (c.jobs() == 0 ? "auto" : c.jobs())
                + (c.source() == SourceKind.SYNTHETIC ? " rows-per-day=" + c.rowsPerDay()
                : " gcp-project=" + c.gcp().project().orElse("(default)") + " bq-dataset=" + c.gcp().bqDataset()
                        + " bq-location=" + c.gcp().bqLocation()
                        + c.gcp().maxBytesBilled().map(b -> " max-bytes-billed=" + b).orElse("")
                        + c.gcp().bigqueryEndpoint().map(e -> " bigquery-endpoint=" + e).orElse(""))
                + c.gcp().gcsEndpoint().map(e -> " gcs-endpoint=" + e).orElse("")
                + c.gcp().credentialsFile().map(f -> " google-credentials=" + f).orElse("")
                + (c.dryRun() ? " dry-run" : "") + (c.allowEmpty() ? " allow-empty" : "");
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
