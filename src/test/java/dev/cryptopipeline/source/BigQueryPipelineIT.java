package dev.cryptopipeline.source;

import static dev.cryptopipeline.TestPostgres.count;
import static dev.cryptopipeline.TestPostgres.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.CliRun;
import dev.cryptopipeline.TestPipelines;
import dev.cryptopipeline.TestPostgres;
import dev.cryptopipeline.config.SourceKind;
import dev.cryptopipeline.lake.GcsLake;
import dev.cryptopipeline.lake.TestStorage;
import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.RunReport;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End to end: the fake BigQuery writes the days into the fake GCS, and the loader puts them into PostgreSQL. */
class BigQueryPipelineIT {
    private static final LocalDate YESTERDAY = LocalDate.now(ZoneOffset.UTC).minusDays(1);

    @TempDir
    Path dataDir;
    FakeBigQuery fake;
    TestStorage gcs;
    String schema;

    @BeforeEach
    void start() throws Exception {
        fake = new FakeBigQuery();
        gcs = new TestStorage();
        BigQueryExports.writeExtractsInto(fake, gcs);
        schema = TestPostgres.newSchema("bq");
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    private Pipeline pipeline(String command, boolean dryRun) {
        GcsLake lake = new GcsLake(gcs.storage, "gs://crypto-lake/eth", "US", 14);
        return TestPipelines.pipeline(SourceKind.BIGQUERY, BigQueryExports.source(fake, Optional.empty(),
                Clock.systemUTC()), lake, TestPostgres.jdbcUrl(), schema, dataDir, 10000, dryRun,
                Pipeline.Retry.defaults());
    }

    @Test
    void setup_then_backfill_loads_bigquery_exports_into_postgres() throws Exception {
        // given: three days at the source, one of them empty
        LocalDate first = YESTERDAY.minusDays(4);
        fake.sourceRows.put(first, 700L);
        fake.sourceRows.put(first.plusDays(2), 333L);
        // when
        List<String> setup = pipeline("setup", false).setup();
        RunReport report = pipeline("backfill", false).backfill(first, first.plusDays(2), false);
        // then
        assertThat(setup).contains("lake gs://crypto-lake/eth: created (objects deleted after 14 days)")
                .anyMatch(l -> l.startsWith("BigQuery dataset test-project:staging: created in US"));
        assertThat(gcs.buckets.get("crypto-lake").getLocation()).isEqualTo("US");
        assertThat(gcs.buckets.get("crypto-lake").getLifecycleRules().get(0).getCondition().getMatchesPrefix())
                .containsExactly("eth/token_transfers/");
        assertThat(report.rows()).isEqualTo(1033);
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, first)).isEqualTo(700);
            assertThat(count(c, schema, first.plusDays(1))).isZero();
            assertThat(count(c, schema, first.plusDays(2))).isEqualTo(333);
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days")).isEqualTo(3);
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days WHERE source = 'bigquery'"
                    + " AND cardinality(source_jobs) >= 1")).isEqualTo(3);
            // BigQuery's "YYYY-MM-DD HH:MM:SS UTC" timestamps land in the right UTC day, whatever the server's zone
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".token_transfers WHERE"
                    + " (block_timestamp AT TIME ZONE 'UTC')::date = '" + first + "'")).isEqualTo(700);
        }
        // and the whole range cost one query job
        assertThat(fake.jobInserts().stream().filter(b -> b.path("configuration").path("query")
                .has("destinationTable") && !b.path("configuration").path("dryRun").asBoolean())).hasSize(1);
    }

    @Test
    void daily_skips_a_day_the_source_has_not_finished_and_exits_0() throws Exception {
        // given: loaded up to the day before yesterday; yesterday's partition not rewritten yet
        fake.sourceRows.put(YESTERDAY.minusDays(1), 10L);
        fake.sourceRows.put(YESTERDAY, 10L);
        fake.lastModified = YESTERDAY.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().plusSeconds(300);
        pipeline("backfill", false).backfill(YESTERDAY.minusDays(1), YESTERDAY.minusDays(1), false);
        // when
        RunReport daily = pipeline("daily", false).catchUp();
        // then
        assertThat(daily.loaded()).isEmpty();
        assertThat(daily.unfinished()).containsExactly(YESTERDAY);
        assertThat(daily.summaryLine()).contains(YESTERDAY + " not finished at the source yet");
        assertThat(daily.exitCode().value()).isZero();
    }

    @Test
    void a_dry_run_through_the_cli_prints_the_plan_and_changes_nothing() throws Exception {
        // when
        CliRun run = CliRun.runWithEnv(Map.of(), "backfill", "--source", "bigquery", "--gcp-project",
                BigQueryExports.PROJECT, "--bigquery-endpoint", fake.endpoint(), "--lake", "gs://nowhere/lake",
                "--jdbc-url", TestPostgres.jdbcUrl(), "--pg-schema", schema, "--data-dir", dataDir.toString(),
                "--start-date", YESTERDAY.minusDays(2).toString(), "--end-date", YESTERDAY.toString(),
                "--query-limit", "100", "--dry-run");
        // then
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).contains("backfill: dry run, nothing changed: would load 3 days")
                .contains("an estimated 987654321 bytes").contains("@row_limit=100")
                .contains("QUALIFY ROW_NUMBER() OVER (PARTITION BY DATE(block_timestamp)");
        assertThat(fake.jobInserts()).allMatch(b -> b.path("configuration").path("dryRun").asBoolean());
        try (Connection c = TestPostgres.superuser()) {
            assertThat(TestPostgres.schemaExists(c, schema)).isFalse();
        }
    }
}
