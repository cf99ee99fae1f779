package dev.cryptopipeline.pipeline;

import static dev.cryptopipeline.TestPostgres.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cryptopipeline.CliRun;
import dev.cryptopipeline.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an operator relies on: a status monitoring can trust, trial loads, JSON summaries, a lake that prunes itself. */
class OperateIT {
    private static final LocalDate YESTERDAY = LocalDate.now(ZoneOffset.UTC).minusDays(1);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dataDir;
    String schema;

    @BeforeEach
    void newSchema() {
        schema = TestPostgres.newSchema("operate");
    }

    private CliRun cli(String... args) {
        return CliRun.local(dataDir, schema, 300, args);
    }

    @Test
    void status_of_a_mistyped_data_dir_is_one_line_and_creates_nothing() {
        Path typo = dataDir.resolve("nowhere");
        CliRun status = CliRun.run("status", "--data-dir", typo.toString());
        assertThat(status.exitCode()).as(status.toString()).isEqualTo(1);
        assertThat(status.err().strip().lines()).hasSize(1);
        assertThat(status.err()).contains("No crypto-pipeline database in " + typo);
        assertThat(typo).doesNotExist();
    }

    @Test
    void daily_before_anything_was_loaded_writes_nothing() {
        CliRun daily = CliRun.run("daily", "--source", "synthetic", "--data-dir", dataDir.toString());
        assertThat(daily.exitCode()).as(daily.toString()).isEqualTo(2);
        assertThat(daily.err()).contains("run 'crypto-pipeline setup --chain");
        assertThat(dataDir).isEmptyDirectory();
    }

    @Test
    void status_check_is_ok_only_for_fresh_complete_data_after_a_good_run() throws Exception {
        // given: nothing loaded yet
        assertThat(cli("setup").exitCode()).isZero();
        CliRun empty = cli("status", "--check");
        assertThat(empty.exitCode()).as(empty.toString()).isEqualTo(3);
        assertThat(empty.out()).startsWith("CRITICAL: nothing is loaded");
        // when: yesterday loaded
        assertThat(cli("daily", "--date", YESTERDAY.toString()).exitCode()).isZero();
        // then
        CliRun ok = cli("status", "--check");
        assertThat(ok.exitCode()).as(ok.toString()).isZero();
        assertThat(ok.out()).startsWith("OK: 1 days loaded through " + YESTERDAY);
        CliRun stale = cli("status", "--check", "--max-age-days", "0");
        assertThat(stale.exitCode()).isEqualTo(3);
        assertThat(stale.out()).contains("the newest loaded day " + YESTERDAY + " is 1 days old (more than 0)");
        // and a gap is a problem
        assertThat(cli("daily", "--date", YESTERDAY.minusDays(3).toString()).exitCode()).isZero();
        CliRun gap = cli("status", "--check");
        assertThat(gap.exitCode()).isEqualTo(3);
        assertThat(gap.out().strip().lines()).hasSize(1);
        assertThat(gap.out()).contains("2 day(s) missing: " + YESTERDAY.minusDays(2) + ".." + YESTERDAY.minusDays(1)
                + " (2 days)");
        // and so is a failed last run
        assertThat(cli("backfill", "--start-date", YESTERDAY.minusDays(2).toString()).exitCode()).isZero();
        try (Connection c = TestPostgres.superuser(); var st = c.createStatement()) {
            st.execute("INSERT INTO " + schema + ".runs (run_id, command, arguments, host, pid, started_at,"
                    + " finished_at, outcome, error) VALUES ('z', 'daily', '', 'h', 1, now(), now(), 'data-check',"
                    + " 'Day X: loaded 3 rows but its manifest says 4')");
        }
        CliRun failed = cli("status", "--check");
        assertThat(failed.exitCode()).isEqualTo(3);
        assertThat(failed.out()).contains("the last run (daily").contains("ended data-check: Day X");
    }

    @Test
    void a_loaded_day_whose_partition_was_dropped_or_detached_by_hand_is_a_problem_until_reloaded() throws Exception {
        // given: three days loaded, then a DBA drops one day's partition and detaches another's
        assertThat(cli("backfill", "--start-date", YESTERDAY.minusDays(2).toString()).exitCode()).isZero();
        try (Connection c = TestPostgres.superuser(); var st = c.createStatement()) {
            st.execute("DROP TABLE " + schema + ".token_transfers_p" + YESTERDAY.minusDays(2).toString()
                    .replace("-", ""));
            st.execute("ALTER TABLE " + schema + ".token_transfers DETACH PARTITION " + schema + ".token_transfers_p"
                    + YESTERDAY.toString().replace("-", ""));
        }
        // when
        CliRun check = cli("status", "--check");
        CliRun table = cli("status");
        // then: the ledger alone would say all is well
        assertThat(check.exitCode()).as(check.toString()).isEqualTo(3);
        assertThat(check.out()).contains("2 loaded day(s) have no partition in " + schema + ".token_transfers")
                .contains(YESTERDAY.minusDays(2) + ", " + YESTERDAY)
                .contains("'crypto-pipeline backfill --reload --start-date " + YESTERDAY.minusDays(2)
                        + " --end-date " + YESTERDAY + "'");
        assertThat(table.out()).contains("Missing:  2 loaded day(s) have no partition");
        // and the command it gives puts them back
        assertThat(cli("backfill", "--reload", "--start-date", YESTERDAY.minusDays(2).toString(), "--end-date",
                YESTERDAY.toString()).exitCode()).isZero();
        CliRun ok = cli("status", "--check");
        assertThat(ok.exitCode()).as(ok.toString()).isZero();
        assertThat(cli("verify").exitCode()).isZero();
        // and a table dropped whole is named as such, not as days to reload
        try (Connection c = TestPostgres.superuser(); var st = c.createStatement()) {
            st.execute("DROP TABLE " + schema + ".token_transfers CASCADE");
        }
        CliRun gone = cli("status", "--check");
        assertThat(gone.exitCode()).as(gone.toString()).isEqualTo(1);
        assertThat(gone.err()).contains("Schema " + schema).contains("has its ledger but no token_transfers table"
                + " (dropped by hand?)");
    }

