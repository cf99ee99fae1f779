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
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code verify} and {@code daily --verify-days} with the synthetic source, through the CLI, against a real
 * PostgreSQL: the synthetic source computes its days again, so a day whose rows were changed in PostgreSQL differs
 * from it, and only that day.
 */
class VerifyIT {
    private static final LocalDate YESTERDAY = LocalDate.now(ZoneOffset.UTC).minusDays(1);
    private static final LocalDate D1 = YESTERDAY.minusDays(2);
    private static final LocalDate D2 = YESTERDAY.minusDays(1);
    private static final LocalDate D3 = YESTERDAY;

    @TempDir
    Path dataDir;
    String schema;

    @BeforeEach
    void newSchema() {
        schema = TestPostgres.newSchema("verify");
    }

    private CliRun cli(String... args) {
        return CliRun.local(dataDir, schema, 2000, args);
    }

    private void backfill(LocalDate first, LocalDate last, String... more) {
        List<String> args = new ArrayList<>(List.of("backfill", "--start-date", first.toString(), "--end-date",
                last.toString()));
        args.addAll(Arrays.asList(more));
        CliRun run = cli(args.toArray(String[]::new));
        assertThat(run.exitCode()).as(run.toString()).isZero();
    }

    private void sql(String sql) throws SQLException {
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** Each day's ledger columns: reason, verification, and whether a fingerprint and verification time are set. */
    private Map<LocalDate, String> ledger() throws SQLException {
        Map<LocalDate, String> days = new TreeMap<>();
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT day, reason, verification, fingerprint IS NOT NULL,"
                     + " verified_at IS NOT NULL FROM " + schema + ".loaded_days")) {
            while (rs.next()) {
                days.put(rs.getObject(1, LocalDate.class), rs.getString(2) + "/" + rs.getString(3) + "/"
                        + rs.getBoolean(4) + "/" + rs.getBoolean(5));
            }
        }
        return days;
    }

    /** One row of a day, changed in place: what a hand edit or a bad tool would do. */
    private void changeOneRow(LocalDate day) throws SQLException {
        sql("UPDATE " + schema + ".token_transfers SET name = 'tampered' WHERE " + lastRowOf(day, "DESC"));
    }

    private void deleteOneRow(LocalDate day) throws SQLException {
        sql("DELETE FROM " + schema + ".token_transfers WHERE " + lastRowOf(day, ""));
    }

    /** A condition on the key that picks the first (or, with DESC, the last) row of a day. */
    private String lastRowOf(LocalDate day, String order) {
        return "(transaction_hash, log_index, block_timestamp) = (SELECT transaction_hash, log_index, block_timestamp"
                + " FROM " + schema + ".token_transfers WHERE block_timestamp >= '" + day + " 00:00:00+00'"
                + " AND block_timestamp < '" + day.plusDays(1) + " 00:00:00+00' ORDER BY block_number " + order
                + ", log_index " + order + " LIMIT 1)";
    }

    @Test
    void verify_finds_every_day_loaded_from_the_synthetic_source_matching_and_records_it() throws SQLException {
        // given
        backfill(D1, D3);
        // when
        CliRun verify = cli("verify");
        // then
        assertThat(verify.exitCode()).as(verify.toString()).isZero();
        assertThat(verify.out()).startsWith("verify: all 3 days match the source (" + D1 + ".." + D3 + ") in ");
        assertThat(ledger()).containsOnlyKeys(D1, D2, D3).allSatisfy((d, v) -> assertThat(v)
                .isEqualTo("new/match/true/true"));
        // and status says when the days were verified
        CliRun status = cli("status");
        assertThat(status.out()).contains("Verified: 3 of 3 days in the last 30 days\n");
        CliRun json = cli("status", "--json");
        assertThat(json.out()).contains("\"verification\":\"match\"")
                .contains("\"verification\":{\"stale_after_days\":30,"
                + "\"never_verified\":[],\"verified_long_ago\":[],\"differing\":[]}");
        assertThat(cli("status", "--check").exitCode()).isZero();
    }

    @Test
    void a_changed_or_missing_row_in_postgresql_shows_in_its_day_only_and_daily_verify_days_reloads_exactly_it()
            throws SQLException {
        // given: three days, verified once (their fingerprints recorded), then one row changed on D2 and one row
        // deleted on D3 behind the tool's back
        backfill(D1, D3);
        String original;
        try (Connection c = TestPostgres.superuser()) {
            original = checksum(c, schema, D2) + checksum(c, schema, D3);
        }
        assertThat(cli("verify").exitCode()).isZero();
        changeOneRow(D2);
        deleteOneRow(D3);
        // when
        CliRun verify = cli("verify");
        // then: exit 3; the table names D2 (content) and D3 (rows), and D1 as matching
        assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(3);
        assertThat(verify.out()).contains(String.format("%-11s  %12d  %12d  content (PostgreSQL's rows changed since"
                        + " the day was first verified)%n", D2, 2000, 2000))
                .contains(String.format("%-11s  %12d  %12d  rows", D3, 2000, 1999))
                .contains("match: 1 day: " + D1 + "\n")
                .contains("verify: 2 of 3 days differ from the source: " + D2 + " (content), " + D3 + " (rows)");
        assertThat(ledger()).containsEntry(D1, "new/match/true/true").containsEntry(D2, "new/content differs/true/true")
                .containsEntry(D3, "new/rows differ/true/true");
        CliRun json = cli("verify", "--json");
        assertThat(json.exitCode()).isEqualTo(3);
        assertThat(json.lines()).hasSize(1);
        assertThat(json.out()).contains("\"outcome\":\"data-check\"").contains("\"days_differing\":2")
                .contains("\"differing\":[\"" + D2 + "\",\"" + D3 + "\"]")
                .contains("{\"day\":\"" + D3 + "\",\"result\":\"rows differ\",\"source_rows\":2000,"
                        + "\"loaded_rows\":1999,");
        CliRun check = cli("status", "--check");
        assertThat(check.exitCode()).isEqualTo(3);
        assertThat(check.out()).contains("2 day(s) differed from the source when last verified: " + D2 + ".." + D3);

        // when: daily verifies the last two loaded days
        CliRun daily = cli("daily", "--verify-days", "2", "--json");
        // then: it reloaded exactly D2 and D3, because the source changed (as far as PostgreSQL's copy goes)
        assertThat(daily.exitCode()).as(daily.toString()).isZero();
        assertThat(daily.out()).contains("\"days_loaded\":2").contains("\"reason\":\"source changed\"")
                .contains("\"days_verified\":2").contains("\"differing\":[\"" + D2 + "\",\"" + D3 + "\"]");
        assertThat(ledger()).containsEntry(D1, "new/match/true/true")
                .containsEntry(D2, "source changed/match/true/true")
                .containsEntry(D3, "source changed/match/true/true");
        try (Connection c = TestPostgres.superuser()) {
            assertThat(checksum(c, schema, D2) + checksum(c, schema, D3)).isEqualTo(original);
            assertThat(count(c, schema, D3)).isEqualTo(2000);
        }
        // and everything matches again; a daily run that finds nothing to reload says so
        assertThat(cli("verify").exitCode()).isZero();
        CliRun again = cli("daily", "--verify-days", "3");
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.out()).contains("daily: nothing to do; verified 3 days " + D1 + ".." + D3 + ": all match");
    }

    @Test
    void a_trial_load_is_verified_against_the_same_limit_and_reloaded_as_the_same_trial() throws SQLException {
        // given: D1 loaded as a trial of 100 rows, D2 fully
        backfill(D1, D1, "--query-limit", "100");
        backfill(D2, D2);
        // when
        CliRun verify = cli("verify", "--json");
        // then: the trial matches the first 100 rows of the source, it is not "different" for being partial
        assertThat(verify.exitCode()).as(verify.toString()).isZero();
        assertThat(verify.out()).contains("{\"day\":\"" + D1 + "\",\"result\":\"match\",\"source_rows\":100,"
                + "\"loaded_rows\":100,");
        assertThat(verify.out()).contains("\"query_limit\":100");

        // when: a row of the trial is changed, then daily verifies both days
        changeOneRow(D1);
        CliRun table = cli("verify");
        CliRun daily = cli("daily", "--date", D2.toString(), "--verify-days", "2");
        // then: the trial is marked as such, and reloaded as the same trial
        assertThat(table.exitCode()).isEqualTo(3);
        assertThat(table.out()).contains(D1 + "*").contains("* a trial load: compared with the"
                + " source limited to the same --query-limit");
        assertThat(daily.exitCode()).as(daily.toString()).isZero();
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT query_limit FROM " + schema + ".loaded_days WHERE day = '" + D1 + "'"))
                    .isEqualTo(100);
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days WHERE day = '" + D1 + "'"
                    + " AND reason = 'source changed'")).isEqualTo(1);
            assertThat(count(c, schema, D1)).isEqualTo(100);
        }
        assertThat(cli("verify").exitCode()).isZero();
    }

    @Test
    void verify_takes_a_range_and_a_dry_run_changes_nothing() throws SQLException {
        // given
        backfill(D1, D3);
        long runs;
        try (Connection c = TestPostgres.superuser()) {
            runs = queryLong(c, "SELECT count(*) FROM " + schema + ".runs");
        }
        // when
        CliRun dry = cli("verify", "--dry-run");
        CliRun dailyDry = cli("daily", "--verify-days", "2", "--dry-run");
        CliRun one = cli("verify", "--start-date", D2.toString(), "--end-date", D2.toString());
        CliRun backwards = cli("verify", "--start-date", D3.toString(), "--end-date", D1.toString());
        // then
        assertThat(dry.exitCode()).as(dry.toString()).isZero();
        assertThat(dry.out()).contains("verify: dry run, nothing changed: would verify 3 loaded days " + D1 + ".."
                + D3).contains("synthetic source: would generate 3 days again to compute their fingerprints")
                .contains("postgresql: would compute the fingerprint of 3 loaded days");
        assertThat(dailyDry.exitCode()).as(dailyDry.toString()).isZero();
        assertThat(dailyDry.out()).contains("synthetic source: would generate 2 days again");
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".runs")).isEqualTo(runs + 1);
        }
        assertThat(one.exitCode()).as(one.toString()).isZero();
        assertThat(one.out()).contains("verify: the day matches the source (" + D2 + ")");
        assertThat(ledger()).containsEntry(D1, "new/null/false/false").containsEntry(D2, "new/match/true/true");
        assertThat(backwards.exitCode()).isEqualTo(2);
        assertThat(backwards.err()).contains("--start-date " + D3 + " is after --end-date " + D1);
    }

    @Test
    void verify_with_nothing_loaded_has_nothing_to_do_and_without_a_schema_says_so() {
        CliRun none = cli("verify");
        assertThat(none.exitCode()).isEqualTo(1);
        assertThat(none.err()).contains("Nothing to verify: schema " + schema + " is not set up");
        assertThat(cli("setup").exitCode()).isZero();
        CliRun empty = cli("verify");
        assertThat(empty.exitCode()).as(empty.toString()).isZero();
        assertThat(empty.out()).contains("verify: nothing to verify (no loaded day in the range)");
    }

    @Test
    void verify_waits_for_no_one_a_run_holding_the_lock_makes_it_exit_75() throws SQLException {
        // given
        backfill(D1, D1);
        try (Connection holder = TestPostgres.superuser()) {
            try (PreparedStatement ps = holder.prepareStatement("SELECT pg_advisory_lock(?, ?)")) {
                ps.setInt(1, 0x63727970);
                ps.setInt(2, schema.hashCode() & 0x7fffffff);
                ps.execute();
            }
            // when
            CliRun verify = cli("verify");
            // then
            assertThat(verify.exitCode()).isEqualTo(75);
            assertThat(verify.err()).contains("Another run holds the lock");
        }
        assertThat(cli("verify").exitCode()).isZero();
    }
}
