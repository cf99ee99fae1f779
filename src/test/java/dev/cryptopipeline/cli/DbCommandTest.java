package dev.cryptopipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.CliRun;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code db}'s refusals, which come before any server is touched. */
class DbCommandTest {
    @TempDir
    Path dir;

    @Test
    void a_negative_duration_is_one_line_and_exit_2() {
        // when
        CliRun run = CliRun.run("db", "--seconds", "-5", "--data-dir", dir.toString());
        // then
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).isEqualTo("crypto-pipeline: --seconds must be 0 or more (got -5); leave it out to run"
                + " until Ctrl-C\n");
        assertThat(run.out()).isEmpty();
        assertThat(dir).isEmptyDirectory();
    }

    @Test
    void a_data_directory_without_a_database_is_refused_and_nothing_is_created() {
        // given
        Path dataDir = dir.resolve("typo");
        // when
        CliRun run = CliRun.run("db", "--data-dir", dataDir.toString());
        // then
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("crypto-pipeline: No crypto-pipeline database in " + dataDir + ": check"
                + " --data-dir, or run 'crypto-pipeline setup' first\n");
        assertThat(dataDir).doesNotExist();
    }
}
