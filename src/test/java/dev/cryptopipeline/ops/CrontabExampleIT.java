package dev.cryptopipeline.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cryptopipeline.ChildRun;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * crontab.example's line, run as cron runs it: its command part (after the five time fields, {@code \%} read as
 * {@code %}) given to {@code /bin/sh -c} with cron's bare environment, against an install in a temp directory (the
 * line's /opt/crypto-pipeline and /var/lib/crypto-pipeline replaced by temp paths).
 */
class CrontabExampleIT {
    private static final LocalDate YESTERDAY = LocalDate.now(ZoneOffset.UTC).minusDays(1);

    @TempDir
    Path dir;

    @AfterEach
    void removeLinkToTheJar() throws IOException {
        Files.deleteIfExists(dir.resolve("opt/crypto-pipeline/target/crypto-pipeline.jar"));
    }

    /** The command cron hands to the shell. */
    static String cronCommand() throws IOException {
        List<String> entries = Files.readAllLines(Path.of("crontab.example")).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        assertThat(entries).as("one crontab entry").hasSize(1);
        String command = entries.get(0).trim().split("\\s+", 6)[5];
        assertThat(command.replace("\\%", "")).as("an unescaped % would end cron's command").doesNotContain("%");
        return command.replace("\\%", "%");
    }

    /** Runs {@code command} as cron would: {@code env -i HOME=… PATH=/usr/bin:/bin /bin/sh -c command}. */
    private int cron(String command, Path home) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/env", "-i", "HOME=" + home, "PATH=/usr/bin:/bin", "SHELL=/bin/sh",
                "LOGNAME=" + System.getProperty("user.name"), "/bin/sh", "-c", command)
                .redirectErrorStream(true).redirectOutput(dir.resolve("cron-mail").toFile()).start();
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("the cron command ends").isTrue();
        return p.exitValue();
    }

    @Test
    void the_line_goes_on_only_in_the_quarter_hour_from_09_30_utc() throws Exception {
        // given: the guard of the line, with the time date -u would print put in its place
        String command = cronCommand();
        String guard = command.substring(0, command.lastIndexOf("] && ") + 1);
        assertThat(guard).contains("$(date -u +%H%M)");
        for (String time : List.of("0000", "0915", "0929", "0930", "0944", "0945", "2359")) {
            // when
            int code = cron(guard.replace("$(date -u +%H%M)", time), dir);
            // then
            assertThat(code).as("at " + time + " UTC").isEqualTo(time.compareTo("0930") >= 0
                    && time.compareTo("0945") < 0 ? 0 : 1);
        }
    }

    @Test
    void its_command_runs_daily_with_the_saved_configuration_and_logs_to_the_data_directory() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/java")), "cron's PATH (/usr/bin:/bin) has no java here");
        // given: an install (the wrapper and the built jar) and a data directory set up with a saved configuration
        Path install = dir.resolve("opt/crypto-pipeline");
        Files.createDirectories(install.resolve("bin"));
        Files.createDirectories(install.resolve("target"));
        Files.copy(Path.of("bin/crypto-pipeline"), install.resolve("bin/crypto-pipeline"));
        Files.createSymbolicLink(install.resolve("target/crypto-pipeline.jar"), ChildRun.JAR.toAbsolutePath());
        Path data = dir.resolve("var/lib/crypto-pipeline");
        Path home = dir.resolve("home");
        Files.createDirectories(home);
        ChildRun setup = ChildRun.start("setup", "--chain", "--source", "synthetic", "--rows-per-day", "300",
                "--data-dir", data.toString(), "--start-date", YESTERDAY.minusDays(2).toString(), "--end-date",
                YESTERDAY.minusDays(1).toString());
        assertThat(setup.waitFor(120)).as(setup.all()).isZero();
        Path config = data.resolve("crypto-pipeline.properties");
        if (!Files.exists(config)) { // until setup saves its configuration itself
            Files.writeString(config, "source=synthetic\nrows-per-day=300\ndata-dir=" + data + "\n");
        }
        String command = cronCommand();
        String run = command.substring(command.lastIndexOf("] && ") + 5)
                .replace("/opt/crypto-pipeline", install.toString())
                .replace("/var/lib/crypto-pipeline", data.toString());
        assertThat(run).startsWith("CRYPTO_PIPELINE_NO_BUILD=1 " + install + "/bin/crypto-pipeline daily --config "
                + config + " >> " + data.resolve("daily.log") + " 2>&1");

        // when: cron runs it, then again the next day (nothing left to do)
        int first = cron(run, home);
        int second = cron(run, home);

        // then
        String log = Files.readString(data.resolve("daily.log"), StandardCharsets.UTF_8);
        assertThat(first).as(log).isZero();
        assertThat(second).as(log).isZero();
        assertThat(log).contains("daily: loaded 1 day (300 rows) " + YESTERDAY, "nothing to do")
                .doesNotContain("\u001b", "Exception", "building");
        assertThat(Files.readString(dir.resolve("cron-mail"))).as("cron mails nothing").isEmpty();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwx------");
    }
}
