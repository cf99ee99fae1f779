package dev.cryptopipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Misuse of the command line: one clear line naming the fix, exit 2, no stack trace, nothing written. */
class CliTest {
    @TempDir
    Path dataDir;

    private CliRun cli(String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        if (!all.get(0).equals("status")) {
            all.addAll(List.of("--source", "synthetic"));
        }
        all.addAll(List.of("--data-dir", dataDir.toString()));
        return CliRun.run(all.toArray(String[]::new));
    }

    private void assertUsageError(CliRun run, String... fragments) {
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(2);
        assertThat(run.err().strip().lines()).as("one line").hasSize(1);
        assertThat(run.err()).startsWith("crypto-pipeline: ").contains(fragments).doesNotContain("\tat ");
        assertThat(run.out()).isEmpty();
        assertThat(dataDir).isEmptyDirectory();
    }

    @Test
    void a_data_directory_that_the_embedded_server_cannot_use_is_refused_before_anything_is_made() {
        String bad = dataDir.resolve("price$USD").toString();
        assertUsageError(CliRun.run("setup", "--source", "synthetic", "--data-dir", bad),
                "cannot live in " + bad + "/postgres", "choose another --data-dir, or give --jdbc-url");
    }

    @Test
    void a_data_directory_that_cannot_be_made_is_refused_before_anything_is_written() throws Exception {
        // given: a folder under a file (as under a HOME that is not writable, which root cannot be shown here)
        java.nio.file.Path file = java.nio.file.Files.createTempFile("crypto-pipeline-home", ".txt");
        try {
            for (String[] args : List.of(new String[] {"setup", "--source", "synthetic"},
                    new String[] {"backfill", "--source", "synthetic", "--start-date", "2024-01-01"})) {
                List<String> all = new ArrayList<>(List.of(args));
                all.addAll(List.of("--data-dir", file.resolve("data").toString()));
                assertUsageError(CliRun.run(all.toArray(String[]::new)), "Cannot create the data directory "
                        + file.resolve("data") + ": " + file + " is not a folder for user "
                        + System.getProperty("user.name") + "; give --data-dir (or CRYPTO_PIPELINE_HOME) a folder it"
                        + " can write");
            }
        } finally {
            java.nio.file.Files.delete(file);
        }
    }

