package dev.cryptopipeline.source;

import static dev.cryptopipeline.source.TrapDataset.FIRST_DAY;
import static dev.cryptopipeline.source.TrapDataset.LAST_DAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cryptopipeline.lake.TransferColumn;
import dev.cryptopipeline.source.GoogleSqlEngine.Column;
import dev.cryptopipeline.source.GoogleSqlEngine.SqlType;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every SQL text the tool sends to BigQuery, analyzed and executed by GoogleSQL's reference engine over the trap
 * tables of {@link TrapDataset}, and compared with the rows written by hand.
 *
 * <p>Runs only in the failsafe execution {@code googlesql}; alone:
 * {@code mvn -B verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=GoogleSqlIT}.
 */
@GoogleSqlEngine.OnGoogleSqlClasspath
class GoogleSqlIT {
    private static final DateTimeFormatter MICROS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSS").withZone(ZoneOffset.UTC);
    private static GoogleSqlEngine engine;

    @BeforeAll
    static void start() {
        engine = new GoogleSqlEngine(TrapDataset.tables());
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    private static Map<String, Object> range(LocalDate first, LocalDate last) {
        return Map.of("first_day", first, "last_day", last);
    }

    private static Map<String, Object> range(LocalDate first, LocalDate last, long rowLimit) {
        return Map.of("first_day", first, "last_day", last, "row_limit", rowLimit);
    }

    /** Result rows in the text form of {@link TrapDataset#expectedRows()}. */
    private static List<List<String>> text(GoogleSqlEngine.Result result) {
        List<List<String>> rows = new ArrayList<>();
        for (List<Object> row : result.rows()) {
            List<String> out = new ArrayList<>();
            for (Object v : row) {
                out.add(v == null ? null : v instanceof Instant t ? MICROS.format(t) : v.toString());
            }
            rows.add(out);
        }
        return rows;
    }

    @Test
    void every_sql_text_sent_to_bigquery_is_valid_googlesql_with_the_columns_the_tool_reads() {
        // given: the lake's columns and their BigQuery types
        List<Column> lakeColumns = List.of(new Column("block_timestamp", SqlType.TIMESTAMP),
                new Column("block_number", SqlType.INT64), new Column("block_hash", SqlType.STRING),
                new Column("transaction_hash", SqlType.STRING), new Column("log_index", SqlType.INT64),
                new Column("token_address", SqlType.STRING), new Column("from_address", SqlType.STRING),
                new Column("to_address", SqlType.STRING), new Column("value", SqlType.STRING),
                new Column("symbol", SqlType.STRING), new Column("name", SqlType.STRING),
                new Column("decimals", SqlType.INT64), new Column("total_supply", SqlType.STRING));
        // when / then
        assertThat(engine.analyze(TransferQuery.sql(OptionalInt.empty()), range(FIRST_DAY, LAST_DAY)))
                .isEqualTo(lakeColumns);
        assertThat(engine.analyze(TransferQuery.sql(OptionalInt.of(100)), range(FIRST_DAY, LAST_DAY, 100)))
                .isEqualTo(lakeColumns);
        assertThat(lakeColumns.stream().map(Column::name).toList()).isEqualTo(TransferColumn.names())
                .isEqualTo(TrapDataset.COLUMNS);
        assertThat(engine.analyze(TransferQuery.completenessSql(), Map.of("partition", "20240302")))
                .containsExactly(new Column("partition_id", SqlType.STRING),
                        new Column("last_modified_time", SqlType.TIMESTAMP));
    }

    @Test
    void the_staging_row_count_query_counts_each_day_of_the_run_s_own_table() {
        String sql = TransferQuery.stagingCountsSql(TrapDataset.STAGING_PROJECT,
                new dev.cryptopipeline.config.Identifier("staging"), "token_transfers_20240304_a1_1");
        // when
        List<Column> columns = engine.analyze(sql, Map.of());
        GoogleSqlEngine.Result counts = engine.execute(sql, Map.of());
        // then: the columns BigQuerySource reads, and only this table's days (the empty day has no row); the last
        // microsecond of a day is that day's (UTC)
        assertThat(columns).containsExactly(new Column("day", SqlType.DATE), new Column("row_count", SqlType.INT64));
        assertThat(counts.maps()).containsExactly(Map.of("day", FIRST_DAY, "row_count", 7L),
                Map.of("day", LAST_DAY, "row_count", 4L));
    }

    @Test
    void the_load_metadata_query_reads_the_row_of_the_day() {
        // when
        List<Column> columns = engine.analyze(TransferQuery.loadMetadataSql(), Map.of("day", FIRST_DAY));
        GoogleSqlEngine.Result day = engine.execute(TransferQuery.loadMetadataSql(), Map.of("day", FIRST_DAY));
        GoogleSqlEngine.Result missing = engine.execute(TransferQuery.loadMetadataSql(), Map.of("day", LAST_DAY));
        // then
        assertThat(columns).containsExactly(new Column("ds", SqlType.DATE),
                new Column("complete_at", SqlType.TIMESTAMP));
        assertThat(day.maps()).containsExactly(Map.of("ds", FIRST_DAY, "complete_at",
                Instant.parse("2024-03-02T08:12:30Z")));
        assertThat(missing.rows()).isEmpty();
    }

    @Test
    void the_engine_is_as_strict_as_bigquery_about_qualify_without_where() {
        // given: the --query-limit SQL before the fix
        String before = TransferQuery.sql(OptionalInt.of(100)).replace("  WHERE TRUE\n  QUALIFY", "  QUALIFY");
        // when / then
        assertThatThrownBy(() -> engine.analyze(before, range(FIRST_DAY, LAST_DAY, 100)))
                .hasMessageContaining("QUALIFY clause must be used in conjunction with WHERE or GROUP BY or HAVING"
                        + " clause");
    }

    @Test
    void the_transfer_query_returns_the_hand_written_rows_of_every_trap() {
        // when
        GoogleSqlEngine.Result result = engine.execute(TransferQuery.sql(OptionalInt.empty()),
                range(FIRST_DAY, LAST_DAY));
        // then
        assertThat(result.names()).isEqualTo(TrapDataset.COLUMNS);
        assertThat(text(result)).containsExactlyInAnyOrderElementsOf(TrapDataset.expectedRows());
    }

    @Test
    void with_a_query_limit_each_day_keeps_its_first_rows_by_block_and_log_index_after_deduplication() {
        // when
        GoogleSqlEngine.Result four = engine.execute(TransferQuery.sql(OptionalInt.of(4)),
                range(FIRST_DAY, LAST_DAY, 4));
        GoogleSqlEngine.Result many = engine.execute(TransferQuery.sql(OptionalInt.of(100)),
                range(FIRST_DAY, LAST_DAY, 100));
        // then: the first day is cut after four rows, the last day has exactly four
        assertThat(text(four)).containsExactlyInAnyOrderElementsOf(TrapDataset.expectedRowsLimitedTo4());
        assertThat(text(many)).containsExactlyInAnyOrderElementsOf(TrapDataset.expectedRows());
    }

    @Test
    void one_day_at_a_time_gives_the_same_rows_as_the_range() {
        // when
        List<List<String>> byDay = new ArrayList<>();
        for (LocalDate d = FIRST_DAY; !d.isAfter(LAST_DAY); d = d.plusDays(1)) {
            byDay.addAll(text(engine.execute(TransferQuery.sql(OptionalInt.empty()), range(d, d))));
        }
        // then
        assertThat(byDay).containsExactlyInAnyOrderElementsOf(TrapDataset.expectedRows());
        assertThat(engine.execute(TransferQuery.sql(OptionalInt.empty()), range(TrapDataset.EMPTY_DAY,
                TrapDataset.EMPTY_DAY)).rows()).isEmpty();
    }

    @Test
    void the_completeness_query_reads_the_token_transfers_partition_of_the_day() {
        // when
        GoogleSqlEngine.Result day = engine.execute(TransferQuery.completenessSql(), Map.of("partition", "20240302"));
        GoogleSqlEngine.Result missing = engine.execute(TransferQuery.completenessSql(),
                Map.of("partition", "20240305"));
        // then: not the tokens table's partition of the same day
        assertThat(day.maps()).containsExactly(Map.of("partition_id", "20240302",
                "last_modified_time", Instant.parse("2024-03-03T08:15:30.5Z")));
        assertThat(missing.rows()).isEmpty();
    }

    @Test
    void the_functions_the_cleaning_relies_on_behave_as_pinned_here() {
        // when
        Map<String, Object> row = engine.execute("""
                SELECT
                  REGEXP_REPLACE('a\\x00b\\tc\\x7fd\\u0085e\\u200bf', r'\\p{Cc}', '') AS stripped,
                  LEFT('ééé🚀🚀', 4) AS left4,
                  LENGTH('é🚀') AS length,
                  SAFE_CAST('0x12' AS INT64) AS hex,
                  SAFE_CAST(' 8 ' AS INT64) AS spaced,
                  SAFE_CAST('1e2' AS INT64) AS exponent,
                  SAFE_CAST('18.0' AS INT64) AS fraction,
                  TIMESTAMP(@day) AS midnight,
                  DATE(TIMESTAMP '2024-03-01 23:30:00+00') AS utc_day
                """, Map.of("day", FIRST_DAY)).maps().get(0);
        // then: \p{Cc} takes C0, DEL and C1 controls, not format characters (U+200B); LEFT and LENGTH count
        // characters (code points), not bytes or UTF-16 units; SAFE_CAST reads hex and trims spaces, so decimals
        // '0x12' or ' 8 ' are numbers, not NULL; the default time zone is UTC
        assertThat(row).containsEntry("stripped", "abcde\u200bf").containsEntry("left4", "ééé🚀")
                .containsEntry("length", 2L)
                .containsEntry("hex", 18L).containsEntry("spaced", 8L)
                .containsEntry("exponent", null).containsEntry("fraction", null)
                .containsEntry("midnight", Instant.parse("2024-03-01T00:00:00Z"))
                .containsEntry("utc_day", FIRST_DAY);
    }
}
