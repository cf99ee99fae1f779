package dev.cryptopipeline.source;

import static dev.cryptopipeline.source.TrapDataset.ALICE;
import static dev.cryptopipeline.source.TrapDataset.BOB;
import static dev.cryptopipeline.source.TrapDataset.EMPTY_DAY;
import static dev.cryptopipeline.source.TrapDataset.FIRST_DAY;
import static dev.cryptopipeline.source.TrapDataset.LAST_DAY;
import static dev.cryptopipeline.source.TrapDataset.UNKNOWN;
import static dev.cryptopipeline.source.TrapDataset.at;
import static dev.cryptopipeline.source.TrapDataset.block;
import static dev.cryptopipeline.source.TrapDataset.hash;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.ExitCode;
import dev.cryptopipeline.TestPipelines;
import dev.cryptopipeline.TestPostgres;
import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.config.SourceKind;
import dev.cryptopipeline.lake.Fingerprint;
import dev.cryptopipeline.lake.LocalLake;
import dev.cryptopipeline.pipeline.DayCheck;
import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.VerifyReport;
import dev.cryptopipeline.sink.PostgresFingerprint;
import dev.cryptopipeline.source.GoogleSqlEngine.Column;
import dev.cryptopipeline.source.GoogleSqlEngine.SqlType;
import dev.cryptopipeline.source.GoogleSqlEngine.Table;
import java.math.BigInteger;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verify query ({@link TransferQuery#fingerprintSql}) executed by GoogleSQL's reference engine over the trap
 * tables gives, day by day, exactly the row count and fingerprint that PostgreSQL computes over the same rows loaded
 * through the real pipeline, and that Java computes over the rows written by hand; and a change at the source shows in
 * its day and nowhere else, except a streaming duplicate, which the export's de-duplication absorbs.
 *
 * <p>Runs only in the failsafe execution {@code googlesql}; alone:
 * {@code mvn -B verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=GoogleSqlVerifyIT}.
 */
@GoogleSqlEngine.OnGoogleSqlClasspath
class GoogleSqlVerifyIT {
    private static final DateTimeFormatter MICROS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSS").withZone(ZoneOffset.UTC);
    private static final List<LocalDate> DAYS = List.of(FIRST_DAY, EMPTY_DAY, LAST_DAY);
    private static final List<GoogleSqlEngine> ENGINES = new ArrayList<>();
    private static GoogleSqlEngine engine;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        engine = engine(t -> t);
    }

    @AfterAll
    static void stop() {
        ENGINES.forEach(GoogleSqlEngine::close);
    }

    private static GoogleSqlEngine engine(UnaryOperator<Table> edit) {
        GoogleSqlEngine e = new GoogleSqlEngine(TrapDataset.tables(edit));
        ENGINES.add(e);
        return e;
    }

    /** The trap dataset with {@code edit} applied to the rows of {@code table}. */
    private static GoogleSqlEngine changed(String table, UnaryOperator<List<List<Object>>> edit) {
        return engine(t -> t.name().equals(table) ? new Table(t.name(), t.columns(), edit.apply(
                new ArrayList<>(t.rows()))) : t);
    }

    /** What BigQuery's verify query returns for the trap days, as the source reads it. */
    private static Map<LocalDate, Fingerprint.Day> atSource(GoogleSqlEngine e, OptionalInt limit) {
        return new TreeMap<>(new GoogleSqlSource(e).fingerprints(DAYS, limit));
    }

    /** The trap days loaded by the real pipeline from {@code e}, then fingerprinted by PostgreSQL. */
    private Map<LocalDate, Fingerprint.Day> loaded(GoogleSqlEngine e, OptionalInt limit, String schema)
            throws Exception {
        try (Pipeline pipeline = pipeline(new GoogleSqlSource(e), schema, limit)) {
            assertThat(pipeline.backfill(FIRST_DAY, LAST_DAY, false).exitCode()).isEqualTo(ExitCode.OK);
        }
        Map<LocalDate, Fingerprint.Day> days = new TreeMap<>();
        try (Connection c = TestPostgres.superuser()) {
            for (LocalDate d : DAYS) {
                days.put(d, PostgresFingerprint.of(c, new Identifier(schema), d));
            }
        }
        return days;
    }

    private Pipeline pipeline(GoogleSqlSource source, String schema, OptionalInt limit) {
        return TestPipelines.pipeline(SourceKind.BIGQUERY, source, new FolderNamedGs(new LocalLake(
                tmp.resolve("lake-" + schema))), TestPostgres.jdbcUrl(), schema, tmp.resolve("data"), 10000, limit,
                false, Pipeline.Retry.defaults());
    }

    /** Java's fingerprint of rows in {@link TrapDataset#expectedRows()}'s text form, by UTC day. */
    private static Map<LocalDate, Fingerprint.Day> inJava(List<List<String>> rows) {
        Map<LocalDate, Fingerprint.Accumulator> sums = new TreeMap<>();
        DAYS.forEach(d -> sums.put(d, new Fingerprint.Accumulator()));
        for (List<String> r : rows) {
            Instant t = java.time.LocalDateTime.parse(r.get(0), MICROS).toInstant(ZoneOffset.UTC);
            sums.get(LocalDate.ofInstant(t, ZoneOffset.UTC)).add(t, Long.parseLong(r.get(1)), bytes(r.get(2)),
                    bytes(r.get(3)), Integer.parseInt(r.get(4)), bytes(r.get(5)), bytes(r.get(6)), bytes(r.get(7)),
                    r.get(8) == null ? null : new BigInteger(r.get(8)), r.get(9), r.get(10),
                    r.get(11) == null ? null : Integer.valueOf(r.get(11)),
                    r.get(12) == null ? null : new BigInteger(r.get(12)));
        }
        Map<LocalDate, Fingerprint.Day> days = new TreeMap<>();
        sums.forEach((d, a) -> days.put(d, a.day()));
        return days;
    }

    private static byte[] bytes(String bytea) {
        return bytea == null ? null : HexFormat.of().parseHex(bytea.substring(2));
    }

    @Test
    void the_verify_query_is_valid_googlesql() {
        for (OptionalInt limit : List.of(OptionalInt.empty(), OptionalInt.of(4))) {
            Map<String, Object> params = new LinkedHashMap<>(Map.of("first_day", FIRST_DAY, "last_day", LAST_DAY));
            limit.ifPresent(n -> params.put("row_limit", (long) n));
            assertThat(engine.analyze(TransferQuery.fingerprintSql(limit), params)).containsExactly(
                    new Column("day", SqlType.DATE), new Column("row_count", SqlType.INT64),
                    new Column("fingerprint", SqlType.STRING));
        }
    }

    @Test
    void bigquery_postgresql_and_java_compute_the_same_fingerprint_of_every_trap() throws Exception {
        // when
        Map<LocalDate, Fingerprint.Day> bigquery = atSource(engine, OptionalInt.empty());
        Map<LocalDate, Fingerprint.Day> postgres = loaded(engine, OptionalInt.empty(), TestPostgres.newSchema("zv"));
        // then: day by day, the same rows and the same sum, down to the last bit
        assertThat(bigquery).isEqualTo(postgres).isEqualTo(inJava(TrapDataset.expectedRows()));
        assertThat(bigquery.get(FIRST_DAY).rows()).isEqualTo(7);
        assertThat(bigquery.get(EMPTY_DAY)).isEqualTo(Fingerprint.Day.EMPTY);
        assertThat(bigquery.get(LAST_DAY).rows()).isEqualTo(4);
    }

    @Test
    void a_trial_is_compared_with_a_trial_of_the_same_size() throws Exception {
        // when
        Map<LocalDate, Fingerprint.Day> bigquery = atSource(engine, OptionalInt.of(4));
        Map<LocalDate, Fingerprint.Day> postgres = loaded(engine, OptionalInt.of(4), TestPostgres.newSchema("zv"));
        // then
        assertThat(bigquery).isEqualTo(postgres).isEqualTo(inJava(TrapDataset.expectedRowsLimitedTo4()));
        assertThat(bigquery.get(FIRST_DAY).rows()).isEqualTo(4);
        assertThat(bigquery).isNotEqualTo(atSource(engine, OptionalInt.empty()));
    }

    @Test
    void verify_through_the_pipeline_finds_every_loaded_day_matching_with_one_query() throws Exception {
        // given
        String schema = TestPostgres.newSchema("zv");
        loaded(engine, OptionalInt.empty(), schema);
        GoogleSqlSource source = new GoogleSqlSource(engine);
        // when
        VerifyReport report;
        try (Pipeline pipeline = pipeline(source, schema, OptionalInt.empty())) {
            report = pipeline.verify(null, null);
        }
        // then
        assertThat(report.exitCode()).isEqualTo(ExitCode.OK);
        assertThat(report.checks()).extracting(DayCheck::day).containsExactlyElementsOf(DAYS);
        assertThat(report.checks()).allMatch(c -> c.outcome() == DayCheck.Outcome.MATCH);
        assertThat(source.fingerprintQueries).containsExactly(Map.of("first_day", FIRST_DAY, "last_day", LAST_DAY));
    }

    @Test
    void a_change_at_the_source_shows_in_its_day_and_nowhere_else() {
        // given
        Map<LocalDate, Fingerprint.Day> before = atSource(engine, OptionalInt.empty());
        String transfers = TrapDataset.TOKEN_TRANSFERS;
        // when: a streaming duplicate of a row of the first day (the export's de-duplication absorbs it)
        Map<LocalDate, Fingerprint.Day> duplicate = atSource(changed(transfers, rows -> {
            rows.add(rows.get(6));
            return rows;
        }), OptionalInt.empty());
        // a value changed on the first day
        Map<LocalDate, Fingerprint.Day> value = atSource(changed(transfers, rows -> {
            List<Object> r = new ArrayList<>(rows.get(6));
            r.set(3, "1");
            rows.set(6, r);
            return rows;
        }), OptionalInt.empty());
        // a row added on the last day, a row removed from the first
        Map<LocalDate, Fingerprint.Day> added = atSource(changed(transfers, rows -> {
            rows.add(Arrays.asList(UNKNOWN, BOB, ALICE, "9", hash(0x7399), 5L, at("2024-03-03T11:00:00Z"), 1503L,
                    block(1503)));
            return rows;
        }), OptionalInt.empty());
        Map<LocalDate, Fingerprint.Day> removed = atSource(changed(transfers, rows -> {
            rows.remove(5);
            return rows;
        }), OptionalInt.empty());
        // a reorg: a row of the last day emitted again in a later block, which the de-duplication keeps
        Map<LocalDate, Fingerprint.Day> reorg = atSource(changed(transfers, rows -> {
            List<Object> r = new ArrayList<>(rows.get(11));
            r.set(6, at("2024-03-03T08:32:00Z"));
            r.set(7, 1510L);
            r.set(8, block(1510));
            rows.add(r);
            return rows;
        }), OptionalInt.empty());
        // a token's symbol changed in the tokens table (a transfer of the last day uses it)
        Map<LocalDate, Fingerprint.Day> metadata = atSource(changed(TrapDataset.TOKENS, rows -> {
            List<Object> r = new ArrayList<>(rows.get(5));
            r.set(1, "Q2");
            rows.set(5, r);
            return rows;
        }), OptionalInt.empty());
        // then
        assertThat(duplicate).isEqualTo(before);
        assertThat(changedDays(before, value)).containsExactly(FIRST_DAY);
        assertThat(value.get(FIRST_DAY).rows()).isEqualTo(7);
        assertThat(changedDays(before, added)).containsExactly(LAST_DAY);
        assertThat(added.get(LAST_DAY).rows()).isEqualTo(5);
        assertThat(changedDays(before, removed)).containsExactly(FIRST_DAY);
        assertThat(removed.get(FIRST_DAY).rows()).isEqualTo(6);
        assertThat(changedDays(before, reorg)).containsExactly(LAST_DAY);
        assertThat(reorg.get(LAST_DAY).rows()).isEqualTo(4);
        assertThat(changedDays(before, metadata)).containsExactly(LAST_DAY);
    }

    @Test
    void a_day_whose_hashes_sum_past_64_bits_sums_alike_on_both_engines() throws Exception {
        // given: 300 more transfers on the empty day (their hashes add up far beyond a signed 64-bit integer), one of
        // them with a value written with leading zeros, which PostgreSQL's numeric drops
        GoogleSqlEngine big = changed(TrapDataset.TOKEN_TRANSFERS, rows -> {
            for (int i = 0; i < 300; i++) {
                rows.add(Arrays.asList(i % 2 == 0 ? UNKNOWN : TrapDataset.DAI, ALICE, BOB,
                        i == 0 ? "000123" : Integer.toString(i * 1_000_003), hash(0x200000 + i), (long) (i % 7),
                        at("2024-03-02T00:00:00Z").plusSeconds(i * 12L), 2000L + i, block(2000 + i)));
            }
            return rows;
        });
        // when
        Map<LocalDate, Fingerprint.Day> bigquery = atSource(big, OptionalInt.empty());
        Map<LocalDate, Fingerprint.Day> postgres = loaded(big, OptionalInt.empty(), TestPostgres.newSchema("zv"));
        // then
        assertThat(bigquery.get(EMPTY_DAY).rows()).isEqualTo(300);
        assertThat(bigquery.get(EMPTY_DAY).sum()).isGreaterThan(BigInteger.valueOf(Long.MAX_VALUE));
        assertThat(bigquery).isEqualTo(postgres);
    }

    private static List<LocalDate> changedDays(Map<LocalDate, Fingerprint.Day> before,
                                               Map<LocalDate, Fingerprint.Day> after) {
        return DAYS.stream().filter(d -> !before.get(d).equals(after.get(d))).toList();
    }
}
