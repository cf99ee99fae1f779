package dev.cryptopipeline.sink;

import static dev.cryptopipeline.TestPostgres.checksum;
import static dev.cryptopipeline.TestPostgres.count;
import static dev.cryptopipeline.TestPostgres.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.TestPostgres;
import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.lake.ForwardingLake;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LakeLayout;
import dev.cryptopipeline.lake.LocalLake;
import dev.cryptopipeline.lake.Manifest;
import dev.cryptopipeline.source.SyntheticSource;
import dev.cryptopipeline.state.Ledger;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readers never wait long on a load: the swap takes the table's lock under a short lock timeout and, while a long
 * reader holds the table, steps out of the lock queue, lets the other readers through and tries again, never
 * redoing the COPY.
 */
class SwapLocksIT {
    private static final LocalDate DAY = LocalDate.of(2024, 1, 15);

    @TempDir
    Path dir;
    String schema;
    LocalLake lake;
    Ledger ledger;

    @BeforeEach
    void setUp() throws SQLException {
        schema = TestPostgres.newSchema("swap");
        // A spy, to count how often the loader reads the lake: a swap that waits must never redo the COPY.
        lake = org.mockito.Mockito.spy(new LocalLake(dir.resolve("lake")));
        lake.prepare();
        ledger = new Ledger(new Identifier(schema));
        try (Connection c = TestPostgres.superuser()) {
            Migrations.migrate(c, new Identifier(schema));
        }
    }

    private Manifest export(int rows, String runId) {
        new SyntheticSource(rows, 100_000, Clock.systemUTC()).export(List.of(DAY), runId, OptionalInt.empty(), lake);
        return LakeLayout.readManifest(lake, DAY, runId);
    }

    private PostgresSink.LoadResult load(Connection c, Manifest m, PostgresSink.SwapTiming timing)
            throws SQLException {
        return new PostgresSink(c, new Identifier(schema), timing).load(lake, m, (tx, rows) -> ledger.markLoaded(tx,
                new Ledger.LoadedDay(m.day(), rows, m.source(), m.runId(), m.sourceJobs(), null, Instant.now(),
                        m.runId(), "reload")));
    }

