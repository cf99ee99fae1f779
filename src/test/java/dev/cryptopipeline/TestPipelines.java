package dev.cryptopipeline;

import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.config.PipelineConfig;
import dev.cryptopipeline.config.SourceKind;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.RunContext;
import dev.cryptopipeline.sink.JdbcDatabase;
import dev.cryptopipeline.source.Source;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.OptionalInt;

/** Builds a pipeline over a given source and lake against a PostgreSQL URL, as the CLI's wiring would. */
public final class TestPipelines {
    private TestPipelines() {
    }

    public static Pipeline pipeline(SourceKind kind, Source source, Lake lake, String jdbcUrl, String schema,
                                    Path dataDir, int rowsPerDay, boolean dryRun, Pipeline.Retry retry) {
        return pipeline(kind, source, lake, jdbcUrl, schema, dataDir, rowsPerDay, OptionalInt.empty(), dryRun, retry);
    }

    /** As above, with {@code --query-limit}. */
    public static Pipeline pipeline(SourceKind kind, Source source, Lake lake, String jdbcUrl, String schema,
                                    Path dataDir, int rowsPerDay, OptionalInt queryLimit, boolean dryRun,
                                    Pipeline.Retry retry) {
        PipelineConfig config = new PipelineConfig(kind, lake.location(),
                new PipelineConfig.DatabaseConfig(Optional.of(jdbcUrl), Optional.empty(), Optional.empty()),
                new Identifier(schema), dataDir, queryLimit, rowsPerDay, PipelineConfig.GcpConfig.defaults(),
                dryRun);
        return new Pipeline(config, source, lake, new JdbcDatabase(jdbcUrl, Optional.empty(), Optional.empty()),
                Clock.systemUTC(), new RunContext("test", "test", "test-host", ProcessHandle.current().pid()), retry);
    }

    /** As the first, loading up to {@code jobs} days at once. */
    public static Pipeline pipeline(SourceKind kind, Source source, Lake lake, String jdbcUrl, String schema,
                                    Path dataDir, int rowsPerDay, boolean dryRun, Pipeline.Retry retry, int jobs) {
        PipelineConfig config = new PipelineConfig(kind, lake.location(),
                new PipelineConfig.DatabaseConfig(Optional.of(jdbcUrl), Optional.empty(), Optional.empty()),
                new Identifier(schema), dataDir, OptionalInt.empty(), rowsPerDay, PipelineConfig.GcpConfig.defaults(),
                dryRun, jobs, false);
        return new Pipeline(config, source, lake, new JdbcDatabase(jdbcUrl, Optional.empty(), Optional.empty()),
                Clock.systemUTC(), new RunContext("test", "test", "test-host", ProcessHandle.current().pid()), retry);
    }

    /** A synthetic-source pipeline against the shared test server. */
    public static Pipeline synthetic(Source source, Lake lake, String schema, Path dataDir, int rowsPerDay) {
        return pipeline(SourceKind.SYNTHETIC, source, lake, TestPostgres.jdbcUrl(), schema, dataDir, rowsPerDay,
                false, Pipeline.Retry.defaults());
    }
}
