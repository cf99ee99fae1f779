package dev.cryptopipeline.crash;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.ChildRun;
import dev.cryptopipeline.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How far a run is: on a terminal a live progress line (days of the total, rows/s, time left) instead of the log;
 * without one, one log line per day with rows, bytes, milliseconds and the run id. Loading starts with the first day.
 */
class ProgressIT {
    private static final LocalDate LAST = LocalDate.now(ZoneOffset.UTC).minusDays(1);
    private static final LocalDate FIRST = LAST.minusDays(3);

    @TempDir
    Path dir;

    private List<String> args(String schema) {
        return List.of("backfill", "--source", "synthetic", "--rows-per-day", "50000", "--jdbc-url",
                TestPostgres.jdbcUrl(), "--pg-schema", schema, "--data-dir", dir.toString(), "--start-date",
                FIRST.toString(), "--end-date", LAST.toString());
    }

    @Test
    void without_a_terminal_each_day_is_one_log_line_with_its_figures_and_the_run_id() throws Exception {
        ChildRun run = ChildRun.start(args(TestPostgres.newSchema("progress_log")).toArray(String[]::new));
        assertThat(run.waitFor(120)).as(run.all()).isZero();
        List<String> days = run.err.stream().filter(l -> l.contains(" done (")).toList();
        assertThat(days).hasSize(4);
        assertThat(days).allMatch(l -> l.matches(".* INFO StagePipeline - Day \\d{4}-\\d\\d-\\d\\d done \\(\\d of 4\\):"
                + " 50000 rows, \\d+ bytes in \\d+ ms \\(new\\); run \\d{8}T\\d{6}Z-[0-9a-f]{4}"));
        // the first day is loaded before the last one is exported
        int firstLoaded = indexOf(run.err, "done (1 of 4)");
        int lastExported = indexOf(run.err, "Exported 50000 rows for " + LAST);
        assertThat(firstLoaded).isLessThan(lastExported);
        assertThat(run.err).anyMatch(l -> l.contains("export busy") && l.contains("load busy")
                && l.contains("first day loaded after"));
        assertThat(String.join("", run.err)).doesNotContain("\r").doesNotContain("\u001b");
    }

    @Test
    void on_a_terminal_a_live_progress_line_replaces_the_log() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "script gives the run a terminal");
        String java = ProcessHandle.current().info().command().orElse("java");
        StringBuilder command = new StringBuilder(java + " -jar " + ChildRun.JAR.toAbsolutePath());
        for (String a : args(TestPostgres.newSchema("progress_tty"))) {
            command.append(' ').append(a);
        }
        Process p = new ProcessBuilder("/usr/bin/script", "-qfec", command.toString(), "/dev/null")
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("4/4 days loaded").contains("rows/s").contains("ETA").contains("\r\u001b[K")
                .contains("backfill: loaded 4 days (200000 rows)");
        assertThat(out).as("no INFO log on a terminal").doesNotContain(" INFO ");
    }

    private static int indexOf(List<String> lines, String marker) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(marker)) {
                return i;
            }
        }
        throw new AssertionError("no line with " + marker + " in " + lines);
    }
}
