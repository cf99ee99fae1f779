package dev.cryptopipeline.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.ChildRun;
import dev.cryptopipeline.TestPostgres;
import dev.cryptopipeline.lake.FakeGcs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cron line that {@code setup --chain} prints for the Google Cloud path works as printed: run the way cron runs it
 * (no environment but HOME and PATH, no Google variables, /bin/sh), it loads the next day with the project, dataset,
 * endpoints, lake and database that setup was given, read from the configuration setup saved.
 */
class BigQueryCronLineIT {
    private static final LocalDate YESTERDAY = LocalDate.now(ZoneOffset.UTC).minusDays(1);

    @TempDir
    Path dir;

    @Test
    void the_printed_cron_line_run_as_cron_runs_it_loads_the_next_day() throws Exception {
        String schema = TestPostgres.newSchema("cron");
        Path dataDir = dir.resolve("data");
        try (FakeBigQuery bigquery = new FakeBigQuery(); FakeGcs gcs = new FakeGcs()) {
            // given: three days at the source, yesterday's partition rewritten this morning
            for (int i = 0; i < 3; i++) {
                bigquery.sourceRows.put(YESTERDAY.minusDays(i), 100L + i);
            }
            bigquery.lastModified = YESTERDAY.plusDays(1).atTime(8, 30).toInstant(ZoneOffset.UTC);
            BigQueryExports.writeExtractsInto(bigquery, gcs);
            // and setup --chain with every Google Cloud setting given as a flag, loading up to the day before
            // (a key file named by the environment, as a shell has it and cron does not: setup saves its path)
            Path key = Files.writeString(dir.resolve("key.json"), "{}");
            ChildRun setup = ChildRun.start(Map.of("GOOGLE_APPLICATION_CREDENTIALS", key.toString()), List.of(),
                    "setup", "--chain", "--source", "bigquery", "--gcp-project",
                    BigQueryExports.PROJECT, "--bq-dataset", "cron_staging", "--bq-location", "US",
                    "--max-bytes-billed", "20000000000", "--bigquery-endpoint", bigquery.endpoint(),
                    "--gcs-endpoint", gcs.endpoint(), "--lake", "gs://cron-lake/eth", "--jdbc-url",
                    TestPostgres.jdbcUrl(), "--pg-schema", schema, "--data-dir", dataDir.toString(),
                    "--start-date", YESTERDAY.minusDays(2).toString(), "--end-date", YESTERDAY.minusDays(1).toString());
            assertThat(setup.waitFor(120)).as(setup.all()).isZero();
            String line = setup.out.get(setup.out.size() - 1);
            assertThat(line).contains(" daily --config ").doesNotContain("--gcp-project");
            assertThat(Files.readAllLines(dataDir.resolve("crypto-pipeline.properties")))
                    .contains("google-credentials=" + key);
            String command = line.split(" ", 6)[5].replace("\\%", "%");

            // when: cron runs the line's command
            Path home = Files.createDirectories(dir.resolve("home"));
            Process cron = new ProcessBuilder("env", "-i", "HOME=" + home, "PATH=/usr/bin:/bin", "/bin/sh", "-c",
                    command).redirectErrorStream(true).start();
            String output = new String(cron.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(cron.waitFor(120, TimeUnit.SECONDS)).isTrue();

            // then: yesterday is loaded, with the staging dataset setup created, and the log says so
            String log = Files.readString(dataDir.resolve("daily.log"));
            assertThat(cron.exitValue()).as(output + log).isZero();
            assertThat(log).contains("daily: loaded 1 day (100 rows) " + YESTERDAY);
            try (Connection c = TestPostgres.superuser()) {
                assertThat(TestPostgres.count(c, schema, YESTERDAY)).isEqualTo(100);
            }
            assertThat(bigquery.datasets).containsOnlyKeys("cron_staging");
            List<String> destinations = bigquery.jobInserts().stream()
                    .map(b -> b.path("configuration").path("query").path("destinationTable").path("datasetId")
                            .asText())
                    .filter(d -> !d.isEmpty()).toList();
            assertThat(destinations).isNotEmpty().allMatch("cron_staging"::equals);
            assertThat(bigquery.jobInserts()).allSatisfy(b -> {
                if (b.path("configuration").has("query")) {
                    assertThat(b.path("configuration").path("query").path("maximumBytesBilled").asLong())
                            .isEqualTo(20_000_000_000L);
                }
            });
        }
    }

    @Test
    void a_bare_status_after_setup_says_which_configuration_it_read() throws Exception {
        Path dataDir = dir.resolve("data");
        String schema = TestPostgres.newSchema("cronstatus");
        ChildRun setup = ChildRun.start("setup", "--source", "synthetic", "--jdbc-url", TestPostgres.jdbcUrl(),
                "--pg-schema", schema, "--data-dir", dataDir.toString());
        assertThat(setup.waitFor(60)).as(setup.all()).isZero();
        ChildRun status = ChildRun.start(Map.of("CRYPTO_PIPELINE_HOME", dataDir.toString()), List.of(), "status");
        assertThat(status.waitFor(60)).as(status.all()).isZero();
        assertThat(String.join("\n", status.out)).contains("schema " + schema)
                .contains("Config:   " + dataDir.resolve("crypto-pipeline.properties") + " (saved by setup)");
    }
}
