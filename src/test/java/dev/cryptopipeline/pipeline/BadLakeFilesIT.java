package dev.cryptopipeline.pipeline;

import static dev.cryptopipeline.TestPostgres.checksum;
import static dev.cryptopipeline.TestPostgres.count;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.TestPipelines;
import dev.cryptopipeline.TestPostgres;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LakeLayout;
import dev.cryptopipeline.lake.LocalLake;
import dev.cryptopipeline.lake.Manifest;
import dev.cryptopipeline.lake.TransferColumn;
import dev.cryptopipeline.source.Source;
import dev.cryptopipeline.source.SyntheticSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.UnaryOperator;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Garbage in the lake: each is refused with exit 3 and a message naming the file; the day's old data stays. */
class BadLakeFilesIT {
    private static final LocalDate DAY = LocalDate.of(2024, 1, 1);

    @TempDir
    Path dir;
    String schema;
    String golden;

    @BeforeEach
    void setUp() throws IOException {
        schema = TestPostgres.newSchema("badfiles");
        golden = new String(getClass().getResourceAsStream("/golden/synthetic-2024-01-01-12rows.csv").readAllBytes(),
                StandardCharsets.UTF_8);
    }

    private Pipeline pipeline(Source source) {
        return TestPipelines.synthetic(source, new LocalLake(dir.resolve("lake")), schema, dir, 12);
    }

    /** A source that writes one given file (already compressed or not) and a manifest claiming {@code rows}. */
    private static Source fixed(byte[] file, long rows) {
        return new Source() {
            @Override
            public String name() {
                return "fixed";
            }

            @Override
            public LocalDate lastFinishedDay(Instant now) {
                return LocalDate.ofInstant(now, ZoneOffset.UTC).minusDays(1);
            }

            @Override
            public List<String> plan(List<LocalDate> days, OptionalInt queryLimit) {
                return List.of();
            }

            @Override
            public List<Manifest> export(List<LocalDate> days, String runId, OptionalInt limit, Lake lake) {
                try {
                    String prefix = LakeLayout.runPrefix(DAY, runId);
                    try (OutputStream out = lake.create(prefix + "part-00000.csv.gz")) {
                        out.write(file);
                    }
                    Manifest m = new Manifest(DAY, runId, "fixed", rows, TransferColumn.names(),
                            List.of(new Manifest.DataFile("part-00000.csv.gz", file.length)), List.of(), null,
                            Instant.now());
                    LakeLayout.writeManifest(lake, m);
                    return List.of(m);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }

    private static byte[] gzip(String s) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(s.getBytes(StandardCharsets.UTF_8));
        }
        return bytes.toByteArray();
    }

    /** Loads the day honestly, then through {@code bad}; returns the refusal after checking the old day stayed. */
    private PipelineException refused(byte[] bad, long rows) throws Exception {
        pipeline(new SyntheticSource(12, 100, Clock.systemUTC())).reload(DAY);
        String before;
        try (Connection c = TestPostgres.superuser()) {
            before = checksum(c, schema, DAY);
        }
        Throwable t = catchThrowable(() -> pipeline(fixed(bad, rows)).reload(DAY));
        assertThat(t).isInstanceOf(PipelineException.DataCheck.class);
        assertThat(((PipelineException) t).exitCode().value()).isEqualTo(3);
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, DAY)).isEqualTo(12);
            assertThat(checksum(c, schema, DAY)).isEqualTo(before);
        }
        return (PipelineException) t;
    }

    private String editRow(int row, UnaryOperator<String> edit) {
        // Rows are separated by newlines that are not inside quotes; row 0 has no quoted newline.
        List<String> lines = Arrays.asList(golden.split("\n", -1));
        lines.set(row, edit.apply(lines.get(row)));
        return String.join("\n", lines);
    }

    @Test
    void the_golden_file_itself_loads() throws Exception {
        pipeline(fixed(gzip(golden), 12)).reload(DAY);
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, DAY)).isEqualTo(12);
        }
    }

    @Test
    void values_the_binary_copy_leaves_to_the_server_load_as_the_csv_says() throws Exception {
        pipeline(fixed(gzip(golden), 12)).reload(DAY);
        String honest;
        try (Connection c = TestPostgres.superuser()) {
            honest = checksum(c, schema, DAY);
        }
        // The same instant written with an offset, and a plus sign: the server reads them, the converter does not.
        String other = editRow(0, r -> r.replace("2024-01-01T00:00:00Z", "2024-01-01 01:00:00+01")
                .replaceFirst("(,\\\\x[0-9a-f]{64},\\\\x[0-9a-f]{64},)([0-9]+),", "$1+$2,"));
        assertThat(other).isNotEqualTo(golden).contains("+01,").contains(",+");
        pipeline(fixed(gzip(other), 12)).reload(DAY);
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, DAY)).isEqualTo(12);
            assertThat(checksum(c, schema, DAY)).isEqualTo(honest);
        }
    }

    @Test
    void a_corrupt_gzip_is_refused() throws Exception {
        byte[] garbage = "this is not gzip at all".getBytes(StandardCharsets.UTF_8);
        assertThat(refused(garbage, 12)).hasMessageContaining("part-00000.csv.gz is corrupt or truncated");
    }

    @Test
    void a_truncated_file_is_refused() throws Exception {
        byte[] whole = gzip(golden);
        assertThat(refused(Arrays.copyOf(whole, whole.length / 2), 12))
                .hasMessageContaining("part-00000.csv.gz is corrupt or truncated");
    }

    @Test
    void a_row_with_an_extra_column_is_refused() throws Exception {
        assertThat(refused(gzip(editRow(0, r -> r + ",42")), 12)).hasMessageContaining("was refused")
                .hasMessageContaining("extra data after last expected column");
    }

    @Test
    void a_row_with_a_missing_column_is_refused() throws Exception {
        assertThat(refused(gzip(editRow(0, r -> r.substring(0, r.lastIndexOf(',')))), 12))
                .hasMessageContaining("missing data for column \"total_supply\"");
    }

    @Test
    void a_value_of_79_digits_is_refused() throws Exception {
        String nines = "9".repeat(79);
        assertThat(refused(gzip(editRow(0, r -> r.replace(",1038332942731274991040968,", "," + nines + ","))), 12))
                .hasMessageContaining("numeric field overflow");
    }

    @Test
    void rows_of_another_day_are_refused() throws Exception {
        assertThat(refused(gzip(editRow(0, r -> r.replace("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"))), 12))
                .hasMessageContaining("breaks a constraint").hasMessageContaining("day_bounds");
    }

    @Test
    void a_duplicated_row_is_refused() throws Exception {
        String row0 = golden.split("\n")[0];
        assertThat(refused(gzip(golden + row0 + "\n"), 13)).hasMessageContaining("breaks a constraint")
                .hasMessageContaining("is duplicated").hasMessageContaining("2024-01-01 00:00:00+00");
    }
}
