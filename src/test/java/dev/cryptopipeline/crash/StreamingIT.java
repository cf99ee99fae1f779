package dev.cryptopipeline.crash;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.ChildRun;
import dev.cryptopipeline.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory does not grow with a day's volume (ARCHITECTURE §6.6): a day several times larger than the heap is
 * generated, written to the lake and loaded by a JVM limited to 64 MiB. Buffering the day anywhere would fail.
 */
class StreamingIT {
    @TempDir
    Path dir;

    @Test
    void a_day_much_larger_than_the_heap_streams_through() throws Exception {
        String schema = TestPostgres.newSchema("streaming");
        String day = LocalDate.now(ZoneOffset.UTC).minusDays(1).toString();
        ChildRun run = ChildRun.start(Map.of(), List.of(), List.of("-Xmx64m"), "daily", "--date", day, "--source",
                "synthetic", "--jdbc-url", TestPostgres.jdbcUrl(), "--pg-schema", schema, "--data-dir",
                dir.toString(), "--rows-per-day", "1000000");
        assertThat(run.waitFor(300)).as(run.all()).isZero();
        long lakeBytes;
        try (Stream<Path> files = Files.walk(dir.resolve("lake"))) {
            lakeBytes = files.filter(p -> p.toString().endsWith(".csv.gz")).mapToLong(p -> p.toFile().length()).sum();
        }
        try (Connection c = TestPostgres.superuser()) {
            assertThat(TestPostgres.count(c, schema, LocalDate.parse(day))).isEqualTo(1_000_000);
            long tableBytes = TestPostgres.queryLong(c, "SELECT pg_total_relation_size('" + schema
                    + ".token_transfers_p" + day.replace("-", "") + "')");
            System.out.printf("StreamingIT: 1000000 rows, %d MB gzip in the lake, %d MB in PostgreSQL, heap 64 MB%n",
                    lakeBytes >> 20, tableBytes >> 20);
            assertThat(lakeBytes).as("the day's compressed files alone outweigh the heap").isGreaterThan(64L << 20);
        }
    }
}
