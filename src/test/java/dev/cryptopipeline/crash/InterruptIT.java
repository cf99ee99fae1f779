package dev.cryptopipeline.crash;

import static dev.cryptopipeline.TestPostgres.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.ChildRun;
import dev.cryptopipeline.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGINT (Ctrl-C) and SIGTERM (a service manager) stop a run within seconds: the day in flight is rolled back, the
 * days loaded stay, the run is recorded as interrupted, one line says how far it got, the exit code is 130 or 143, no
 * retry is logged for the stop, and running the command again finishes the rest. The real jar, real signals.
 */
class InterruptIT {
    private static final LocalDate LAST = LocalDate.now(ZoneOffset.UTC).minusDays(1);
    private static final LocalDate FIRST = LAST.minusDays(5);

    @TempDir
    Path dir;

    private String[] args(String schema, String... command) {
        List<String> a = new ArrayList<>(Arrays.asList(command));
        a.addAll(List.of("--source", "synthetic", "--jdbc-url", TestPostgres.jdbcUrl(), "--pg-schema", schema,
                "--data-dir", dir.toString(), "--rows-per-day", "150000", "--jobs", "2"));
        return a.toArray(String[]::new);
    }

    /**
     * A child whose SIGINT is not ignored: a process started in the background inherits SIGINT ignored (as a shell's
     * background job does), and the JVM then cannot catch it; perl restores the default before starting java.
     */
    private static List<String> withSigintRestored() {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/perl")), "perl restores SIGINT for the child");
        return List.of("/usr/bin/perl", "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die");
    }

