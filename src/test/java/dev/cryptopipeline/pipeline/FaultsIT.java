package dev.cryptopipeline.pipeline;

import static dev.cryptopipeline.TestPostgres.checksum;
import static dev.cryptopipeline.TestPostgres.count;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.TestPipelines;
import dev.cryptopipeline.TestPostgres;
import dev.cryptopipeline.config.SourceKind;
import dev.cryptopipeline.lake.LocalLake;
import dev.cryptopipeline.source.SyntheticSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Database faults in the middle of a run: transient ones are retried, permanent ones fail at once; old data stays. */
class FaultsIT {
    private static final LocalDate YESTERDAY = LocalDate.now(ZoneOffset.UTC).minusDays(1);
    private static final Pipeline.Retry FAST = new Pipeline.Retry(4, Duration.ofMillis(50), Duration.ofMillis(200));

    @TempDir
    Path dir;
    String schema;

    @BeforeEach
    void newSchema() {
        schema = TestPostgres.newSchema("faults");
    }

    private Pipeline pipeline(String url, int rowsPerDay) {
        return TestPipelines.pipeline(SourceKind.SYNTHETIC, new SyntheticSource(rowsPerDay, 100_000,
                Clock.systemUTC()), new LocalLake(dir.resolve("lake")), url, schema, dir, rowsPerDay, false, FAST);
    }

    /** Terminates the first backend of the run caught running COPY; returns how many it terminated. */
    private static CompletableFuture<Integer> terminateCopyOnce(String url) {
        return CompletableFuture.supplyAsync(() -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
                while (System.nanoTime() < deadline) {
                    try (ResultSet rs = st.executeQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            + " WHERE application_name LIKE 'crypto-pipeline test%' AND query LIKE 'COPY%'"
                            + " AND state = 'active'")) {
                        if (rs.next()) {
                            return 1;
                        }
                    }
                    Thread.sleep(2);
                }
                return 0;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void a_connection_killed_during_copy_is_retried_and_the_run_completes() throws Exception {
        // given: a killer waiting for the loader's COPY
        CompletableFuture<Integer> killed = terminateCopyOnce(TestPostgres.jdbcUrl());
        // when
        RunReport report = pipeline(TestPostgres.jdbcUrl(), 60_000).backfill(YESTERDAY.minusDays(2), YESTERDAY, false);
        // then
        assertThat(killed.get(30, TimeUnit.SECONDS)).as("a COPY was terminated").isEqualTo(1);
        assertThat(report.loaded()).hasSize(3);
        try (Connection c = TestPostgres.superuser()) {
            for (int i = 0; i < 3; i++) {
                assertThat(count(c, schema, YESTERDAY.minusDays(i))).isEqualTo(60_000);
            }
            assertThat(TestPostgres.queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days")).isEqualTo(3);
            assertThat(TestPostgres.queryLong(c, "SELECT count(*) FROM " + schema + ".runs WHERE outcome = 'ok'"))
                    .isEqualTo(1);
        }
    }

    @Test
    void an_outage_that_outlasts_the_retries_exits_75_and_the_old_data_survives_a_restart() throws Exception {
        // given: a server of its own, with the day loaded
        Path data = dir.resolve("pg");
        EmbeddedPostgres server = EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false)
                .start();
        String url = "jdbc:postgresql://127.0.0.1:" + server.getPort() + "/postgres?user=postgres";
        LocalDate day = YESTERDAY;
        pipeline(url, 1000).reload(day);
        String before;
        try (Connection c = DriverManager.getConnection(url)) {
            before = checksum(c, schema, day);
        }
        // when: the server stops during the reload's COPY and stays down
        AtomicInteger stopped = new AtomicInteger();
        CompletableFuture<Void> stopper = terminateCopyOnce(url).thenAccept(n -> {
            try {
                server.close();
                stopped.set(n);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThatThrownBy(() -> pipeline(url, 80_000).reload(day))
                .isInstanceOf(PipelineException.TryLater.class)
                .satisfies(e -> assertThat(((PipelineException) e).exitCode().value()).isEqualTo(75))
                .hasMessageContaining("run again later");
        stopper.get(30, TimeUnit.SECONDS);
        assertThat(stopped.get()).isEqualTo(1);
        // then: after a restart, the day is wholly the old load
        try (EmbeddedPostgres restarted = EmbeddedPostgres.builder().setDataDirectory(data)
                .setCleanDataDirectory(false).start();
             Connection c = restarted.getPostgresDatabase().getConnection()) {
            assertThat(count(c, schema, day)).isEqualTo(1000);
            assertThat(checksum(c, schema, day)).isEqualTo(before);
        }
    }

    @Test
    void a_server_stopped_and_restarted_mid_run_is_waited_for_and_the_run_completes() throws Exception {
        // given: a server of its own on a fixed port
        Path data = dir.resolve("pg");
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        EmbeddedPostgres server = EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false)
                .setPort(port).start();
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
        // when: during a COPY the server stops, and comes back a second later
        CompletableFuture<EmbeddedPostgres> restarted = terminateCopyOnce(url).thenApply(n -> {
            try {
                server.close();
                Thread.sleep(1000);
                return EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false).setPort(port)
                        .start();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Pipeline patient = TestPipelines.pipeline(SourceKind.SYNTHETIC, new SyntheticSource(60_000, 100_000,
                Clock.systemUTC()), new LocalLake(dir.resolve("lake")), url, schema, dir, 60_000, false,
                new Pipeline.Retry(8, Duration.ofMillis(200), Duration.ofSeconds(2)));
        RunReport report = patient.backfill(YESTERDAY.minusDays(2), YESTERDAY, false);
        // then
        try (EmbeddedPostgres again = restarted.get(60, TimeUnit.SECONDS);
             Connection c = DriverManager.getConnection(url)) {
            assertThat(report.loaded()).hasSize(3);
            for (int i = 0; i < 3; i++) {
                assertThat(count(c, schema, YESTERDAY.minusDays(i))).isEqualTo(60_000);
            }
        }
    }

    @Test
    void a_table_altered_by_hand_fails_at_once_with_a_clear_message() throws Exception {
        // given
        pipeline(TestPostgres.jdbcUrl(), 500).reload(YESTERDAY);
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement()) {
            st.execute("ALTER TABLE " + schema + ".token_transfers DROP COLUMN name CASCADE");
        }
        // when / then
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> pipeline(TestPostgres.jdbcUrl(), 700).reload(YESTERDAY))
                .isInstanceOf(PipelineException.Failed.class)
                .hasMessageContaining("the table " + schema + ".token_transfers was altered (missing [name]")
                .hasMessageContaining("restore its columns, or load into a new --pg-schema");
        assertThat(System.nanoTime() - t0).as("no retries").isLessThan(TimeUnit.SECONDS.toNanos(5));
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, YESTERDAY)).isEqualTo(500);
        }
    }
}
