package dev.cryptopipeline.crash;

import static dev.cryptopipeline.TestPostgres.count;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.ChildRun;
import dev.cryptopipeline.TestPostgres;
import java.net.InetAddress;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two real processes against one target: one writer at a time, and a dead writer's lock dies with it. */
class ConcurrencyIT {
    private static final LocalDate DAY = LocalDate.now(ZoneOffset.UTC).minusDays(1);

    @TempDir
    Path dir;

    private String[] daily(String schema, String rows) {
        return new String[] {"daily", "--date", DAY.toString(), "--source", "synthetic", "--jdbc-url",
                TestPostgres.jdbcUrl(), "--pg-schema", schema, "--data-dir", dir.toString(), "--rows-per-day", rows};
    }

    @Test
    void two_daily_runs_started_together_one_loads_the_other_exits_75_naming_the_holder() throws Exception {
        // given
        String schema = TestPostgres.newSchema("together");
        assertThat(ChildRun.start(daily(schema, "100")).waitFor(60)).isZero();
        // when
        ChildRun a = ChildRun.start(daily(schema, "200000"));
        ChildRun b = ChildRun.start(daily(schema, "200000"));
        int codeA = a.waitFor(120);
        int codeB = b.waitFor(120);
        // then
        assertThat(List.of(codeA, codeB)).containsExactlyInAnyOrder(0, 75);
        ChildRun winner = codeA == 0 ? a : b;
        ChildRun loser = codeA == 0 ? b : a;
        String host = InetAddress.getLocalHost().getHostName();
        assertThat(loser.err).anyMatch(l -> l.startsWith("crypto-pipeline: Another run holds the lock on schema "
                + schema + ": crypto-pipeline daily pid=" + winner.process.pid() + "@" + host.substring(0,
                Math.min(host.length(), 10))) && l.contains(" since ") && l.contains("try again"));
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, DAY)).isEqualTo(200_000);
        }
    }

    @Test
    void an_embedded_server_left_by_a_killed_run_is_adopted_and_stopped_by_the_next_run() throws Exception {
        // given: a run on the embedded database, killed while it works; its server outlives it
        String[] args = {"daily", "--date", DAY.toString(), "--source", "synthetic", "--data-dir", dir.toString(),
                "--rows-per-day", "100000"};
        ChildRun killed = ChildRun.start(args);
        long deadline = System.currentTimeMillis() + 60_000;
        while (killed.count("Exported") == 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        killed.kill();
        Path pidFile = dir.resolve("postgres/postmaster.pid");
        assertThat(pidFile).exists();
        long postmaster = Long.parseLong(java.nio.file.Files.readAllLines(pidFile).get(0).trim());
        assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive)).contains(true);
        // when
        ChildRun next = ChildRun.start(args);
        // then
        assertThat(next.waitFor(120)).as(next.all()).isZero();
        assertThat(next.err).anyMatch(l -> l.contains("Adopting the embedded PostgreSQL"));
        ProcessHandle.of(postmaster).ifPresent(p -> p.onExit().orTimeout(30, java.util.concurrent.TimeUnit.SECONDS)
                .join());
        assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(next.out).anyMatch(l -> l.contains("loaded 1 day (100000 rows)"));
    }

    @Test
    void a_lock_left_by_a_killed_run_never_blocks_the_next_run() throws Exception {
        // given: a run that holds the lock and has recorded its start (it exports only after both), killed with SIGKILL
        String schema = TestPostgres.newSchema("deadlock");
        ChildRun killed = ChildRun.start(daily(schema, "100000"));
        long deadline = System.currentTimeMillis() + 60_000;
        while (killed.count("Exported") == 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        killed.kill();
        // when: the next run starts right away
        ChildRun next = ChildRun.start(daily(schema, "1000"));
        // then: the session-level lock died with the killed run's connection
        assertThat(next.waitFor(60)).as(next.all()).isZero();
        assertThat(next.err).anyMatch(l -> l.contains("Marked 1 run(s) that ended without recording an outcome"));
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, DAY)).isEqualTo(1000);
        }
    }
}
