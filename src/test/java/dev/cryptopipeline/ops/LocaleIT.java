package dev.cryptopipeline.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cryptopipeline.ChildRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tool under the locales users' environments bring: a LANG whose locale is not generated on the machine (a shell
 * that forwards its en_US.UTF-8 to a minimal server), and cron's bare environment, where Java's file names are ASCII.
 */
class LocaleIT {
    private static final String DAY = LocalDate.now(ZoneOffset.UTC).minusDays(2).toString();

    @TempDir
    Path dir;

    @Test
    void a_first_run_under_a_locale_not_generated_here_creates_the_embedded_database_with_the_c_locale()
            throws Exception {
        // given: LANG and LC_ALL naming a locale this machine does not have (initdb took its locale from them)
        Map<String, String> env = Map.of("LANG", "xx_XX.UTF-8", "LC_ALL", "xx_XX.UTF-8");
        // when
        ChildRun run = ChildRun.start(env, List.of(), "backfill", "--source", "synthetic", "--start-date", DAY,
                "--end-date", DAY, "--rows-per-day", "500", "--data-dir", dir.toString());
        // then
        assertThat(run.waitFor(180)).as(run.all()).isZero();
        assertThat(Files.readString(dir.resolve("postgres/postgresql.conf")))
                .contains("lc_messages = 'C'").contains("lc_numeric = 'C'");
        ChildRun status = ChildRun.start(env, List.of(), "status", "--json", "--data-dir", dir.toString());
        assertThat(status.waitFor(120)).as(status.all()).isZero();
        assertThat(String.join("\n", status.out)).contains("{\"day\":\"" + DAY + "\",\"rows\":500,");
    }

    @Test
    void a_path_java_cannot_name_in_an_ascii_locale_is_one_line_and_exit_2() throws Exception {
        // given: no locale at all, as under cron, so Java's file names are ASCII
        Map<String, String> env = Map.of("LANG", "", "LC_ALL", "", "LC_CTYPE", "");
        // when
        ChildRun run = ChildRun.start(env, List.of(), "backfill", "--source", "synthetic", "--start-date", DAY,
                "--end-date", DAY, "--data-dir", dir.resolve("données").toString());
        // then
        assertThat(run.waitFor(120)).as(run.all()).isEqualTo(2);
        assertThat(run.err).hasSize(1);
        assertThat(run.err.get(0)).startsWith("crypto-pipeline: cannot use the path ").contains("LC_ALL=C.UTF-8");
        assertThat(dir.resolve("données")).doesNotExist();
    }

    @Test
    void the_launcher_in_cron_s_bare_environment_loads_into_a_data_dir_named_in_utf_8() throws Exception {
        assumeTrue(hasCUtf8(), "this machine has no C.UTF-8 locale");
        // given: the real launcher, as cron runs it: HOME and PATH only
        Path dataDir = dir.resolve("données été");
        String java = Path.of(ProcessHandle.current().info().command().orElseThrow()).toString();
        ProcessBuilder pb = new ProcessBuilder(Path.of("bin/crypto-pipeline").toAbsolutePath().toString(),
                "backfill", "--source", "synthetic", "--start-date", DAY, "--end-date", DAY, "--rows-per-day", "300",
                "--data-dir", dataDir.toString());
        pb.environment().clear();
        pb.environment().putAll(Map.of("HOME", dir.toString(), "PATH", "/usr/bin:/bin",
                "JAVA_HOME", Path.of(java).getParent().getParent().toString(), "CRYPTO_PIPELINE_NO_BUILD", "1",
                "NO_GCE_CHECK", "true"));
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile());
        // when
        Process p = pb.start();
        assertThat(p.waitFor(180, TimeUnit.SECONDS)).isTrue();
        // then
        String log = Files.readString(dir.resolve("log"));
        assertThat(p.exitValue()).as(log).isZero();
        assertThat(log).contains("Loaded 300 rows").contains(" for " + DAY);
        assertThat(dataDir.resolve("postgres")).isDirectory();
    }

    @Test
    void the_cron_line_that_java_jar_prints_for_a_data_dir_named_in_utf_8_runs_under_cron() throws Exception {
        assumeTrue(hasCUtf8(), "this machine has no C.UTF-8 locale");
        // given: setup --chain run with java -jar (no launcher to set the locale) in a data dir named in UTF-8
        Path dataDir = dir.resolve("données");
        ChildRun setup = ChildRun.start(Map.of(), List.of(), "setup", "--chain", "--source", "synthetic",
                "--rows-per-day", "200", "--start-date", DAY, "--end-date", DAY, "--data-dir", dataDir.toString());
        assertThat(setup.waitFor(180)).as(setup.all()).isZero();
        String line = setup.out.get(setup.out.size() - 1);
        assertThat(line).contains(" LC_ALL=C.UTF-8 CRYPTO_PIPELINE_NO_BUILD=1 ");
        // when: cron runs its command with HOME and PATH only
        Process p = new ProcessBuilder("/usr/bin/env", "-i", "HOME=" + dir, "PATH=/usr/bin:/bin", "/bin/sh", "-c",
                line.split(" ", 6)[5].replace("\\%", "%")).redirectErrorStream(true)
                .redirectOutput(dir.resolve("cron-mail").toFile()).start();
        assertThat(p.waitFor(180, TimeUnit.SECONDS)).isTrue();
        // then
        String log = Files.readString(dataDir.resolve("daily.log"));
        assertThat(p.exitValue()).as(log).isZero();
        assertThat(log).contains("daily: loaded").doesNotContain("cannot use the path");
    }

    private static boolean hasCUtf8() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", "locale -a 2>/dev/null | grep -ix 'c\\.utf-\\{0,1\\}8'").start();
        return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    }
}
