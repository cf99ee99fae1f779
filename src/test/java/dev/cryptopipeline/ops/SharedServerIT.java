package dev.cryptopipeline.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.ChildRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One embedded PostgreSQL shared by real processes of the jar ({@code db} and runs) on one data directory: whoever
 * ends last stops it, whatever the order, and a user killed with SIGKILL is never counted again.
 */
class SharedServerIT {
    private static final LocalDate LAST = LocalDate.now(ZoneOffset.UTC).minusDays(2);
    private static final LocalDate FIRST = LAST.minusDays(2);

    @TempDir
    Path dir;

    @BeforeEach
    void setUp() throws Exception {
        ChildRun setup = ChildRun.start("setup", "--source", "synthetic", "--data-dir", dir.toString());
        assertThat(setup.waitFor(120)).as(setup.all()).isZero();
    }

    private ChildRun db() throws Exception {
        ChildRun db = ChildRun.start("db", "--data-dir", dir.toString());
        await(() -> db.out.stream().anyMatch(l -> l.startsWith("Running")) || !db.process.isAlive(), db);
        assertThat(db.process.isAlive()).as(db.all()).isTrue();
        return db;
    }

    private ChildRun backfill(int rowsPerDay) throws IOException {
        return ChildRun.start("backfill", "--source", "synthetic", "--rows-per-day", Integer.toString(rowsPerDay),
                "--start-date", FIRST.toString(), "--end-date", LAST.toString(), "--data-dir", dir.toString());
    }