    @Test
    void a_data_directory_that_is_a_file_is_refused_for_every_command() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("crypto-pipeline-notes", ".txt");
        try {
            for (String[] args : List.of(new String[] {"setup", "--source", "synthetic"},
                    new String[] {"backfill", "--source", "synthetic", "--start-date", "2024-01-01"},
                    new String[] {"status"})) {
                List<String> all = new ArrayList<>(List.of(args));
                all.addAll(List.of("--data-dir", file.toString()));
                assertUsageError(CliRun.run(all.toArray(String[]::new)), "--data-dir " + file
                        + " is a file, not a folder: give another --data-dir");
            }
        } finally {
            java.nio.file.Files.delete(file);
        }
    }

    @Test
    void verbose_before_the_command_is_taken_as_after_it() {
        CliRun before = CliRun.run("-v", "backfill", "--start-date", "2024-02-30", "--data-dir", dataDir.toString());
        assertThat(before.exitCode()).as(before.toString()).isEqualTo(2);
        assertThat(before.err()).contains("'2024-02-30' is not a valid date").doesNotContain("Unknown option");
        assertThat(Main.verboseAfterCommand(new String[] {"--verbose", "status", "--json"}))
                .containsExactly("status", "--verbose", "--json");
        assertThat(Main.verboseAfterCommand(new String[] {"-v", "--help"})).containsExactly("-v", "--help");
    }

    @Test
    void an_unknown_option_is_named_with_the_way_to_help() {
        assertUsageError(cli("daily", "--frobnicate"), "Unknown option: '--frobnicate'",
                "Run 'crypto-pipeline daily --help'");
    }

    @Test
    void a_mistyped_option_is_named_with_the_closest_valid_one_even_when_a_required_option_is_missing() {
        assertUsageError(cli("backfill", "--start-dat", "2024-01-01"), "Unknown option: '--start-dat'",
                "Did you mean --start-date?");
        assertUsageError(cli("daily", "--querylimit=5"), "Unknown option: '--querylimit'", "--query-limit");
    }

    @Test
    void a_mistyped_command_is_named_with_the_closest_valid_one() {
        CliRun run = CliRun.run("dayly", "--data-dir", dataDir.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("Unknown command: 'dayly'").contains("Did you mean daily?");
        assertThat(run.err().strip().lines()).hasSize(1);
    }

    @Test
    void each_command_lists_only_the_options_it_uses() {
        CliRun status = CliRun.run("status", "--help");
        assertThat(status.out()).contains("--jdbc-url", "--check", "--max-age-days", "Exit codes:")
                .doesNotContain("--gcp-project", "--bq-dataset", "--query-limit", "--source");
        assertUsageError(cli("status", "--source", "synthetic"), "Unknown option: '--source'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "33"})
    void a_jobs_count_out_of_range_is_refused(String jobs) {
        assertUsageError(cli("backfill", "--start-date", "2024-01-01", "--jobs", jobs),
                "--jobs must be between 1 and 32");
    }

    @ParameterizedTest
    @ValueSource(strings = {"jdbc:postgresql://localhost:notaport/db", "jdbc:postgresql://127.0.0.1:1/db?password",
            "jdbc:postgresql://[::1/db"})
    void a_jdbc_url_the_driver_cannot_read_is_one_clear_line(String url) {
        CliRun run = cli("backfill", "--start-date", "2024-01-01", "--jdbc-url", url);
        assertThat(run.exitCode()).as(run.toString()).isIn(1, 2);
        assertThat(run.err().strip().lines()).as(run.toString()).hasSize(1);
        assertThat(run.err()).doesNotContain("Exception");
    }

    @Test
    void a_negative_max_age_is_refused() {
        assertUsageError(cli("status", "--check", "--max-age-days", "-1"), "--max-age-days must be 0 or more");
    }

    @Test
    void a_negative_verify_days_or_a_backwards_verify_range_is_refused() {
        assertUsageError(cli("daily", "--verify-days", "-1"), "--verify-days must be 0 or more");
        assertUsageError(cli("verify", "--start-date", "2024-01-02", "--end-date", "2024-01-01"),
                "--start-date 2024-01-02 is after --end-date 2024-01-01");
    }

    @Test
    void a_missing_command_is_a_usage_error() {
        CliRun run = CliRun.run();
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("Missing command");
    }

    @ParameterizedTest
    @ValueSource(strings = {"2024-13-01", "2024-1-5", "yesterday", "2024-02-30", "2023-02-29"})
    void a_malformed_or_impossible_date_is_refused(String date) {
        assertUsageError(cli("backfill", "--start-date", date), "'" + date + "' is not a valid date",
                "use yyyy-MM-dd");
    }

    @Test
    void an_impossible_date_says_why() {
        assertUsageError(cli("daily", "--date", "2024-02-30"), "Invalid date 'FEBRUARY 30'");
    }

    @Test
    void a_start_after_the_end_is_refused() {
        assertUsageError(cli("backfill", "--start-date", "2024-01-05", "--end-date", "2024-01-01"),
                "--start-date 2024-01-05 is after --end-date 2024-01-01");
    }

    @Test
    void a_day_that_has_not_finished_is_refused() {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        assertUsageError(cli("daily", "--date", today.toString()), "--date " + today + " has not finished yet (UTC)",
                "the last finished day is " + today.minusDays(1));
        assertUsageError(cli("backfill", "--start-date", today.minusDays(3).toString(), "--end-date",
                today.plusDays(5).toString()), "--end-date " + today.plusDays(5) + " has not finished yet");
    }

    @Test
    void a_day_before_ethereum_is_refused() {
        assertUsageError(cli("backfill", "--start-date", "2014-01-01"), "before Ethereum's first day 2015-07-30");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-5"})
    void a_query_limit_that_is_not_positive_is_refused(String limit) {
        assertUsageError(cli("backfill", "--start-date", "2024-01-01", "--query-limit", limit),
                "--query-limit must be a positive integer");
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "1.5", "99999999999"})
    void a_query_limit_that_is_not_an_integer_is_refused(String limit) {
        assertUsageError(cli("backfill", "--start-date", "2024-01-01", "--query-limit", limit),
                "Invalid value for option '--query-limit'");
    }

    @Test
    void backfill_needs_a_start_date() {
        assertUsageError(cli("backfill"), "Missing required option: '--start-date=YYYY-MM-DD'");
    }

    @Test
    void setup_chain_needs_a_start_date() {
        assertUsageError(cli("setup", "--chain"), "setup --chain needs --start-date");
    }

    @ParameterizedTest
    @ValueSource(strings = {"x; drop table y", "Crypto", "a\"b", "with space", "1abc", ""})
    void a_schema_name_that_is_not_a_plain_identifier_is_refused(String schema) {
        assertUsageError(cli("status", "--pg-schema", schema), "--pg-schema is not a valid name: '" + schema + "'",
                "use lowercase letters");
    }

    @Test
    void a_schema_name_postgresql_reserves_is_refused() {
        assertUsageError(cli("status", "--pg-schema", "pg_catalog"), "--pg-schema pg_catalog: names starting with"
                + " pg_ are reserved");
    }

    @ParameterizedTest
    @ValueSource(strings = {"s3://bucket/lake", "GS://bucket", "https://storage.example/lake", "file://host/x"})
    void a_lake_on_storage_the_tool_does_not_speak_is_refused(String lake) {
        CliRun run = CliRun.run("backfill", "--source", "synthetic", "--start-date", "2024-01-01", "--lake", lake,
                "--data-dir", dataDir.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--lake " + lake).hasLineCount(1);
        assertThat(dataDir.resolve("postgres")).doesNotExist();
    }

    @Test
    void a_dataset_name_that_is_not_a_plain_identifier_is_named_as_given() {
        assertUsageError(cli("backfill", "--start-date", "2024-01-01", "--bq-dataset",
                "Staging-Ünïcode"), "--bq-dataset is not a valid name: 'Staging-Ünïcode'");
    }

    @Test
    void a_jdbc_url_of_another_kind_is_refused() {
        assertUsageError(cli("status", "--jdbc-url", "mysql://localhost/x"), "--jdbc-url must start with",
                "e.g. jdbc:postgresql://localhost:5432/crypto?user=crypto");
    }

    @Test
    void a_libpq_uri_is_refused_with_its_jdbc_form_and_never_its_password() {
        CliRun run = cli("status", "--jdbc-url", "postgresql://loader:s3cret@db.example:5433/crypto?sslmode=require");
        assertUsageError(run, "--jdbc-url must start with jdbc:postgresql:, e.g."
                + " jdbc:postgresql://db.example:5433/crypto?user=loader&sslmode=require (the JDBC form of that libpq"
                + " URI; the password goes in PGPASSWORD or ~/.pgpass)");
        assertThat(run.err()).doesNotContain("s3cret");
        assertUsageError(cli("status", "--jdbc-url", "postgres://db/x"), "e.g. jdbc:postgresql://db/x (the JDBC form");
    }

    @Test
    void user_and_password_before_the_host_of_a_jdbc_url_are_refused_and_the_password_never_shown() {
        CliRun run = cli("status", "--jdbc-url", "jdbc:postgresql://loader:s3cret@db.example:5433/crypto?ssl=true");
        assertUsageError(run, "--jdbc-url cannot carry user[:password]@ before the host (the PostgreSQL driver does"
                + " not read it): use jdbc:postgresql://db.example:5433/crypto?user=loader&ssl=true, the password in"
                + " PGPASSWORD or ~/.pgpass");
        assertThat(run.err()).doesNotContain("s3cret");
    }

    @Test
    void a_config_file_that_does_not_exist_is_refused() {
        assertUsageError(cli("status", "--config", dataDir.resolve("nope.properties").toString()),
                "does not exist");
    }

    @Test
    void a_config_file_that_cannot_be_read_is_refused(@TempDir Path dir) {
        assertUsageError(cli("status", "--config", dir.toString()), "Cannot read the config file " + dir,
                "properties file");
    }

    @Test
    void a_config_file_with_an_unknown_key_is_refused(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("c.properties"), "source=synthetic\nquery_limt=5\n");
        assertUsageError(cli("status", "--config", config.toString()), "Unknown key [query_limt]",
                "the known keys are");
    }

    @Test
    void a_bigquery_source_without_a_lake_says_what_to_set() {
        CliRun run = CliRun.run("backfill", "--start-date", "2024-01-01", "--data-dir", dataDir.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--lake");
    }

    @Test
    void help_lists_the_commands_and_the_exit_codes() {
        CliRun run = CliRun.run("--help");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("setup", "backfill", "daily", "status", "Exit codes:", "75");
        CliRun sub = CliRun.run("daily", "--help");
        assertThat(sub.out()).contains("--date", "--source", "--jdbc-url", "--query-limit", "Exit codes:", "75");
    }

    @Test
    void version_prints_one_line() {
        CliRun run = CliRun.run("--version");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).startsWith("crypto-pipeline ");
        assertThat(run.out().strip().lines()).hasSize(1);
    }

    @Test
    void the_quick_top_level_help_is_exactly_what_picocli_renders() throws Exception {
        // The top command's help is answered from a file rendered at build time, for a quick start; it must never
        // drift from the commands. Regenerate with: mvn -B verify -Dtest=CliTest -Dgolden.update=true
        java.nio.file.Path file = java.nio.file.Path.of("src/main/resources" + Main.TOP_HELP);
        String rendered = Main.renderTopHelp();
        if (Boolean.getBoolean("golden.update")) {
            Files.writeString(file, rendered);
        }
        assertThat(Files.readString(file)).as("src/main/resources" + Main.TOP_HELP + " is stale: regenerate it with"
                + " -Dgolden.update=true").isEqualTo(rendered);
        assertThat(CliRun.run("--help").out()).isEqualTo(rendered);
        assertThat(CliRun.run("-h").out()).isEqualTo(rendered);
    }

    @Test
    void a_bash_completion_script_is_generated() {
        CliRun run = CliRun.run("generate-completion");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("complete -F").contains("backfill").contains("--start-date");
    }
}
