package dev.cryptopipeline.crash;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.ChildRun;
import dev.cryptopipeline.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No secret anywhere the tool writes: runs with a canary password, then greps every log line, every output, the
 * ledger, the lake and the process's arguments for it.
 */
class SecretsIT {
    private static final String DAY = LocalDate.now(ZoneOffset.UTC).minusDays(2).toString();

    @TempDir
    Path dir;

    @Test
    void the_canary_password_appears_nowhere() throws Exception {
        String canary = TestPostgres.CANARY_PASSWORD;
        String schema = TestPostgres.newSchema("canary");
        Map<String, String> env = Map.of("PGPASSWORD", canary);
        String[] common = {"--source", "synthetic", "--jdbc-url", TestPostgres.canaryUrl(), "--pg-schema", schema,
                "--data-dir", dir.toString(), "--rows-per-day", "500"};
        List<ChildRun> runs = new ArrayList<>();
        List<String> cmdlines = new ArrayList<>();

        // setup --chain (logs, cron line), status, status --json, a failing verbose run (stack trace), a run with
        // the password in the URL (only the process's own arguments may show it: that is the caller's choice)
        ChildRun chain = ChildRun.start(env, List.of(), concat(new String[] {"setup", "--chain", "--start-date", DAY,
                "-v"}, common));
        cmdlines.add(cmdline(chain));
        runs.add(chain);
        chain.waitFor(120);
        for (String[] command : List.of(new String[] {"status"}, new String[] {"status", "--json"})) {
            ChildRun r = ChildRun.start(env, List.of(), concat(command, common));
            cmdlines.add(cmdline(r));
            r.waitFor(120);
            runs.add(r);
        }
        ChildRun wrong = ChildRun.start(Map.of("PGPASSWORD", canary + "-wrong"), List.of(),
                concat(new String[] {"daily", "-v"}, common));
        wrong.waitFor(120);
        runs.add(wrong);
        ChildRun inUrl = ChildRun.start(Map.of(), List.of(), "daily", "--date", DAY, "-v", "--source", "synthetic",
                "--jdbc-url", TestPostgres.canaryUrl() + "&password=" + canary, "--pg-schema", schema,
                "--data-dir", dir.toString());
        inUrl.waitFor(120);
        assertThat(chain.process.exitValue()).as(chain.all()).isZero();
        assertThat(runs.get(3).process.exitValue()).isEqualTo(1);
        assertThat(runs.get(3).all()).contains("refused the login").contains("\tat ");
        assertThat(inUrl.process.exitValue()).as(inUrl.all()).isZero();

        // then: not in any output or log
        for (ChildRun r : runs) {
            assertThat(r.all()).doesNotContain(canary);
        }
        assertThat(inUrl.all()).doesNotContain(canary);
        assertThat(cmdlines).noneMatch(c -> c.contains(canary));
        assertThat(chain.out.get(chain.out.size() - 1)).as("the cron line").contains(" daily ")
                .doesNotContain(canary).doesNotContain("password");
        // not in the ledger
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT (SELECT string_agg(r::text, '|') FROM " + schema + ".runs r)"
                     + " || (SELECT string_agg(d::text, '|') FROM " + schema + ".loaded_days d)")) {
            rs.next();
            assertThat(rs.getString(1)).contains("password=****").doesNotContain(canary);
        }
        // not in the lake or the data dir
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertThat(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).as(f.toString())
                        .doesNotContain(canary);
            }
        }
    }

    /** The process's arguments as others on the machine see them. */
    private static String cmdline(ChildRun run) throws Exception {
        Path proc = Path.of("/proc", Long.toString(run.process.pid()), "cmdline");
        return Files.exists(proc) ? new String(Files.readAllBytes(proc), StandardCharsets.UTF_8) : "";
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