    @Test
    void trial_loads_are_marked_and_a_backfill_without_the_limit_replaces_them() throws Exception {
        // given: a trial of two days
        CliRun trial = cli("backfill", "--start-date", YESTERDAY.minusDays(1).toString(), "--query-limit", "5");
        assertThat(trial.exitCode()).as(trial.toString()).isZero();
        CliRun marked = cli("status");
        assertThat(marked.out()).contains("Trials:   2 day(s) loaded with --query-limit (partial)")
                .contains("5*");
        // when
        CliRun full = cli("backfill", "--start-date", YESTERDAY.minusDays(1).toString());
        // then
        assertThat(full.exitCode()).as(full.toString()).isZero();
        assertThat(full.out()).contains("loaded 2 days (600 rows)");
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days WHERE query_limit IS NULL"
                    + " AND reason = 'replaces a trial load'")).isEqualTo(2);
        }
        assertThat(cli("status").out()).doesNotContain("Trials:");
        // and a backfill with the same limit keeps full days full
        assertThat(cli("backfill", "--start-date", YESTERDAY.minusDays(1).toString(), "--query-limit", "5").out())
                .contains("nothing to do; skipped 2 days already loaded");
    }

    @Test
    void json_summaries_are_one_object_on_success_and_on_failure() throws Exception {
        CliRun ok = cli("backfill", "--start-date", YESTERDAY.minusDays(1).toString(), "--json");
        assertThat(ok.exitCode()).as(ok.toString()).isZero();
        assertThat(ok.lines()).hasSize(1);
        JsonNode summary = JSON.readTree(ok.out());
        assertThat(summary.path("command").asText()).isEqualTo("backfill");
        assertThat(summary.path("outcome").asText()).isEqualTo("ok");
        assertThat(summary.path("exit_code").asInt()).isZero();
        assertThat(summary.path("days_loaded").asInt()).isEqualTo(2);
        assertThat(summary.path("rows").asLong()).isEqualTo(600);
        assertThat(summary.path("bytes").asLong()).isPositive();
        assertThat(summary.path("loaded").get(0).path("reason").asText()).isEqualTo("new");
        // when the run fails, the summary still comes, with the exit code and the error
        Path file = Files.writeString(dataDir.resolve("not-a-folder"), "x");
        CliRun failed = cli("daily", "--date", YESTERDAY.toString(), "--json", "--lake", file.resolve("lake")
                .toString());
        assertThat(failed.exitCode()).isEqualTo(1);
        JsonNode error = JSON.readTree(failed.out());
        assertThat(error.path("outcome").asText()).isEqualTo("failed");
        assertThat(error.path("exit_code").asInt()).isEqualTo(1);
        assertThat(error.path("error").asText()).contains("Cannot write to the lake folder");
        assertThat(failed.err().strip().lines()).hasSize(1);
    }

    @Test
    void the_local_lake_prunes_old_exports_but_never_the_one_a_loaded_day_came_from() throws Exception {
        // given: two days loaded, then the second reloaded; every export is made to look 40 days old
        LocalDate a = YESTERDAY.minusDays(1);
        LocalDate b = YESTERDAY;
        assertThat(cli("daily", "--date", a.toString()).exitCode()).isZero();
        assertThat(cli("daily", "--date", b.toString()).exitCode()).isZero();
        assertThat(cli("daily", "--date", b.toString()).exitCode()).isZero();
        Path lake = dataDir.resolve("lake/token_transfers");
        assertThat(runFolders(lake.resolve("day=" + b))).hasSize(2);
        age(lake, 40);
        // when: the next run (another reload of b) finishes
        CliRun run = cli("daily", "--date", b.toString(), "--lake-retention-days", "30");
        // then: a's export stays (the ledger names it), b's two old exports go, b's new one stays
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(runFolders(lake.resolve("day=" + a))).hasSize(1);
        assertThat(runFolders(lake.resolve("day=" + b))).hasSize(1);
        try (Connection c = TestPostgres.superuser(); var st = c.createStatement();
             var rs = st.executeQuery("SELECT lake_run FROM " + schema + ".loaded_days ORDER BY day")) {
            while (rs.next()) {
                assertThat(dataDir.resolve("lake").resolve(rs.getString(1))).isDirectory();
            }
        }
        assertThat(run.err()).isEmpty();
    }

    private static List<Path> runFolders(Path day) throws Exception {
        try (Stream<Path> s = Files.list(day)) {
            return s.filter(p -> p.getFileName().toString().startsWith("run=")).toList();
        }
    }

    private static void age(Path root, int days) throws Exception {
        FileTime old = FileTime.from(Instant.now().minus(days, ChronoUnit.DAYS));
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Files.setLastModifiedTime(p, old);
            }
        }
    }
}
