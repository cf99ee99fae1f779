package dev.cryptopipeline.crash;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.ChildRun;
import dev.cryptopipeline.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A lake that runs out of space: exit 1, a clear message, nothing loaded. */
class DiskFullIT {
    @TempDir
    Path dir;

    @Test
    void a_full_lake_is_exit_1_with_a_clear_message_and_nothing_loaded() throws Exception {
        // given: files may not grow past 200 KiB (a day's file is about 1.4 MB)
        String schema = TestPostgres.newSchema("diskfull");
        String day = LocalDate.now(ZoneOffset.UTC).minusDays(1).toString();
        // when
        ChildRun run = ChildRun.start(Map.of(), List.of("bash", "-c", "ulimit -f 200; exec \"$0\" \"$@\""),
                "daily", "--date", day, "--source", "synthetic", "--jdbc-url", TestPostgres.jdbcUrl(),
                "--pg-schema", schema, "--data-dir", dir.toString());
        int code = run.waitFor(120);
        // then
        assertThat(code).as(run.all()).isEqualTo(1);
        assertThat(run.err).anyMatch(l -> l.startsWith("crypto-pipeline: Cannot write day " + day + " to the lake")
                && l.contains("File too large") && l.contains("free space"));
        try (Connection c = TestPostgres.superuser()) {
            assertThat(TestPostgres.queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days")).isZero();
            assertThat(TestPostgres.queryLong(c, "SELECT count(*) FROM " + schema + ".runs WHERE outcome = 'failed'"))
                    .isEqualTo(1);
        }
    }
}
