package dev.cryptopipeline.pipeline;

import static dev.cryptopipeline.TestPostgres.checksum;
import static dev.cryptopipeline.TestPostgres.count;
import static dev.cryptopipeline.TestPostgres.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.CliRun;
import dev.cryptopipeline.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole local path, driven through the CLI, against a real PostgreSQL. */
class LocalPipelineIT {
    private static final LocalDate YESTERDAY = LocalDate.now(ZoneOffset.UTC).minusDays(1);

    @TempDir
    Path dataDir;
    String schema;

    @BeforeEach
    void newSchema() {
        schema = TestPostgres.newSchema("local");
    }

    private CliRun cli(String... args) {
        return CliRun.local(dataDir, schema, 2000, args);
    }

    private Map<LocalDate, String> checksums(List<LocalDate> days) throws SQLException {
        Map<LocalDate, String> sums = new HashMap<>();
        try (Connection c = TestPostgres.superuser()) {
            for (LocalDate d : days) {
                sums.put(d, checksum(c, schema, d) + "/" + count(c, schema, d));
            }
        }
        return sums;
    }

    @Test
    void backfill_loads_every_day_of_the_range_with_its_ledger_row() throws SQLException {
        // given
        LocalDate start = YESTERDAY.minusDays(4);
        // when
        CliRun run = cli("backfill", "--start-date", start.toString(), "--end-date", start.plusDays(2).toString());
        // then
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).contains("loaded 3 days (6000 rows)");
        try (Connection c = TestPostgres.superuser()) {
            for (int i = 0; i < 3; i++) {
                assertThat(count(c, schema, start.plusDays(i))).isEqualTo(2000);
            }
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".token_transfers")).isEqualTo(6000);
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days WHERE rows = 2000"))
                    .isEqualTo(3);
            // The hard cases of DATA.md survive the trip: log index 0, 78-digit values, NULL vs empty string,
            // quotes, commas, newlines and non-ASCII letters in names.
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".token_transfers WHERE log_index = 0"))
                    .isPositive();
            assertThat(queryLong(c, "SELECT max(length(value::text)) FROM " + schema + ".token_transfers"))
                    .isEqualTo(78);
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".token_transfers WHERE symbol = ''"))
                    .isPositive();
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".token_transfers WHERE symbol IS NULL"))
                    .isPositive();
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".token_transfers"
                    + " WHERE name = E'Say \"hi\", friends\\nToken'")).isPositive();
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".token_transfers"
                    + " WHERE name = '日本円トークン'")).isPositive();
            // Every row sits in its own UTC day's partition.
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".token_transfers_p"
                    + start.toString().replace("-", "") + " WHERE (block_timestamp AT TIME ZONE 'UTC')::date <> '"
                    + start + "'")).isZero();
        }
    }

    @Test
    void running_backfill_again_changes_nothing() throws SQLException {
        // given
        LocalDate start = YESTERDAY.minusDays(4);
        List<LocalDate> days = List.of(start, start.plusDays(1), start.plusDays(2));
        String[] backfill = {"backfill", "--start-date", start.toString(), "--end-date", start.plusDays(2).toString()};
        assertThat(cli(backfill).exitCode()).isZero();
        Map<LocalDate, String> before = checksums(days);
        // when
        CliRun again = cli(backfill);
        // then
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.out()).contains("nothing to do").contains("skipped 3 days already loaded");
        assertThat(checksums(days)).isEqualTo(before);

        // and a reload of the range loads the same rows again; it also drops the replaced load a run stopped
        // between a reload's commit and its drop left behind
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE " + schema + ".token_transfers_r20200101 (x int)");
        }
        CliRun reload = cli(concat(backfill, "--reload"));
        assertThat(reload.exitCode()).as(reload.toString()).isZero();
        assertThat(reload.out()).contains("loaded 3 days (6000 rows)");
        assertThat(checksums(days)).isEqualTo(before);
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema
                    + "' AND tablename ~ '^token_transfers_r'")).as("replaced loads left behind").isZero();
        }
    }

    @Test
    void daily_catches_up_every_missed_day() throws SQLException {
        // given: loaded up to the day before yesterday minus one, so two finished days were missed
        LocalDate start = YESTERDAY.minusDays(3);
        assertThat(cli("backfill", "--start-date", start.toString(), "--end-date", YESTERDAY.minusDays(2).toString())
                .exitCode()).isZero();
        // when
        CliRun daily = cli("daily");
        // then
        assertThat(daily.exitCode()).as(daily.toString()).isZero();
        assertThat(daily.out()).contains("loaded 2 days (4000 rows) " + YESTERDAY.minusDays(1) + ".." + YESTERDAY);
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days")).isEqualTo(4);
            assertThat(count(c, schema, YESTERDAY)).isEqualTo(2000);
        }
        // and a second run the same day has nothing to do
        CliRun again = cli("daily");
        assertThat(again.exitCode()).isZero();
        assertThat(again.out()).contains("nothing to do");
    }

    @Test
    void daily_with_an_empty_ledger_says_to_backfill_first_and_writes_nothing() throws SQLException {
        // when
        CliRun daily = cli("daily");
        // then
        assertThat(daily.exitCode()).isEqualTo(2);
        assertThat(daily.err()).contains("setup --chain").contains("backfill");
        try (Connection c = TestPostgres.superuser()) {
            assertThat(TestPostgres.schemaExists(c, schema)).isFalse();
        }
    }

    @Test
    void a_reload_is_never_seen_missing_or_doubled_by_a_reader() throws Exception {
        // given: the day loaded with 2000 rows
        LocalDate day = YESTERDAY.minusDays(1);
        assertThat(cli("daily", "--date", day.toString()).exitCode()).isZero();
        ConcurrentHashMap<Long, Integer> seen = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<Throwable> readerErrors = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try (Connection c = TestPostgres.superuser()) {
                while (!stop.get()) {
                    seen.merge(count(c, schema, day), 1, Integer::sum);
                }
            } catch (Throwable t) {
                readerErrors.add(t);
            }
        });
        reader.start();
        try {
            // when: the day is reloaded with other volumes, over and over, while the reader counts
            for (String rows : List.of("3000", "2000", "3000", "2000")) {
                List<String> args = new ArrayList<>(List.of("daily", "--date", day.toString(), "--source", "synthetic",
                        "--jdbc-url", TestPostgres.jdbcUrl(), "--pg-schema", schema, "--data-dir",
                        dataDir.toString(), "--rows-per-day", rows));
                CliRun run = CliRun.run(args.toArray(String[]::new));
                assertThat(run.exitCode()).as(run.toString()).isZero();
            }
        } finally {
            stop.set(true);
            reader.join();
        }
        // then: the reader only ever saw a whole load
        assertThat(readerErrors).isEmpty();
        assertThat(seen.keySet()).containsOnly(2000L, 3000L);
        assertThat(seen.values().stream().mapToInt(Integer::intValue).sum()).isGreaterThan(10);
    }

    @Test
    void a_run_while_another_holds_the_lock_exits_75_and_names_the_holder() throws SQLException {
        // given: the schema exists, and another session holds the run lock
        assertThat(cli("setup").exitCode()).isZero();
        try (Connection holder = TestPostgres.superuser()) {
            try (Statement st = holder.createStatement()) {
                st.execute("SET application_name = 'crypto-pipeline daily pid=4242@nightly-host'");
            }
            try (PreparedStatement ps = holder.prepareStatement("SELECT pg_advisory_lock(?, ?)")) {
                ps.setInt(1, 0x63727970);
                ps.setInt(2, schema.hashCode() & 0x7fffffff);
                ps.execute();
            }
            // when
            CliRun daily = cli("daily", "--date", YESTERDAY.toString());
            // then
            assertThat(daily.exitCode()).isEqualTo(75);
            assertThat(daily.err()).contains("Another run holds the lock").contains("pid=4242@nightly-host")
                    .contains("since");
            try (Connection c = TestPostgres.superuser()) {
                assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days")).isZero();
            }
        }
        // and once the holder's session is gone, the lock is free again
        assertThat(cli("daily", "--date", YESTERDAY.toString()).exitCode()).isZero();
    }

    @Test
    void status_json_is_one_object_with_days_gaps_and_the_last_run() throws SQLException {
        // given: two days with a gap between them
        assertThat(cli("daily", "--date", YESTERDAY.minusDays(3).toString()).exitCode()).isZero();
        assertThat(cli("daily", "--date", YESTERDAY.minusDays(1).toString()).exitCode()).isZero();
        // when
        CliRun status = cli("status", "--json");
        // then
        assertThat(status.exitCode()).isZero();
        assertThat(status.lines()).hasSize(1);
        assertThat(status.out()).startsWith("{\"days\":[{\"day\":\"" + YESTERDAY.minusDays(3) + "\",\"rows\":2000,")
                .contains("\"gaps\":[{\"from\":\"" + YESTERDAY.minusDays(2) + "\",\"to\":\"" + YESTERDAY.minusDays(2)
                        + "\",\"days\":1}]")
                .contains("\"last_run\":{\"command\":\"daily\"").contains("\"outcome\":\"ok\"");
        CliRun table = cli("status");
        assertThat(table.out()).contains("Gaps:     1 day(s) missing: " + YESTERDAY.minusDays(2) + " (1 day)");
    }

    private static String[] concat(String[] a, String... b) {
        List<String> all = new ArrayList<>(Arrays.asList(a));
        all.addAll(Arrays.asList(b));
        return all.toArray(String[]::new);
    }

}
