package dev.cryptopipeline.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.CliRun;
import dev.cryptopipeline.TestPostgres;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against live BigQuery and GCS. Runs only when GOOGLE_APPLICATION_CREDENTIALS is set (and uses GOOGLE_CLOUD_PROJECT,
 * and CRYPTO_PIPELINE_LIVE_LAKE if set, else gs://<project>-crypto-lake, created if absent); skipped otherwise.
 */
@EnabledIfEnvironmentVariable(named = "GOOGLE_APPLICATION_CREDENTIALS", matches = ".+",
        disabledReason = "GOOGLE_APPLICATION_CREDENTIALS is not set: the live BigQuery test needs real credentials")
class LiveBigQueryIT {
    @TempDir
    Path dataDir;

    @Test
    void dry_run_one_day_then_load_it_with_a_query_limit_of_100() {
        String day = LocalDate.now(ZoneOffset.UTC).minusDays(3).toString();
        String schema = TestPostgres.newSchema("live");
        String lake = System.getenv().getOrDefault("CRYPTO_PIPELINE_LIVE_LAKE", "");
        String[] common = {"--source", "bigquery", "--jdbc-url", TestPostgres.jdbcUrl(), "--pg-schema", schema,
                "--data-dir", dataDir.toString(), "--query-limit", "100"};
        String[] lakeArgs = lake.isEmpty() ? new String[0] : new String[] {"--lake", lake};

        CliRun dry = CliRun.runWithEnv(Map.of(), concat(concat(new String[] {"daily", "--date", day, "--dry-run"},
                common), lakeArgs));
        assertThat(dry.exitCode()).as(dry.toString()).isZero();
        assertThat(dry.out()).contains("an estimated").contains("bytes");

        CliRun setup = CliRun.runWithEnv(Map.of(), concat(concat(new String[] {"setup"}, common), lakeArgs));
        assertThat(setup.exitCode()).as(setup.toString()).isZero();
        CliRun load = CliRun.runWithEnv(Map.of(), concat(concat(new String[] {"daily", "--date", day}, common),
                lakeArgs));
        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(load.out()).contains("loaded 1 day (100 rows)");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
