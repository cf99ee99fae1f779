package dev.cryptopipeline.source;

import static dev.cryptopipeline.source.TrapDataset.EMPTY_DAY;
import static dev.cryptopipeline.source.TrapDataset.FIRST_DAY;
import static dev.cryptopipeline.source.TrapDataset.ALICE;
import static dev.cryptopipeline.source.TrapDataset.BOB;
import static dev.cryptopipeline.source.TrapDataset.DIGITS_78;
import static dev.cryptopipeline.source.TrapDataset.LAST_DAY;
import static dev.cryptopipeline.source.TrapDataset.QUOTES;
import static dev.cryptopipeline.source.TrapDataset.UNKNOWN;
import static dev.cryptopipeline.source.TrapDataset.block;
import static dev.cryptopipeline.source.TrapDataset.bytea;
import static dev.cryptopipeline.source.TrapDataset.hash;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.TestPipelines;
import dev.cryptopipeline.TestPostgres;
import dev.cryptopipeline.config.SourceKind;
import dev.cryptopipeline.lake.LakeLayout;
import dev.cryptopipeline.lake.LocalLake;
import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.RunReport;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The BigQuery path end to end with real SQL: the production query runs in GoogleSQL's reference engine over the trap
 * tables, its rows are written as BigQuery's extract writes them, and the real pipeline loads them into PostgreSQL,
 * where every field must equal the rows written by hand in {@link TrapDataset}.
 *
 * <p>Runs only in the failsafe execution {@code googlesql}; alone:
 * {@code mvn -B verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=GoogleSqlPipelineIT}.
 */
@GoogleSqlEngine.OnGoogleSqlClasspath
class GoogleSqlPipelineIT {
    private static GoogleSqlEngine engine;

    @TempDir
    Path tmp;

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

    private RunReport backfill(GoogleSqlSource source, String schema, OptionalInt queryLimit) {
        try (Pipeline pipeline = TestPipelines.pipeline(SourceKind.BIGQUERY, source,
                new FolderNamedGs(new LocalLake(tmp.resolve("lake"))), TestPostgres.jdbcUrl(), schema,
                tmp.resolve("data"), 10000, queryLimit, false, Pipeline.Retry.defaults())) {
            return pipeline.backfill(FIRST_DAY, LAST_DAY, false);
        }
    }

    /** The loaded rows as text: bytea as {@code \x<hex>}, numbers as digits, timestamps at UTC with microseconds. */
    private static List<List<String>> loadedRows(String schema) throws SQLException {
        List<List<String>> rows = new ArrayList<>();
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("""
                     SELECT to_char(block_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),
                            block_number::text, '\\x' || encode(block_hash, 'hex'),
                            '\\x' || encode(transaction_hash, 'hex'), log_index::text,
                            '\\x' || encode(token_address, 'hex'), '\\x' || encode(from_address, 'hex'),
                            '\\x' || encode(to_address, 'hex'), value::text, symbol, name, decimals::text,
                            total_supply::text
                     FROM %s.token_transfers""".formatted(schema))) {
            while (rs.next()) {
                String[] row = new String[TrapDataset.COLUMNS.size()];
                for (int i = 0; i < row.length; i++) {
                    row[i] = rs.getString(i + 1);
                }
                rows.add(Arrays.asList(row));
            }
        }
        return rows;
    }

    /** The lake files of a day, unzipped and concatenated. */
    private String lakeText(LocalDate day) throws IOException {
        StringBuilder text = new StringBuilder();
        try (Stream<Path> files = Files.walk(tmp.resolve("lake").resolve(LakeLayout.dayPrefix(day)))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".csv.gz")).sorted().toList()) {
                try (InputStream in = new GZIPInputStream(Files.newInputStream(f))) {
                    text.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
            }
        }
        return text.toString();
    }

    @Test
    void every_trap_reaches_postgresql_as_written_by_hand() throws Exception {
        // given
        GoogleSqlSource source = new GoogleSqlSource(engine);
        String schema = TestPostgres.newSchema("zeta");
        // when
        RunReport report = backfill(source, schema, OptionalInt.empty());
        // then: one query for the range, as BigQuery's staging query; every field as expected
        assertThat(source.queries).containsExactly(Map.of("first_day", FIRST_DAY, "last_day", LAST_DAY));
        assertThat(report.rows()).isEqualTo(11);
        assertThat(loadedRows(schema)).containsExactlyInAnyOrderElementsOf(TrapDataset.expectedRows());
        // and the lake held what a BigQuery extract writes: "... UTC" timestamps, fractions only when present,
        // strings quoted only for a comma, quote or line break, NULL as an empty field
        assertThat(lakeText(LAST_DAY)).contains(String.join(",", "2024-03-03 00:00:00.250000 UTC", "1400",
                        bytea(block(1400)), bytea(hash(0x7301)), "0", bytea(QUOTES), bytea(BOB), bytea(ALICE), "5",
                        "\"Q,\"\"Q\"\"\"", "\"Quote \"\"Q\"\", Ünïcödé 🚀 line1line2\"", "255", DIGITS_78) + "\n")
                .contains(String.join(",", "2024-03-03 09:00:00 UTC", "1501", bytea(block(1501)),
                        bytea(hash(0x7303)), "0", bytea(UNKNOWN), bytea(BOB), bytea(ALICE), "1", "", "", "", "") + "\n");
        try (Connection c = TestPostgres.superuser()) {
            assertThat(TestPostgres.count(c, schema, FIRST_DAY)).isEqualTo(7);
            assertThat(TestPostgres.count(c, schema, EMPTY_DAY)).isZero();
            assertThat(TestPostgres.count(c, schema, LAST_DAY)).isEqualTo(4);
            assertThat(TestPostgres.queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days"
                    + " WHERE source = 'bigquery' AND query_limit IS NULL")).isEqualTo(3);
        }
    }

    @Test
    void with_a_query_limit_postgresql_gets_the_first_rows_of_each_day() throws Exception {
        // given
        GoogleSqlSource source = new GoogleSqlSource(engine);
        String schema = TestPostgres.newSchema("zeta");
        // when
        RunReport report = backfill(source, schema, OptionalInt.of(4));
        // then
        assertThat(source.queries).containsExactly(Map.of("first_day", FIRST_DAY, "last_day", LAST_DAY,
                "row_limit", 4L));
        assertThat(report.rows()).isEqualTo(8);
        assertThat(loadedRows(schema)).containsExactlyInAnyOrderElementsOf(TrapDataset.expectedRowsLimitedTo4());
        try (Connection c = TestPostgres.superuser()) {
            assertThat(TestPostgres.queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days"
                    + " WHERE query_limit = 4")).isEqualTo(3);
        }
    }
}
