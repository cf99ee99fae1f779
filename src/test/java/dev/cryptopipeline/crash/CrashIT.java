package dev.cryptopipeline.crash;

import static dev.cryptopipeline.TestPostgres.checksum;
import static dev.cryptopipeline.TestPostgres.count;
import static dev.cryptopipeline.TestPostgres.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.ChildRun;
import dev.cryptopipeline.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash anywhere: the real jar, killed with SIGKILL at random moments (while generating, writing the lake, during
 * COPY, during the swap, between the swap and exit), then run to completion, ends exactly like a clean run. Kills per
 * {@code mvn verify}: {@code -Dcrash.kills} (default 10) for backfills, {@code -Dcrash.reload.kills} (default 5) for
 * reloads of a day. The seed is printed, and {@code -Dcrash.seed} replays a run.
 */
class CrashIT {
    private static final LocalDate LAST = LocalDate.now(ZoneOffset.UTC).minusDays(1);
    private static final LocalDate FIRST = LAST.minusDays(3);
    private static final String ROWS = "15000";

    @TempDir
    Path dir;

    private final long seed = Long.getLong("crash.seed", System.nanoTime());
    private final Random random = new Random(seed);

    private String[] args(String schema, String... command) {
        List<String> a = new ArrayList<>(Arrays.asList(command));
        a.addAll(List.of("--source", "synthetic", "--jdbc-url", TestPostgres.jdbcUrl(), "--pg-schema", schema,
                "--data-dir", dir.toString(), "--rows-per-day", ROWS));
        return a.toArray(String[]::new);
    }

    private List<LocalDate> days() {
        return Stream.iterate(FIRST, d -> !d.isAfter(LAST), d -> d.plusDays(1)).toList();
    }

    private Map<LocalDate, String> checksums(String schema) throws SQLException {
        Map<LocalDate, String> sums = new HashMap<>();
        try (Connection c = TestPostgres.superuser()) {
            for (LocalDate d : days()) {
                long n = count(c, schema, d);
                if (n > 0) {
                    sums.put(d, checksum(c, schema, d) + "/" + n);
                }
            }
        }
        return sums;
    }

    /** Runs to completion, waiting out a lock that a killed run's session may hold for a moment. */
    private ChildRun complete(String schema, String... command) throws Exception {
        for (int attempt = 0; ; attempt++) {
            ChildRun run = ChildRun.start(args(schema, command));
            int code = run.waitFor(120);
            if (code == 0) {
                return run;
            }
            assertThat(code).as("only a lock still held by a dying session may delay it:\n" + run.all())
                    .isEqualTo(75);
            assertThat(attempt).as("the lock of a killed run is released with its session").isLessThan(10);
            Thread.sleep(200);
        }
    }

    /** Kills a run at a random moment: after a random delay, or just after a random step's log line. */
    private String killSomewhere(ChildRun run, long typicalMillis) throws Exception {
        String where;
        switch (random.nextInt(3)) {
            case 0 -> {
                long delay = (long) (random.nextDouble() * typicalMillis * 1.1);
                Thread.sleep(delay);
                where = "after " + delay + " ms";
            }
            case 1 -> {
                int nth = 1 + random.nextInt(days().size());
                where = waitFor(run, "Exported", nth) + " + " + sleepJitter();
            }
            default -> {
                int nth = 1 + random.nextInt(days().size());
                where = waitFor(run, "Loaded", nth) + " + " + sleepJitter();
            }
        }
        run.kill();
        return where;
    }

