package dev.cryptopipeline.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cryptopipeline.CliRun;
import dev.cryptopipeline.TestPostgres;
import dev.cryptopipeline.lake.FakeGcs;
import dev.cryptopipeline.lake.LakeLayout;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real CLI in this JVM with both Google services served over HTTP: BigQuery by {@link FakeBigQuery}, whose
 * extracts land in {@link FakeGcs}, from which the loader reads. (Here rather than beside FakeGcsIT because
 * FakeBigQuery is this package's.)
 */
class FakeGcsBackfillIT {
    @TempDir
    Path dataDir;

    @Test
    void a_bigquery_backfill_goes_through_cloud_storage_over_http_into_postgres() throws Exception {
        LocalDate day = LocalDate.now(ZoneOffset.UTC).minusDays(3);
        String schema = TestPostgres.newSchema("gcs");
        try (FakeBigQuery bigquery = new FakeBigQuery(); FakeGcs gcs = new FakeGcs()) {
            // given: 500 rows at the source for the day
            bigquery.sourceRows.put(day, 500L);
            BigQueryExports.writeExtractsInto(bigquery, gcs);
            String[] where = {"--source", "bigquery", "--gcp-project", BigQueryExports.PROJECT,
                "--bigquery-endpoint", bigquery.endpoint(), "--gcs-endpoint", gcs.endpoint(), "--lake",
                "gs://lake/eth", "--jdbc-url", TestPostgres.jdbcUrl(), "--pg-schema", schema, "--data-dir",
                dataDir.toString()};
            // and the bucket made by setup (only setup touches buckets)
            CliRun setup = CliRun.runWithEnv(Map.of(), concat(new String[] {"setup"}, where));
            assertThat(setup.exitCode()).as(setup.toString()).isZero();
            int before = gcs.requests().size();
            // when
            CliRun run = CliRun.runWithEnv(Map.of(), concat(new String[] {"backfill", "--start-date", day.toString(),
                "--end-date", day.toString()}, where));
            // then
            assertThat(run.exitCode()).as(run.toString()).isZero();
            try (Connection c = TestPostgres.superuser()) {
                assertThat(TestPostgres.count(c, schema, day)).isEqualTo(500);
            }
            JsonNode bucket = gcs.bucket("lake").orElseThrow();
            assertThat(bucket.path("location").asText()).isEqualTo("US");
            assertThat(bucket.at("/lifecycle/rule/0/condition/matchesPrefix/0").asText())
                    .isEqualTo("eth/" + LakeLayout.ROOT);
            List<String> names = gcs.objects("lake", "eth/" + LakeLayout.dayPrefix(day)).stream()
                    .map(FakeGcs.StoredObject::name).toList();
            assertThat(names).filteredOn(n -> n.endsWith(".csv.gz")).hasSize(2);
            assertThat(names).filteredOn(n -> n.endsWith(LakeLayout.MANIFEST)).hasSize(1);
            assertThat(gcs.requests()).extracting(FakeGcs.Request::kind).doesNotContain(FakeGcs.Kind.UNKNOWN);
            // and the backfill used object operations only: no bucket get or create (Storage Object Admin suffices)
            assertThat(gcs.requests().subList(before, gcs.requests().size())).extracting(FakeGcs.Request::kind)
                    .doesNotContain(FakeGcs.Kind.BUCKET_GET, FakeGcs.Kind.BUCKET_INSERT);
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
