package dev.cryptopipeline.source;

import static dev.cryptopipeline.TestPostgres.count;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cryptopipeline.ExitCode;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.TestPipelines;
import dev.cryptopipeline.TestPostgres;
import dev.cryptopipeline.config.SourceKind;
import dev.cryptopipeline.lake.GcsLake;
import dev.cryptopipeline.lake.TestStorage;
import dev.cryptopipeline.pipeline.DayCheck;
import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.RunReport;
import dev.cryptopipeline.pipeline.VerifyReport;
import java.math.BigInteger;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code verify} and {@code daily --verify-days} on the BigQuery path: the real client against the fake BigQuery,
 * whose source rows change after they were loaded. The day that changed is named, and only it; one capped query
 * covers the range; daily reloads exactly that day.
 */
class BigQueryVerifyIT {
    private static final LocalDate YESTERDAY = LocalDate.now(ZoneOffset.UTC).minusDays(1);
    private static final LocalDate D1 = YESTERDAY.minusDays(2);
    private static final LocalDate D2 = YESTERDAY.minusDays(1);
    private static final LocalDate D3 = YESTERDAY;
    private static final long GIB = 1L << 30;

    @TempDir
    Path dataDir;
    FakeBigQuery fake;
    TestStorage gcs;
    String schema;

    @BeforeEach
    void start() throws Exception {
        fake = new FakeBigQuery();
        gcs = new TestStorage();
        BigQueryExports.writeExtractsInto(fake, gcs);
        schema = TestPostgres.newSchema("bqv");
        for (LocalDate d : List.of(D1, D2, D3)) {
            fake.sourceRows.put(d, 300L);
        }
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    private Pipeline pipeline(Optional<Long> cap, OptionalInt queryLimit) {
        return TestPipelines.pipeline(SourceKind.BIGQUERY, BigQueryExports.source(fake, cap, Clock.systemUTC()),
                new GcsLake(gcs.storage, "gs://crypto-lake/eth", "US", 14), TestPostgres.jdbcUrl(), schema, dataDir,
                10000, queryLimit, false, Pipeline.Retry.defaults());
    }

    private Pipeline pipeline() {
        return pipeline(Optional.empty(), OptionalInt.empty());
    }

    private void backfill(LocalDate first, LocalDate last, OptionalInt queryLimit) {
        try (Pipeline p = pipeline(Optional.empty(), queryLimit)) {
            assertThat(p.backfill(first, last, false).exitCode()).isEqualTo(ExitCode.OK);
        }
    }

    /** The non-dry query jobs inserted after the first {@code skip} inserts. */
    private List<JsonNode> queriesAfter(int skip) {
        List<JsonNode> all = fake.jobInserts();
        return all.subList(skip, all.size()).stream().filter(b -> b.path("configuration").has("query"))
                .filter(b -> !b.path("configuration").path("dryRun").asBoolean()).toList();
    }

    private static String sql(JsonNode insert) {
        return insert.path("configuration").path("query").path("query").asText();
    }

    private Map<LocalDate, String> reasons() throws Exception {
        Map<LocalDate, String> reasons = new TreeMap<>();
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT day, reason FROM " + schema + ".loaded_days")) {
            while (rs.next()) {
                reasons.put(rs.getObject(1, LocalDate.class), rs.getString(2));
            }
        }
        return reasons;
    }

    /** How the source's rows of a day change after they were loaded, as its export would now see them. */
    enum Change {
        /** A late transfer of the day, added by a backfill at the source. */
        ROW_ADDED(DayCheck.Outcome.ROWS, rows -> {
            SyntheticSource.Transfer t = rows.get(10);
            byte[] tx = t.txHash().clone();
            tx[0] ^= 0x5a;
            rows.add(new SyntheticSource.Transfer(t.timestamp(), t.blockNumber(), t.blockHash(), tx,
                    t.logIndex() + 100, t.token(), t.from(), t.to(), t.value()));
            return rows;
        }),
        /** A transfer removed by a rewrite of the partition. */
        ROW_REMOVED(DayCheck.Outcome.ROWS, rows -> {
            rows.remove(10);
            return rows;
        }),
        /** A value corrected by a re-run of the source's job. */
        VALUE_CHANGED(DayCheck.Outcome.CONTENT, rows -> {
            SyntheticSource.Transfer t = rows.get(10);
            rows.set(10, new SyntheticSource.Transfer(t.timestamp(), t.blockNumber(), t.blockHash(), t.txHash(),
                    t.logIndex(), t.token(), t.from(), t.to(), t.value().add(BigInteger.ONE)));
            return rows;
        }),
        /**
         * A duplicate inserted: the same transfer (transaction hash and log index) again, in a later block after a
         * reorg; the export's de-duplication keeps the later block's row, so the day's content changes.
         */
        DUPLICATE_INSERTED(DayCheck.Outcome.CONTENT, rows -> {
            SyntheticSource.Transfer t = rows.get(10);
            byte[] block = t.blockHash().clone();
            block[0] ^= 0x33;
            rows.set(10, new SyntheticSource.Transfer(t.timestamp().plusSeconds(12), t.blockNumber() + 1, block,
                    t.txHash(), t.logIndex(), t.token(), t.from(), t.to(), t.value()));
            return rows;
        });

