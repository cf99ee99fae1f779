package dev.cryptopipeline.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cryptopipeline.CliRun;
import dev.cryptopipeline.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Google Cloud options as a user meets them on the command line. */
class GoogleCloudCliIT {
    private static final String YESTERDAY = LocalDate.now(ZoneOffset.UTC).minusDays(1).toString();

    @TempDir
    Path dataDir;

    @Test
    void missing_credentials_are_one_clear_line_before_anything_else() {
        assumeTrue(System.getenv("GOOGLE_APPLICATION_CREDENTIALS") == null
                        && !Files.exists(Path.of(System.getProperty("user.home"),
                        ".config/gcloud/application_default_credentials.json")),
                "this machine has Application Default Credentials");
        CliRun run = CliRun.run("daily", "--date", YESTERDAY, "--source", "bigquery", "--gcp-project", "p",
                "--data-dir", dataDir.toString(), "--jdbc-url", TestPostgres.jdbcUrl(), "--pg-schema",
                TestPostgres.newSchema("creds"));
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
        assertThat(run.err().strip().lines()).hasSize(1);
        assertThat(run.err()).contains("No usable Google Cloud credentials")
                .contains("gcloud auth application-default login").contains("GOOGLE_APPLICATION_CREDENTIALS")
                .doesNotContain("\tat ");
    }

    @Test
    void a_bigquery_source_with_a_local_lake_is_refused() throws Exception {
        try (FakeBigQuery fake = new FakeBigQuery()) {
            CliRun run = CliRun.runWithEnv(Map.of("CRYPTO_PIPELINE_BIGQUERY_ENDPOINT", fake.endpoint()),
                    "daily", "--date", YESTERDAY, "--source", "bigquery", "--gcp-project", "p", "--lake",
                    dataDir.resolve("lake").toString(), "--data-dir", dataDir.toString(), "--jdbc-url",
                    TestPostgres.jdbcUrl(), "--pg-schema", TestPostgres.newSchema("locallake"));
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(2);
            assertThat(run.err()).contains("exports into a gs:// lake");
        }
    }

    @Test
    void without_a_project_the_bigquery_source_says_what_to_set() {
        CliRun run = CliRun.run("backfill", "--start-date", YESTERDAY, "--source", "bigquery", "--bigquery-endpoint",
                "http://127.0.0.1:9", "--lake", "gs://b/p", "--data-dir", dataDir.toString(), "--dry-run");
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(2);
        assertThat(run.err()).contains("No Google Cloud project: set --gcp-project or GOOGLE_CLOUD_PROJECT")
                .contains("without a Google Cloud account, add --source synthetic");
    }
}