    private void stopsCleanly(String signal, int exitCode) throws Exception {
        String schema = TestPostgres.newSchema("signal");
        ChildRun run = ChildRun.start(Map.of(), signal.equals("INT") ? withSigintRestored() : List.of(),
                args(schema, "backfill", "--start-date", FIRST.toString(), "--end-date", LAST.toString()));
        // given: the run has loaded its first day and is busy with the next
        long deadline = System.currentTimeMillis() + 90_000;
        while (run.count("done (1 of 6)") == 0 && run.process.isAlive() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertThat(run.process.isAlive()).as(run.all()).isTrue();
        // when
        long sent = System.nanoTime();
        new ProcessBuilder("kill", "-" + signal, Long.toString(pidOf(run))).start().waitFor();
        int code = run.waitFor(60);
        long millis = (System.nanoTime() - sent) / 1_000_000;
        // then
        assertThat(code).as(run.all()).isEqualTo(exitCode);
        assertThat(millis).as("stopped within seconds").isLessThan(15_000);
        assertThat(run.err).anyMatch(l -> l.matches("crypto-pipeline: interrupted: \\d of 6 days loaded; run again to"
                + " finish"));
        assertThat(run.err).as("no retry for a stop").noneMatch(l -> l.contains("retry") || l.contains("WARN"));
        long loaded;
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement()) {
            loaded = queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days");
            assertThat(loaded).isBetween(1L, 5L);
            try (ResultSet rs = st.executeQuery("SELECT outcome, exit_code, days_planned, days_loaded FROM " + schema
                    + ".runs ORDER BY started_at DESC LIMIT 1")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("interrupted");
                assertThat(rs.getInt(2)).isEqualTo(exitCode);
                assertThat(rs.getInt(3)).isEqualTo(6);
                assertThat(rs.getLong(4)).isEqualTo(loaded);
            }
            assertThat(queryLong(c, "SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema
                    + "' AND tablename LIKE 'token_transfers_load%'")).as("no stage table left").isZero();
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".token_transfers"))
                    .as("only whole days").isEqualTo(loaded * 150_000);
        }
        String line = run.err.stream().filter(l -> l.startsWith("crypto-pipeline: interrupted")).findFirst()
                .orElseThrow();
        assertThat(line).contains(loaded + " of 6 days loaded");
        // and running it again finishes the rest
        ChildRun again = ChildRun.start(args(schema, "backfill", "--start-date", FIRST.toString(), "--end-date",
                LAST.toString()));
        assertThat(again.waitFor(120)).as(again.all()).isZero();
        assertThat(again.out).anyMatch(l -> l.contains("loaded " + (6 - loaded) + " day"));
        ChildRun status = ChildRun.start("status", "--jdbc-url", TestPostgres.jdbcUrl(), "--pg-schema", schema,
                "--data-dir", dir.toString());
        assertThat(status.waitFor(60)).isZero();
        assertThat(status.out).anyMatch(l -> l.startsWith("Last run: backfill ok"));
    }

    private static long pidOf(ChildRun run) {
        // With the perl prefix, perl exec'd java: the pid is java's either way.
        return run.process.pid();
    }

    @Test
    void sigterm_stops_a_backfill_within_seconds_recorded_as_interrupted_exit_143() throws Exception {
        stopsCleanly("TERM", 143);
    }

    @Test
    void sigint_stops_a_backfill_within_seconds_recorded_as_interrupted_exit_130() throws Exception {
        stopsCleanly("INT", 130);
    }

    @Test
    void sighup_when_its_terminal_closes_stops_a_backfill_recorded_as_interrupted_exit_129() throws Exception {
        stopsCleanly("HUP", 129);
    }

    @Test
    void sigterm_stops_a_verify_with_exit_143_recorded_as_interrupted() throws Exception {
        // given: six loaded days, whose fingerprints a verify computes one after the other
        String schema = TestPostgres.newSchema("signalv");
        ChildRun load = ChildRun.start(args(schema, "backfill", "--start-date", FIRST.toString(), "--end-date",
                LAST.toString()));
        assertThat(load.waitFor(120)).as(load.all()).isZero();
        List<String> verify = new ArrayList<>(Arrays.asList(args(schema, "verify")));
        verify.removeAll(List.of("--jobs", "2"));
        ChildRun run = ChildRun.start(verify.toArray(String[]::new));
        long deadline = System.currentTimeMillis() + 60_000;
        while (run.count("crypto-pipeline verify:") == 0 && run.process.isAlive()
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        Thread.sleep(700); // into the fingerprints of 900,000 rows, which take seconds
        assertThat(run.process.isAlive()).as(run.all()).isTrue();
        // when: SIGTERM while it computes (a source notices a thread interrupt, as Ctrl-C's)
        new ProcessBuilder("kill", "-TERM", Long.toString(pidOf(run))).start().waitFor();
        int code = run.waitFor(60);
        // then: the signal's own code, on the exit and in the runs ledger
        assertThat(code).as(run.all()).isEqualTo(143);
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT command, outcome, exit_code FROM " + schema
                     + ".runs ORDER BY started_at DESC LIMIT 1")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("verify");
            assertThat(rs.getString(2)).isEqualTo("interrupted");
            assertThat(rs.getInt(3)).isEqualTo(143);
        }
    }

    @Test
    void under_nohup_a_sighup_is_ignored_and_the_backfill_finishes() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/nohup")), "nohup is installed");
        String schema = TestPostgres.newSchema("nohup");
        ChildRun run = ChildRun.start(Map.of(), List.of("/usr/bin/nohup"),
                args(schema, "backfill", "--start-date", FIRST.toString(), "--end-date", LAST.toString()));
        // given: the run has loaded its first day
        long deadline = System.currentTimeMillis() + 90_000;
        while (run.count("done (1 of 6)") == 0 && run.process.isAlive() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertThat(run.process.isAlive()).as(run.all()).isTrue();
        // when
        new ProcessBuilder("kill", "-HUP", Long.toString(pidOf(run))).start().waitFor();
        // then
        assertThat(run.waitFor(120)).as(run.all()).isZero();
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days")).isEqualTo(6);
        }
    }
}