        final DayCheck.Outcome outcome;
        final UnaryOperator<List<SyntheticSource.Transfer>> edit;

        Change(DayCheck.Outcome outcome, UnaryOperator<List<SyntheticSource.Transfer>> edit) {
            this.outcome = outcome;
            this.edit = edit;
        }
    }

    @ParameterizedTest
    @EnumSource(Change.class)
    void verify_names_the_day_the_source_changed_and_daily_verify_days_reloads_only_it(Change change)
            throws Exception {
        // given: three days loaded, then the source changes the middle one
        backfill(D1, D3, OptionalInt.empty());
        fake.edits.put(D2, rows -> change.edit.apply(new ArrayList<>(rows)));
        int before = fake.jobInserts().size();
        // when
        VerifyReport report;
        try (Pipeline p = pipeline()) {
            report = p.verify(null, null);
        }
        // then: D2 differs, by rows or by content; D1 and D3 match
        assertThat(report.exitCode()).isEqualTo(ExitCode.DATA_CHECK);
        assertThat(report.differing()).extracting(DayCheck::day).containsExactly(D2);
        assertThat(report.differing().get(0).outcome()).isEqualTo(change.outcome);
        assertThat(report.checks()).filteredOn(c -> !c.day().equals(D2))
                .allMatch(c -> c.outcome() == DayCheck.Outcome.MATCH);
        // and it cost one capped query for the whole range, estimated by a dry run first, and nothing else
        List<JsonNode> all = fake.jobInserts().subList(before, fake.jobInserts().size());
        List<JsonNode> queries = queriesAfter(before);
        assertThat(queries).hasSize(1);
        JsonNode q = queries.get(0).path("configuration").path("query");
        assertThat(q.path("query").asText()).isEqualTo(TransferQuery.fingerprintSql(OptionalInt.empty()));
        assertThat(q.path("queryParameters").toString()).contains("\"" + D1 + "\"").contains("\"" + D3 + "\"");
        assertThat(q.path("maximumBytesBilled").asLong()).isEqualTo(3 * 5 * GIB + 10 * GIB);
        assertThat(q.has("destinationTable") && q.path("destinationTable").path("datasetId").asText()
                .equals("staging")).isFalse();
        assertThat(all.get(0).path("configuration").path("dryRun").asBoolean()).isTrue();
        assertThat(sql(all.get(0))).isEqualTo(TransferQuery.fingerprintSql(OptionalInt.empty()));
        assertThat(all).noneMatch(b -> b.path("configuration").has("extract"));

        // when: daily verifies the last three loaded days
        RunReport daily;
        try (Pipeline p = pipeline()) {
            daily = p.catchUp(3);
        }
        // then: it reloaded D2, exported afresh, and only D2
        assertThat(daily.exitCode()).isEqualTo(ExitCode.OK);
        assertThat(daily.loaded()).extracting(RunReport.DayLoad::day).containsExactly(D2);
        assertThat(daily.loaded().get(0).reason()).isEqualTo("source changed");
        assertThat(daily.verified()).extracting(DayCheck::day).containsExactly(D1, D2, D3);
        assertThat(daily.summaryLine()).contains("verified 3 days " + D1 + ".." + D3 + ": 1 differed from the source"
                + " and was reloaded: " + D2 + " (" + (change.outcome == DayCheck.Outcome.ROWS ? "rows" : "content")
                + ")");
        assertThat(reasons()).containsExactly(Map.entry(D1, "new"), Map.entry(D2, "source changed"),
                Map.entry(D3, "new"));
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, D2)).isEqualTo(fake.rows(D2).size());
        }
        try (Pipeline p = pipeline()) {
            assertThat(p.verify(null, null).exitCode()).isEqualTo(ExitCode.OK);
        }
    }

    @Test
    void a_day_that_still_differs_right_after_its_reload_fails_daily_instead_of_being_reloaded_every_day()
            throws Exception {
        // given: the source changes D2 every time it is read (or, alike, verify and the export disagree)
        backfill(D1, D3, OptionalInt.empty());
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        fake.edits.put(D2, rows -> {
            List<SyntheticSource.Transfer> changed = new ArrayList<>(rows);
            SyntheticSource.Transfer t = changed.get(0);
            changed.set(0, new SyntheticSource.Transfer(t.timestamp(), t.blockNumber(), t.blockHash(), t.txHash(),
                    t.logIndex(), t.token(), t.from(), t.to(), t.value().add(BigInteger.valueOf(
                    reads.incrementAndGet()))));
            return changed;
        });
        // when
        try (Pipeline p = pipeline()) {
            assertThatThrownBy(() -> p.catchUp(3)).isInstanceOf(PipelineException.DataCheck.class)
                    .hasMessageContaining("1 day(s) still differ from the source right after they were reloaded: "
                            + D2 + " (content)");
            // then: the reload happened once, and the run says so
            assertThat(p.lastReport().orElseThrow().loaded()).extracting(RunReport.DayLoad::day).containsExactly(D2);
            assertThat(p.lastReport().orElseThrow().exitCode()).isEqualTo(ExitCode.DATA_CHECK);
        }
        assertThat(reasons()).containsEntry(D2, "source changed");
    }

    @Test
    void a_trial_load_is_verified_with_a_query_of_the_same_limit() {
        // given: D1 a trial of 50 rows, D2..D3 in full
        backfill(D1, D1, OptionalInt.of(50));
        backfill(D2, D3, OptionalInt.empty());
        int before = fake.jobInserts().size();
        // when
        VerifyReport report;
        try (Pipeline p = pipeline()) {
            report = p.verify(null, null);
        }
        // then: all match, the trial against the first 50 rows of the source
        assertThat(report.exitCode()).isEqualTo(ExitCode.OK);
        assertThat(report.checks().get(0)).satisfies(c -> {
            assertThat(c.queryLimit()).isEqualTo(50);
            assertThat(c.source().rows()).isEqualTo(50);
        });
        List<JsonNode> queries = queriesAfter(before);
        assertThat(queries).extracting(BigQueryVerifyIT::sql).containsExactly(
                TransferQuery.fingerprintSql(OptionalInt.of(50)), TransferQuery.fingerprintSql(OptionalInt.empty()));
        assertThat(queries.get(0).path("configuration").path("query").path("queryParameters").toString())
                .contains("row_limit").contains("\"50\"");
    }

    @Test
    void an_estimate_over_the_cap_stops_verify_and_daily_before_any_job() throws Exception {
        // given
        backfill(D1, D2, OptionalInt.empty());
        fake.dryRunBytes = 2_000_000_000L;
        int before = fake.jobInserts().size();
        // when / then
        try (Pipeline p = pipeline(Optional.of(1_000_000_000L), OptionalInt.empty())) {
            assertThatThrownBy(() -> p.verify(null, null)).isInstanceOf(PipelineException.BadInput.class)
                    .hasMessageContaining("The verify query for " + D1 + ".." + D2 + " would scan 2000000000 bytes,"
                            + " over the cap of 1000000000").hasMessageContaining("nothing was spent");
        }
        // and daily, whose export of D3 is within the cap but whose verify is not, loads nothing
        fake.dryRunBytes = 500_000_000L;
        fake.verifyDryRunBytes = 2_000_000_000L;
        try (Pipeline p = pipeline(Optional.of(1_000_000_000L), OptionalInt.empty())) {
            assertThatThrownBy(() -> p.catchUp(2)).isInstanceOf(PipelineException.BadInput.class)
                    .hasMessageContaining("The verify query for " + D2 + ".." + D3 + " would scan 2000000000 bytes");
        }
        assertThat(queriesAfter(before)).isEmpty();
        assertThat(reasons()).containsOnlyKeys(D1, D2);
    }
}
