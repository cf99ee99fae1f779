package dev.cryptopipeline.pipeline;

import static dev.cryptopipeline.TestPostgres.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyList;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.spy;

import dev.cryptopipeline.ExitCode;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.TestPipelines;
import dev.cryptopipeline.TestPostgres;
import dev.cryptopipeline.config.SourceKind;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LocalLake;
import dev.cryptopipeline.lake.Manifest;
import dev.cryptopipeline.source.Source;
import dev.cryptopipeline.source.SyntheticSource;
import java.io.InputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stages of a run at their edges, with Mockito doubles where a failure must happen at an exact step: a source
 * that fails on day 3 of 5, a lake that stalls. Several days load at once; the loaded days stay a prefix of the plan.
 */
class StagesIT {
    private static final LocalDate LAST = LocalDate.now(ZoneOffset.UTC).minusDays(1);
    private static final LocalDate FIRST = LAST.minusDays(4);

    @TempDir
    Path dir;
    String schema;

    @BeforeEach
    void newSchema() {
        schema = TestPostgres.newSchema("stages");
    }

    private Pipeline pipeline(Source source, Lake lake, int jobs) {
        return TestPipelines.pipeline(SourceKind.SYNTHETIC, source, lake, TestPostgres.jdbcUrl(), schema, dir, 2000,
                false, new Pipeline.Retry(3, Duration.ofMillis(20), Duration.ofMillis(100)), jobs);
    }

    @Test
    void a_source_that_fails_on_day_3_of_5_leaves_days_1_and_2_loaded_and_the_rest_to_do() throws Exception {
        // given: a real source that fails when it gets to the third day
        Source source = spy(new SyntheticSource(2000, 1000, Clock.systemUTC()));
        doAnswer(call -> {
            // One day per call, so the failure lands exactly on day 3.
            List<LocalDate> days = call.getArgument(0);
            Source.ExportRequest request = call.getArgument(1);
            Lake lake = call.getArgument(2);
            Consumer<Manifest> exported = call.getArgument(3);
            for (LocalDate d : days) {
                if (d.equals(FIRST.plusDays(2))) {
                    throw new PipelineException.Failed("the source is down (day 3)");
                }
                new SyntheticSource(2000, 1000, Clock.systemUTC()).export(List.of(d), request, lake, exported);
            }
            return null;
        }).when(source).export(anyList(), any(Source.ExportRequest.class), any(Lake.class), any());
        // when
        Throwable t = catchThrowable(() -> pipeline(source, new LocalLake(dir.resolve("lake")), 3)
                .backfill(FIRST, LAST, false));
        // then
        assertThat(t).isInstanceOf(PipelineException.Failed.class).hasMessageContaining("the source is down");
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days")).isEqualTo(2);
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days WHERE day IN ('" + FIRST + "', '"
                    + FIRST.plusDays(1) + "')")).isEqualTo(2);
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".runs WHERE outcome = 'failed'"
                    + " AND days_planned = 5 AND days_loaded = 2")).isEqualTo(1);
            assertThat(queryLong(c, "SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema
                    + "' AND tablename LIKE 'token_transfers_load%'")).isZero();
        }
        // and once the source is back, the same backfill does the rest
        RunReport rest = pipeline(new SyntheticSource(2000, 1000, Clock.systemUTC()), new LocalLake(dir.resolve(
                "lake")), 3).backfill(FIRST, LAST, false);
        assertThat(rest.loaded()).extracting(RunReport.DayLoad::day)
                .containsExactly(FIRST.plusDays(2), FIRST.plusDays(3), LAST);
    }

    @Test
    void a_stop_ends_a_run_whose_lake_stalls_within_seconds() throws Exception {
        // given: a lake whose files of the second day never deliver a byte
        Lake lake = spy(new LocalLake(dir.resolve("lake")));
        doAnswer(call -> {
            String key = call.getArgument(0);
            if (key.contains("day=" + FIRST.plusDays(1)) && !key.endsWith("_manifest.json")) {
                return new InputStream() {
                    @Override
                    public int read() throws java.io.IOException {
                        try {
                            Thread.sleep(Long.MAX_VALUE);
                        } catch (InterruptedException e) {
                            throw new java.io.InterruptedIOException("stalled read interrupted");
                        }
                        return -1;
                    }
                };
            }
            return call.callRealMethod();
        }).when(lake).open(anyString());
        Pipeline pipeline = pipeline(new SyntheticSource(2000, 1000, Clock.systemUTC()), lake, 2);
        CompletableFuture<Throwable> run = CompletableFuture.supplyAsync(() -> catchThrowable(
                () -> pipeline.backfill(FIRST, LAST, false)));
        // when: the operator stops it (SIGTERM) while the second day hangs
        Thread.sleep(2500);
        long t0 = System.nanoTime();
        pipeline.stop(ExitCode.TERMINATED);
        Throwable t = run.get(30, TimeUnit.SECONDS);
        // then
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(10_000);
        assertThat(t).isInstanceOf(PipelineException.Interrupted.class)
                .hasMessageMatching("interrupted: \\d of 5 days loaded; run again to finish");
        assertThat(((PipelineException) t).exitCode().value()).isEqualTo(143);
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days WHERE day > '" + FIRST + "'"))
                    .as("nothing after the stalled day committed").isZero();
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".runs WHERE outcome = 'interrupted'"))
                    .isEqualTo(1);
        }
    }
}