    private static void await(Supplier<Boolean> condition, ChildRun run) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 120_000;
        while (!condition.get()) {
            assertThat(System.currentTimeMillis()).as("waiting on\n" + run.all()).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    /**
     * Sends a signal with kill(1): {@link Process#destroy} would also close our end of the child's output, losing
     * what it logs while it stops.
     */
    private static void signal(ChildRun run, String signal) throws Exception {
        new ProcessBuilder("kill", "-" + signal, Long.toString(run.process.pid())).start().waitFor();
    }

    /** Sends SIGINT, as Ctrl-C does, or SIGTERM where SIGINT is ignored (a child of a non-interactive shell). */
    private static int interrupt(ChildRun run) throws Exception {
        boolean ignored = sigintIgnored(run.process.pid());
        signal(run, ignored ? "TERM" : "INT");
        if (ignored) {
            System.out.println("SharedServerIT: SIGINT is ignored in this environment; sent SIGTERM instead");
        }
        return ignored ? 143 : 130;
    }

    private static boolean sigintIgnored(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseLong(line.substring(7).trim(), 16) & (1L << 1)) != 0;
            }
        }
        return false;
    }

    private long postmaster() throws IOException {
        return Long.parseLong(Files.readAllLines(dir.resolve("postgres/postmaster.pid")).get(0).trim());
    }

    private void assertStopped(long postmaster) {
        ProcessHandle.of(postmaster).ifPresent(p -> p.onExit().orTimeout(60, TimeUnit.SECONDS).join());
        assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive).orElse(false)).as("server stopped")
                .isFalse();
        assertThat(dir.resolve("postgres/postmaster.pid")).doesNotExist();
    }

    private List<String> users() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("postgres.users"))) {
            return files.map(p -> p.getFileName().toString()).toList();
        }
    }

    private void assertLoaded(int rowsPerDay) throws Exception {
        ChildRun status = ChildRun.start("status", "--json", "--data-dir", dir.toString());
        assertThat(status.waitFor(120)).as(status.all()).isZero();
        for (LocalDate d = FIRST; !d.isAfter(LAST); d = d.plusDays(1)) {
            assertThat(status.out.get(0)).contains("{\"day\":\"" + d + "\",\"rows\":" + rowsPerDay + ",");
        }
    }

    /** Waits for a stderr line (the output of an ended process may still be on its way). */
    private static void assertLogged(ChildRun run, String... fragments) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (run.err.stream().noneMatch(l -> Stream.of(fragments).allMatch(l::contains))
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertThat(run.err).as("a line with " + List.of(fragments))
                .anyMatch(l -> Stream.of(fragments).allMatch(l::contains));
    }

    private static void assertCalm(ChildRun run) {
        assertThat(run.err).as("nothing alarming").noneMatch(l -> l.contains(" WARN ") || l.contains(" ERROR ")
                || l.contains("Exception") || l.contains("retry"));
    }

    @Test
    void db_stopped_in_the_middle_of_a_backfill_leaves_it_the_server_and_the_backfill_finishes_and_stops_it()
            throws Exception {
        // given: db serving, and a backfill of several seconds using its server
        ChildRun db = db();
        long server = postmaster();
        ChildRun backfill = backfill(200_000);
        await(() -> backfill.count("Exported") > 0 || !backfill.process.isAlive(), backfill);
        // when: db is stopped (SIGTERM) mid-backfill
        signal(db, "TERM");
        // then: db leaves quietly, the server stays up for the backfill, which finishes without a retry
        assertThat(db.waitFor(60)).as(db.all()).isEqualTo(143);
        assertLogged(db, "Left the embedded PostgreSQL running", "still used by pid " + backfill.process.pid());
        assertCalm(db);
        assertThat(ProcessHandle.of(server).map(ProcessHandle::isAlive)).contains(true);
        assertThat(backfill.process.isAlive()).as("still loading when db left").isTrue();
        assertThat(backfill.waitFor(300)).as(backfill.all()).isZero();
        Thread.sleep(200);
        assertThat(backfill.out).anyMatch(l -> l.contains("loaded 3 days (600000 rows)"));
        assertCalm(backfill);
        // and the backfill, the last user, stopped the server
        assertLogged(backfill, "Stopped the embedded PostgreSQL");
        assertStopped(server);
        assertThat(users()).isEmpty();
        assertLoaded(200_000);
    }

    @Test
    void a_backfill_that_ends_first_leaves_db_serving_and_ctrl_c_on_db_then_stops_the_server() throws Exception {
        // given
        ChildRun db = db();
        long server = postmaster();
        // when: a backfill uses db's server and ends
        ChildRun backfill = backfill(1000);
        assertThat(backfill.waitFor(120)).as(backfill.all()).isZero();
        // then: the server is still up, and serves the loaded rows on db's port with db's password
        assertLogged(backfill, "Left the embedded PostgreSQL running", "still used by pid " + db.process.pid());
        Matcher port = Pattern.compile("psql -h 127.0.0.1 -p (\\d+) ").matcher(db.out.get(0));
        assertThat(port.find()).as(db.out.get(0)).isTrue();
        String pgpass = Files.readString(dir.resolve("postgres.pgpass")).strip();
        Properties login = new Properties();
        login.setProperty("user", "postgres");
        login.setProperty("password", pgpass.substring(pgpass.lastIndexOf(':') + 1));
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port.group(1)
                + "/postgres", login); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM crypto_eth.token_transfers")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(3000);
        }
        // and when: Ctrl-C on db, now the last user
        int expected = interrupt(db);
        // then
        assertThat(db.waitFor(60)).as(db.all()).isEqualTo(expected);
        assertLogged(db, "Stopped the embedded PostgreSQL");
        assertCalm(db);
        assertStopped(server);
        assertThat(users()).isEmpty();
    }

    @Test
    void a_db_killed_with_sigkill_is_not_counted_and_the_next_run_adopts_and_stops_the_server() throws Exception {
        // given: db killed without a chance to leave; its server runs on
        ChildRun db = db();
        long server = postmaster();
        db.kill();
        assertThat(users()).as("its file is left behind").hasSize(1);
        // when
        ChildRun backfill = backfill(1000);
        // then: its lock died with it, so the backfill is the only user, and stops the server at its end
        assertThat(backfill.waitFor(120)).as(backfill.all()).isZero();
        assertLogged(backfill, "Adopting the embedded PostgreSQL (pid " + server);
        assertLogged(backfill, "Stopped the embedded PostgreSQL");
        assertStopped(server);
        assertThat(users()).isEmpty();
    }

    @Test
    void a_backfill_killed_with_sigkill_is_not_counted_and_db_stops_the_server_when_it_ends() throws Exception {
        // given: db serving, and a backfill killed mid-run
        ChildRun db = db();
        long server = postmaster();
        ChildRun backfill = backfill(200_000);
        await(() -> backfill.count("Exported") > 0 || !backfill.process.isAlive(), backfill);
        backfill.kill();
        // when
        signal(db, "TERM");
        // then
        assertThat(db.waitFor(60)).as(db.all()).isEqualTo(143);
        assertLogged(db, "Stopped the embedded PostgreSQL");
        assertStopped(server);
        assertThat(users()).isEmpty();
    }
}