    /** A session that reads the table in a transaction and keeps it open, holding its lock, until released. */
    private CompletableFuture<Void> longReader(String applicationName, CountDownLatch holding, Duration holdFor) {
        return CompletableFuture.runAsync(() -> {
            try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement()) {
                st.execute("SET application_name = '" + applicationName + "'");
                c.setAutoCommit(false);
                st.executeQuery("SELECT count(*) FROM " + schema + ".token_transfers").close();
                holding.countDown();
                Thread.sleep(holdFor.toMillis());
                c.commit();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void a_reload_waits_out_a_long_reader_without_stalling_other_readers_or_copying_twice() throws Exception {
        // given: the day loaded with 2000 rows, and a reader that keeps the table locked for 20 s
        Manifest old = export(2000, "old");
        Manifest fresh = export(3000, "new");
        try (Connection c = TestPostgres.superuser()) {
            load(c, old, PostgresSink.SwapTiming.defaults());
        }
        CountDownLatch holding = new CountDownLatch(1);
        long readerStart = System.nanoTime();
        CompletableFuture<Void> reader = longReader("twenty-second report", holding, Duration.ofSeconds(20));
        assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
        // and other readers querying the day all along, each on its own connection
        AtomicBoolean done = new AtomicBoolean();
        List<long[]> queries = new CopyOnWriteArrayList<>(); // {millis taken, rows seen}
        CompletableFuture<Void> others = CompletableFuture.runAsync(() -> {
            while (!done.get()) {
                long t = System.nanoTime();
                try (Connection c = TestPostgres.superuser()) {
                    long n = count(c, schema, DAY);
                    queries.add(new long[] {(System.nanoTime() - t) / 1_000_000, n});
                    Thread.sleep(100);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        });

        // when: the day is reloaded with the default swap timing
        org.mockito.Mockito.clearInvocations(lake);
        PostgresSink.LoadResult result;
        try (Connection c = TestPostgres.superuser()) {
            result = load(c, fresh, PostgresSink.SwapTiming.defaults());
        } finally {
            Thread.sleep(500);
            done.set(true);
        }
        long reloadEnd = System.nanoTime();
        others.get(30, TimeUnit.SECONDS);
        reader.get(30, TimeUnit.SECONDS);

        // then: the swap waited for the long reader, and the COPY ran once
        org.mockito.Mockito.verify(lake, org.mockito.Mockito.times(fresh.files().size()))
                .open(org.mockito.ArgumentMatchers.anyString());
        assertThat(result.replaced()).isTrue();
        assertThat(result.swapAttempts()).as("the swap stepped aside and tried again").isGreaterThan(1);
        assertThat(reloadEnd - readerStart).as("the swap could only happen once the reader was done")
                .isGreaterThan(TimeUnit.SECONDS.toNanos(20));
        // and no other reader waited more than about the swap's lock timeout, and each saw a whole day
        System.out.printf("SwapLocksIT: %d queries of other readers during the reload, the slowest took %d ms;"
                        + " the swap took %d tries and waited %d ms%n", queries.size(),
                queries.stream().mapToLong(q -> q[0]).max().orElseThrow(), result.swapAttempts(),
                result.swapWaitMillis());
        assertThat(queries).hasSizeGreaterThan(20);
        assertThat(queries.stream().mapToLong(q -> q[0]).max().orElseThrow())
                .as("the longest wait of another reader, in ms").isLessThan(3000);
        assertThat(queries.stream().map(q -> q[1]).distinct()).containsAnyOf(2000L).allMatch(n -> n == 2000L
                || n == 3000L);
        assertThat(queries.get(queries.size() - 1)[1]).isEqualTo(3000);
        // and the day is wholly the new load, with its ledger row
        String expected = checksumOfFreshLoad(fresh);
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, DAY)).isEqualTo(3000);
            assertThat(checksum(c, schema, DAY)).isEqualTo(expected);
            assertThat(queryLong(c, "SELECT rows FROM " + schema + ".loaded_days WHERE day = '" + DAY + "'"))
                    .isEqualTo(3000);
            assertThat(queryLong(c, "SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema
                    + "' AND tablename LIKE 'token_transfers_load%'")).isZero();
        }
    }

    @Test
    void a_swap_blocked_past_its_patience_exits_75_naming_the_blocker_and_keeps_the_old_day() throws Exception {
        // given: the day loaded, and a reader that holds the table for longer than the swap's patience
        Manifest old = export(2000, "old");
        Manifest fresh = export(3000, "new");
        String before;
        try (Connection c = TestPostgres.superuser()) {
            load(c, old, PostgresSink.SwapTiming.defaults());
            before = checksum(c, schema, DAY);
        }
        CountDownLatch holding = new CountDownLatch(1);
        CompletableFuture<Void> reader = longReader("nightly-report", holding, Duration.ofSeconds(8));
        assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
        PostgresSink.SwapTiming impatient = new PostgresSink.SwapTiming(Duration.ofMillis(300), Duration.ofSeconds(3),
                Duration.ofMillis(100), Duration.ofMillis(500));

        // when
        Throwable t;
        try (Connection c = TestPostgres.superuser()) {
            t = catchThrowable(() -> load(c, fresh, impatient));
        }

        // then: try later (exit 75), saying who holds the table and that the old day is intact
        assertThat(t).isInstanceOf(PipelineException.TryLater.class)
                .hasMessageContaining("'nightly-report'").hasMessageContaining("in a transaction since")
                .hasMessageContaining("the old data of the day is intact");
        assertThat(((PipelineException) t).exitCode().value()).isEqualTo(75);
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, DAY)).isEqualTo(2000);
            assertThat(checksum(c, schema, DAY)).isEqualTo(before);
            assertThat(queryLong(c, "SELECT rows FROM " + schema + ".loaded_days WHERE day = '" + DAY + "'"))
                    .isEqualTo(2000);
            assertThat(queryLong(c, "SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema
                    + "' AND tablename LIKE 'token_transfers_load%'")).isZero();
        }
        reader.get(30, TimeUnit.SECONDS);
    }

    @Test
    void a_first_load_of_a_day_does_not_wait_for_readers_of_the_table() throws Exception {
        // given: another day loaded, and a reader holding the table
        Manifest other = new SyntheticSource(1000, 100_000, Clock.systemUTC()).export(List.of(DAY.minusDays(1)),
                "other", OptionalInt.empty(), lake).get(0);
        try (Connection c = TestPostgres.superuser()) {
            load(c, LakeLayout.readManifest(lake, other.day(), other.runId()), PostgresSink.SwapTiming.defaults());
        }
        CountDownLatch holding = new CountDownLatch(1);
        CompletableFuture<Void> reader = longReader("dashboard", holding, Duration.ofSeconds(5));
        assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
        // when: a day not loaded before is loaded (attaching needs only a lock that readers do not conflict with)
        PostgresSink.LoadResult result;
        try (Connection c = TestPostgres.superuser()) {
            result = load(c, export(2000, "first"), PostgresSink.SwapTiming.defaults());
        }
        // then
        assertThat(result.swapAttempts()).isEqualTo(1);
        assertThat(result.replaced()).isFalse();
        assertThat(reader).isNotDone();
        reader.get(30, TimeUnit.SECONDS);
    }

    @Test
    void a_reload_does_not_wait_for_the_load_of_another_day_in_progress() throws Exception {
        // given: the day loaded, and another day's load paused in the middle of its COPY
        Manifest old = export(2000, "old");
        Manifest fresh = export(3000, "new");
        try (Connection c = TestPostgres.superuser()) {
            load(c, old, PostgresSink.SwapTiming.defaults());
        }
        LocalDate otherDay = DAY.plusDays(1);
        new SyntheticSource(1000, 100_000, Clock.systemUTC()).export(List.of(otherDay), "other", OptionalInt.empty(),
                lake);
        Manifest other = LakeLayout.readManifest(lake, otherDay, "other");
        CountDownLatch copying = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<PostgresSink.LoadResult> otherLoad = CompletableFuture.supplyAsync(() -> {
            try (Connection c = TestPostgres.superuser()) {
                return new PostgresSink(c, new Identifier(schema)).load(pausing(lake, copying, release), other,
                        (tx, rows) -> { });
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(copying.await(30, TimeUnit.SECONDS)).isTrue();
        PostgresSink.SwapTiming impatient = new PostgresSink.SwapTiming(Duration.ofSeconds(2), Duration.ofSeconds(10),
                Duration.ofMillis(200), Duration.ofSeconds(1));
        // when
        PostgresSink.LoadResult result;
        try (Connection c = TestPostgres.superuser()) {
            result = load(c, fresh, impatient);
        } finally {
            release.countDown();
        }
        // then: the reload swapped at its first try, while the other load was still copying
        assertThat(result.swapAttempts()).isEqualTo(1);
        assertThat(result.replaced()).isTrue();
        assertThat(otherLoad.get(60, TimeUnit.SECONDS).rows()).isEqualTo(1000);
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, DAY)).isEqualTo(3000);
            assertThat(count(c, schema, otherDay)).isEqualTo(1000);
        }
    }

    @Test
    void a_reload_drops_the_replaced_load_after_its_commit_leaving_no_table_behind() throws Exception {
        // given: the day loaded
        Manifest old = export(2000, "old");
        Manifest fresh = export(3000, "new");
        try (Connection c = TestPostgres.superuser()) {
            load(c, old, PostgresSink.SwapTiming.defaults());
            // when
            PostgresSink.LoadResult result = load(c, fresh, PostgresSink.SwapTiming.defaults());
            // then: the day is the new load, and the old one is gone, not kept aside
            assertThat(result.replaced()).isTrue();
            assertThat(count(c, schema, DAY)).isEqualTo(3000);
            assertThat(tablesLike(c, "token_transfers_r%")).isEmpty();
            assertThat(tablesLike(c, "token_transfers%")).containsExactly("token_transfers",
                    PostgresSink.partitionName(DAY));
        }
    }

    @Test
    void replaced_loads_a_stopped_run_left_behind_go_with_the_next_reload_of_their_day_or_the_next_run()
            throws Exception {
        // given: the day loaded, and the tables a run stopped between a reload's commit and its drop would leave
        Manifest old = export(2000, "old");
        Manifest fresh = export(3000, "new");
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement()) {
            load(c, old, PostgresSink.SwapTiming.defaults());
            String other = PartitionSwap.retiredName(DAY.minusDays(5));
            st.execute("CREATE TABLE " + schema + "." + PartitionSwap.retiredName(DAY) + " (x int)");
            st.execute("CREATE TABLE " + schema + "." + other + " (x int)");
            st.execute("CREATE TABLE " + schema + ".token_transfers_report (x int)");   // not ours: kept

            // when: the day is reloaded
            load(c, fresh, PostgresSink.SwapTiming.defaults());
            // then: its own leftover went with the reload; another day's waits for the next run
            assertThat(count(c, schema, DAY)).isEqualTo(3000);
            assertThat(tablesLike(c, "token_transfers_r%")).containsExactly(other, "token_transfers_report");

            // when: the next run starts
            int dropped = new PostgresSink(c, new Identifier(schema)).dropRetiredLoads();
            // then
            assertThat(dropped).isEqualTo(1);
            assertThat(tablesLike(c, "token_transfers_r%")).containsExactly("token_transfers_report");
            assertThat(c.getAutoCommit()).isTrue();
        }
    }

    private List<String> tablesLike(Connection c, String pattern) throws SQLException {
        List<String> names = new java.util.ArrayList<>();
        try (Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery(
                "SELECT tablename FROM pg_tables WHERE schemaname = '" + schema + "' AND tablename LIKE '" + pattern
                        + "' ORDER BY tablename")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        return names;
    }

    /** The same lake, whose files stop after their first bytes until {@code release}, as a stalled download would. */
    private static Lake pausing(Lake lake, CountDownLatch reading, CountDownLatch release) {
        return new ForwardingLake() {
            @Override
            protected Lake delegate() {
                return lake;
            }

            @Override
            public InputStream open(String key) throws IOException {
                return new FilterInputStream(lake.open(key)) {
                    private boolean started;

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        if (started) {
                            reading.countDown();
                            try {
                                release.await();
                            } catch (InterruptedException e) {
                                throw new IOException(e);
                            }
                        }
                        started = true;
                        return super.read(b, off, len);
                    }
                };
            }
        };
    }

    private String checksumOfFreshLoad(Manifest m) throws SQLException {
        String elsewhere = TestPostgres.newSchema("swap_ref");
        try (Connection c = TestPostgres.superuser()) {
            Migrations.migrate(c, new Identifier(elsewhere));
            new PostgresSink(c, new Identifier(elsewhere)).load(lake, m, (tx, rows) -> { });
            return checksum(c, elsewhere, DAY);
        }
    }
}
