package dev.cryptopipeline.cli;

import static dev.cryptopipeline.TestPostgres.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.CliRun;
import dev.cryptopipeline.TestPostgres;
import dev.cryptopipeline.sink.Migrations;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The CLI against real databases and folders: environment failures, credentials, precedence, local defaults. */
class CliIT {
    private static final LocalDate YESTERDAY = LocalDate.now(ZoneOffset.UTC).minusDays(1);

    @TempDir
    Path dataDir;

    /** A refused connection, worded by the driver, and a host name that does not resolve, which it does not name. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "backfill|jdbc:postgresql://127.0.0.1:1/crypto?user=x|at jdbc:postgresql://127.0.0.1:1/crypto (Connection to",
        "backfill|jdbc:postgresql://no-such-host.invalid:5432/crypto|unknown host no-such-host.invalid",
        "status|jdbc:postgresql://127.0.0.1:1/crypto?user=x|at jdbc:postgresql://127.0.0.1:1/crypto (Connection to"})
    void an_unreachable_database_is_a_clear_environment_error(String command, String url, String says) {
        CliRun run = command.equals("status")
                ? CliRun.run("status", "--data-dir", dataDir.toString(), "--jdbc-url", url)
                : CliRun.run(command, "--start-date", YESTERDAY.toString(), "--source", "synthetic",
                "--data-dir", dataDir.toString(), "--jdbc-url", url);
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
        assertThat(run.err()).contains("Cannot connect to PostgreSQL at").contains(says).contains("check --jdbc-url")
                .doesNotContain("\tat ");
        assertThat(run.err().strip().lines()).hasSize(1);
    }

    @Test
    void a_wrong_password_is_a_clear_error_that_never_shows_a_password() throws Exception {
        String schema = TestPostgres.newSchema("login");
        CliRun run = CliRun.runWithEnv(Map.of("PGPASSWORD", "wrong-" + TestPostgres.CANARY_PASSWORD),
                "setup", "--source", "synthetic", "--data-dir", dataDir.toString(), "--pg-schema", schema,
                "--jdbc-url", TestPostgres.canaryUrl());
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
        assertThat(run.err()).contains("refused the login").contains("PGPASSWORD or ~/.pgpass")
                .doesNotContain(TestPostgres.CANARY_PASSWORD);
        CliRun status = CliRun.runWithEnv(Map.of("PGPASSWORD", "wrong-" + TestPostgres.CANARY_PASSWORD),
                "status", "--data-dir", dataDir.toString(), "--pg-schema", schema, "--jdbc-url",
                TestPostgres.canaryUrl());
        assertThat(status.exitCode()).as(status.toString()).isEqualTo(1);
        assertThat(status.err()).contains("refused the login").doesNotContain(TestPostgres.CANARY_PASSWORD);
        try (Connection c = TestPostgres.superuser()) {
            assertThat(TestPostgres.schemaExists(c, schema)).isFalse();
        }
    }

    @Test
    void the_password_from_pgpassword_or_the_url_is_used_and_never_recorded() throws Exception {
        String schema = TestPostgres.newSchema("secret");
        CliRun viaEnv = CliRun.runWithEnv(Map.of("PGPASSWORD", TestPostgres.CANARY_PASSWORD),
                "setup", "--source", "synthetic", "--data-dir", dataDir.toString(), "--pg-schema", schema,
                "--jdbc-url", TestPostgres.canaryUrl());
        assertThat(viaEnv.exitCode()).as(viaEnv.toString()).isZero();
        CliRun viaUrl = CliRun.run("daily", "--date", YESTERDAY.toString(), "--source", "synthetic",
                "--rows-per-day", "100", "--data-dir", dataDir.toString(), "--pg-schema", schema,
                "--jdbc-url", TestPostgres.canaryUrl() + "&password=" + TestPostgres.CANARY_PASSWORD);
        assertThat(viaUrl.exitCode()).as(viaUrl.toString()).isZero();
        assertThat(viaEnv.out() + viaEnv.err() + viaUrl.out() + viaUrl.err())
                .doesNotContain(TestPostgres.CANARY_PASSWORD);
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT string_agg(r::text, '|') FROM " + schema + ".runs r")) {
            rs.next();
            assertThat(rs.getString(1)).contains("password=****").doesNotContain(TestPostgres.CANARY_PASSWORD);
        }
    }

    @Test
    void an_unwritable_lake_is_a_clear_error_and_nothing_is_written() throws Exception {
        String schema = TestPostgres.newSchema("lake");
        Path file = Files.writeString(dataDir.resolve("a-file"), "not a folder");
        CliRun run = CliRun.run("backfill", "--start-date", YESTERDAY.toString(), "--source", "synthetic",
                "--data-dir", dataDir.toString(), "--pg-schema", schema, "--jdbc-url", TestPostgres.jdbcUrl(),
                "--lake", file.resolve("lake").toString());
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
        assertThat(run.err()).contains("Cannot write to the lake folder " + file.resolve("lake"))
                .contains("--lake");
        try (Connection c = TestPostgres.superuser()) {
            assertThat(TestPostgres.schemaExists(c, schema)).isFalse();
        }
    }

    @Test
    void flags_beat_the_environment_which_beats_the_config_file(@TempDir Path dir) throws Exception {
        String schema = TestPostgres.newSchema("precedence");
        Path config = Files.writeString(dir.resolve("pipeline.properties"), String.join("\n",
                "source=bigquery", "rows-per-day=150", "pg-schema=" + schema,
                "jdbc-url=" + TestPostgres.jdbcUrl(), "data-dir=" + dataDir));
        Map<String, String> env = Map.of("CRYPTO_PIPELINE_SOURCE", "synthetic", "CRYPTO_PIPELINE_CONFIG",
                config.toString());
        // the environment's source beats the file's; the file's rows per day apply
        assertThat(CliRun.runWithEnv(env, "daily", "--date", YESTERDAY.minusDays(1).toString()).exitCode())
                .isZero();
        // a flag beats the file
        assertThat(CliRun.runWithEnv(env, "daily", "--date", YESTERDAY.toString(), "--rows-per-day", "170")
                .exitCode()).isZero();
        try (Connection c = TestPostgres.superuser()) {
            assertThat(TestPostgres.count(c, schema, YESTERDAY.minusDays(1))).isEqualTo(150);
            assertThat(TestPostgres.count(c, schema, YESTERDAY)).isEqualTo(170);
        }
    }

    @Test
    void the_quick_start_runs_on_local_defaults_with_the_embedded_database() throws Exception {
        // when: the README's quick start, on a fresh data directory
        CliRun setup = CliRun.run("setup", "--chain", "--source", "synthetic", "--start-date",
                YESTERDAY.minusDays(2).toString(), "--rows-per-day", "500", "--data-dir", dataDir.toString(),
                "--query-limit", "400");
        // then
        assertThat(setup.exitCode()).as(setup.toString()).isZero();
        String cron = setup.lines().get(setup.lines().size() - 1);
        assertThat(cron).matches("\\d{1,2} \\d{1,2} \\* \\* \\* CRYPTO_PIPELINE_NO_BUILD=1 .* daily --config .*")
                .contains("--config " + dataDir.resolve("crypto-pipeline.properties")).contains("--query-limit 400")
                .endsWith(">> " + dataDir.resolve("daily.log") + " 2>&1");
        assertThat(setup.out()).contains("loaded 3 days (1200 rows)");
        assertThat(dataDir.resolve("postgres/postmaster.pid")).as("server stopped at the end").doesNotExist();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir.resolve("lake"))))
                .isEqualTo("rwx------");

        // and the data persists for the next run
        CliRun status = CliRun.run("status", "--json", "--data-dir", dataDir.toString());
        assertThat(status.exitCode()).as(status.toString()).isZero();
        assertThat(status.out()).contains("{\"day\":\"" + YESTERDAY + "\",\"rows\":400,");
        // and a bare daily runs with the settings setup saved (synthetic source, local lake, embedded database)
        CliRun daily = CliRun.run("daily", "--data-dir", dataDir.toString());
        assertThat(daily.exitCode()).as(daily.toString()).isZero();
        assertThat(daily.out()).contains("nothing to do");
        CliRun table = CliRun.run("status", "--data-dir", dataDir.toString());
        assertThat(table.out()).contains("Config:   " + dataDir.resolve("crypto-pipeline.properties")
                + " (saved by setup)");
    }

    @Test
    void setup_is_safe_to_run_again() throws Exception {
        String schema = TestPostgres.newSchema("setup");
        String[] args = {"setup", "--source", "synthetic", "--data-dir", dataDir.toString(), "--pg-schema", schema,
                "--jdbc-url", TestPostgres.jdbcUrl()};
        CliRun first = CliRun.run(args);
        CliRun second = CliRun.run(args);
        assertThat(first.out()).contains("lake " + dataDir.resolve("lake") + ": created")
                .contains("created or migrated to version " + Migrations.latestVersion());
        assertThat(second.exitCode()).isZero();
        assertThat(second.out()).contains(": already exists")
                .contains("already up to date (version " + Migrations.latestVersion() + ")");
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".schema_migrations"))
                    .isEqualTo(Migrations.latestVersion());
        }
    }
}