    private String waitFor(ChildRun run, String marker, int nth) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (run.count(marker) < nth && run.process.isAlive() && System.currentTimeMillis() < deadline) {
            Thread.sleep(1);
        }
        return "the " + nth + ". '" + marker + "'";
    }

    private String sleepJitter() throws InterruptedException {
        long ms = random.nextInt(120);
        Thread.sleep(ms);
        return ms + " ms";
    }

    /** What must hold after any kill: each loaded day whole and equal to a clean load, with its ledger row. */
    private void assertConsistent(String schema, Map<LocalDate, String> clean, String context) throws SQLException {
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement()) {
            if (!TestPostgres.schemaExists(c, schema)
                    || queryLong(c, "SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema
                    + "' AND tablename = 'loaded_days'") == 0) {
                return;
            }
            Map<LocalDate, Long> ledger = new HashMap<>();
            try (ResultSet rs = st.executeQuery("SELECT day, rows FROM " + schema + ".loaded_days")) {
                while (rs.next()) {
                    ledger.put(rs.getObject(1, LocalDate.class), rs.getLong(2));
                }
            }
            Map<LocalDate, String> now = checksums(schema);
            assertThat(now.keySet()).as("data without ledger row or ledger row without data, " + context)
                    .isEqualTo(ledger.keySet());
            // Days commit in plan order, even when several load at once: what is loaded is a prefix of the range.
            assertThat(new java.util.TreeSet<>(ledger.keySet())).as("loaded days are a prefix of the range, " + context)
                    .containsExactlyElementsOf(days().subList(0, ledger.size()));
            for (var e : now.entrySet()) {
                assertThat(e.getValue()).as("day " + e.getKey() + " is one whole clean load, " + context)
                        .isEqualTo(clean.get(e.getKey()));
            }
            assertThat(queryLong(c, "SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema
                    + "' AND tablename LIKE 'token_transfers_load%'")).as("no stage table, " + context).isZero();
        }
    }

    /**
     * The first run on a new data directory creates the embedded PostgreSQL's database (initdb, then a first start).
     * Killed there with all it started, it used to leave a half-made database that every later run waited 60 s for
     * and then failed on (exit 1), until someone removed it by hand.
     */
    @Test
    void a_first_run_killed_with_its_children_while_it_creates_the_embedded_database_does_not_stop_the_next()
            throws Exception {
        int kills = Integer.getInteger("crash.embedded.kills", 4);
        System.out.println("CrashIT seed " + seed + ", " + kills + " kills while creating the embedded database");
        for (int k = 0; k < kills; k++) {
            // given: a first run on a new data directory, killed with its children somewhere in its first 1.8 s
            Path dataDir = dir.resolve("embedded-" + k);
            String[] setup = {"setup", "--source", "synthetic", "--data-dir", dataDir.toString()};
            ChildRun first = ChildRun.start(setup);
            long delay = 300 + random.nextInt(1500);
            Thread.sleep(delay);
            first.killTree();
            // when
            ChildRun next = ChildRun.start(setup);
            int code = next.waitFor(120);
            // then
            String context = "killed after " + delay + " ms, seed " + seed + ":\n" + next.all();
            assertThat(code).as(context).isZero();
            assertThat(dataDir.resolve("postgres/global/pg_control")).as(context).exists();
            try (Stream<Path> entries = Files.list(dataDir)) {
                assertThat(entries.map(p -> p.getFileName().toString()))
                        .as("what the kill left is removed, " + context).noneMatch(n -> n.startsWith("postgres.new-"));
            }
        }
    }

    /**
     * The embedded server killed under a run (the OOM killer, a stray kill -9): it cannot come back while the run
     * waits, so the run says so at once instead of retrying for minutes, and the next run starts it again.
     */
    @Test
    void an_embedded_server_killed_under_a_backfill_ends_it_at_once_and_the_next_run_finishes() throws Exception {
        // given: a backfill on the embedded server, busy after its first day
        Path dataDir = dir.resolve("killed-server");
        String[] backfill = {"backfill", "--source", "synthetic", "--rows-per-day", "100000", "--jobs", "2",
            "--start-date", LAST.minusDays(7).toString(), "--end-date", LAST.toString(), "--data-dir",
            dataDir.toString()};
        ChildRun run = ChildRun.start(backfill);
        long deadline = System.currentTimeMillis() + 90_000;
        while (run.count("done (1 of 8)") == 0 && run.process.isAlive() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertThat(run.process.isAlive()).as(run.all()).isTrue();
        // when: its postmaster is killed
        long postmaster = Long.parseLong(Files.readAllLines(dataDir.resolve("postgres/postmaster.pid")).get(0).trim());
        long killed = System.nanoTime();
        ProcessHandle.of(postmaster).orElseThrow().destroyForcibly();
        int code = run.waitFor(120);
        long millis = (System.nanoTime() - killed) / 1_000_000;
        // then
        assertThat(code).as(run.all()).isEqualTo(75);
        assertThat(millis).as("no retries against a server that cannot come back").isLessThan(20_000);
        assertThat(run.err).anyMatch(l -> l.startsWith("crypto-pipeline: ") && l.contains("stopped during the run"));
        assertThat(run.err).as("no stack trace").noneMatch(l -> l.startsWith("\tat ") || l.contains("retry"));
        // and the next run starts the server again and loads the rest
        ChildRun again = ChildRun.start(backfill);
        assertThat(again.waitFor(180)).as(again.all()).isZero();
        ChildRun status = ChildRun.start("status", "--json", "--data-dir", dataDir.toString());
        assertThat(status.waitFor(60)).as(status.all()).isZero();
        for (LocalDate d = LAST.minusDays(7); !d.isAfter(LAST); d = d.plusDays(1)) {
            assertThat(String.join("\n", status.out)).contains("{\"day\":\"" + d + "\",\"rows\":100000,");
        }
    }

    @Test
    void a_backfill_killed_anywhere_then_rerun_equals_a_clean_run() throws Exception {
        int kills = Integer.getInteger("crash.kills", 10);
        System.out.println("CrashIT seed " + seed + ", " + kills + " kills");
        // given: a clean run's result
        String cleanSchema = TestPostgres.newSchema("crash_clean");
        long t0 = System.currentTimeMillis();
        ChildRun clean = complete(cleanSchema, "backfill", "--start-date", FIRST.toString(), "--end-date",
                LAST.toString());
        long typical = System.currentTimeMillis() - t0;
        assertThat(clean.out).anyMatch(l -> l.contains("loaded 4 days (60000 rows)"));
        Map<LocalDate, String> expected = checksums(cleanSchema);
        assertThat(expected).hasSize(4);

        // when: killed again and again, sometimes resuming, sometimes reloading everything
        String schema = TestPostgres.newSchema("crash");
        List<String> where = new ArrayList<>();
        for (int k = 0; k < kills; k++) {
            // Several days load at once (--jobs 2 or 3) as often as one at a time.
            String jobs = Integer.toString(1 + random.nextInt(3));
            String[] command = k % 3 == 2
                    ? new String[] {"backfill", "--start-date", FIRST.toString(), "--end-date", LAST.toString(),
                        "--reload", "--jobs", jobs}
                    : new String[] {"backfill", "--start-date", FIRST.toString(), "--end-date", LAST.toString(),
                        "--jobs", jobs};
            ChildRun run = ChildRun.start(args(schema, command));
            String at = killSomewhere(run, typical);
            where.add(String.join(" ", command).replace(FIRST + "", "F") + " killed " + at);
            assertConsistent(schema, expected, "after kill " + (k + 1) + " (" + where.get(k) + ", seed " + seed
                    + ")");
        }
        System.out.println("CrashIT kills:\n  " + String.join("\n  ", where));

        // then: a rerun finishes the work, and the result is the clean run's
        ChildRun last = complete(schema, "backfill", "--start-date", FIRST.toString(), "--end-date",
                LAST.toString());
        assertThat(checksums(schema)).isEqualTo(expected);
        assertConsistent(schema, expected, "after the final run");
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".runs WHERE outcome = 'running'")).isZero();
            assertThat(queryLong(c, "SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema
                    + "' AND tablename ~ '^token_transfers_r[0-9]{8}$'"))
                    .as("replaced loads a kill left behind are dropped by the next run").isZero();
        }
        try (Stream<Path> files = Files.walk(dir.resolve("lake"))) {
            assertThat(files.filter(p -> p.getFileName().toString().startsWith(".tmp-")))
                    .as("unfinished lake files are removed by the next run").isEmpty();
        }
        assertThat(last.err).noneMatch(l -> l.contains("Exception"));
    }

    @Test
    void a_reload_of_a_day_killed_anywhere_leaves_it_wholly_old_or_wholly_new() throws Exception {
        int kills = Integer.getInteger("crash.reload.kills", 5);
        String schema = TestPostgres.newSchema("crash_reload");
        LocalDate day = LAST;
        // given: the day loaded with 9000 rows (old), and what a load of 15000 rows (new) looks like
        String[] old = {"daily", "--date", day.toString(), "--source", "synthetic", "--jdbc-url",
                TestPostgres.jdbcUrl(), "--pg-schema", schema, "--data-dir", dir.toString(), "--rows-per-day", "9000"};
        assertThat(ChildRun.start(old).waitFor(120)).isZero();
        String oldSum = checksums(schema).get(day);
        String newSchema = TestPostgres.newSchema("crash_reload_new");
        complete(newSchema, "daily", "--date", day.toString());
        String newSum = checksums(newSchema).get(day);
        assertThat(newSum).isNotEqualTo(oldSum);
        long t0 = System.currentTimeMillis();
        complete(newSchema, "daily", "--date", day.toString());
        long typical = System.currentTimeMillis() - t0;

        for (int k = 0; k < kills; k++) {
            // when: alternately reloading old and new volumes, killed at a random moment
            ChildRun run = ChildRun.start(k % 2 == 0 ? args(schema, "daily", "--date", day.toString()) : old);
            long delay = (long) (random.nextDouble() * typical * 1.1);
            Thread.sleep(delay);
            run.kill();
            // then
            String now = checksums(schema).get(day);
            assertThat(now).as("kill " + (k + 1) + " after " + delay + " ms (seed " + seed + ")")
                    .isIn(oldSum, newSum);
            try (Connection c = TestPostgres.superuser()) {
                assertThat(queryLong(c, "SELECT rows FROM " + schema + ".loaded_days WHERE day = '" + day + "'"))
                        .isEqualTo(count(c, schema, day));
            }
        }
    }
}
