package dev.cryptopipeline.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.lake.LakeLayout;
import dev.cryptopipeline.lake.LocalLake;
import dev.cryptopipeline.lake.Manifest;
import dev.cryptopipeline.lake.TransferColumn;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.OptionalInt;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticSourceTest {
    private static final LocalDate DAY = LocalDate.of(2024, 1, 1);
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2024-01-02T09:30:00Z"), ZoneOffset.UTC);

    @TempDir
    Path dir;

    private static String read(LocalLake lake, String key) throws IOException {
        try (InputStream in = new GZIPInputStream(lake.open(key))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void the_lake_file_matches_the_golden_file() throws Exception {
        // given
        LocalLake lake = new LocalLake(dir);
        // when
        Manifest m = new SyntheticSource(12, 100, CLOCK).export(List.of(DAY), "r1", OptionalInt.empty(), lake).get(0);
        // then
        String golden = new String(getClass().getResourceAsStream("/golden/synthetic-2024-01-01-12rows.csv")
                .readAllBytes(), StandardCharsets.UTF_8);
        assertThat(read(lake, LakeLayout.runPrefix(DAY, "r1") + "part-00000.csv.gz")).isEqualTo(golden);
        assertThat(m.rows()).isEqualTo(12);
        assertThat(m.columns()).isEqualTo(TransferColumn.names());
        assertThat(new String(lake.open(LakeLayout.runPrefix(DAY, "r1") + LakeLayout.MANIFEST).readAllBytes(),
                StandardCharsets.UTF_8)).contains("\"rows\" : 12", "\"created_at\" : \"2024-01-02T09:30:00Z\"");
    }

    @Test
    void a_run_that_loses_the_race_for_an_export_folder_to_another_run_writes_a_folder_of_its_own() throws Exception {
        // given: another run (a second schema on the same lake) finishes the same first file a moment earlier
        LocalLake shared = new LocalLake(dir);
        byte[] theirs = "their file".getBytes(StandardCharsets.UTF_8);
        java.util.concurrent.atomic.AtomicBoolean raced = new java.util.concurrent.atomic.AtomicBoolean();
        dev.cryptopipeline.lake.Lake racing = new dev.cryptopipeline.lake.ForwardingLake() {
            @Override
            protected dev.cryptopipeline.lake.Lake delegate() {
                return shared;
            }

            @Override
            public java.io.OutputStream create(String key) throws IOException {
                if (key.endsWith("part-00000.csv.gz") && !raced.getAndSet(true)) {
                    try (java.io.OutputStream other = shared.create(key)) {
                        other.write(theirs);
                    }
                }
                return shared.create(key);
            }
        };
        // when
        List<Manifest> exported = new java.util.ArrayList<>();
        new SyntheticSource(12, 100, CLOCK).export(List.of(DAY), new Source.ExportRequest("r1", OptionalInt.empty(),
                false), racing, exported::add);
        Manifest m = exported.get(0);
        // then: this run's export is whole in the next folder, and the other run's file is untouched
        assertThat(m.runId()).endsWith("-2");
        assertThat(m.rows()).isEqualTo(12);
        assertThat(read(shared, LakeLayout.runPrefix(DAY, m.runId()) + "part-00000.csv.gz")).isEqualTo(new String(
                getClass().getResourceAsStream("/golden/synthetic-2024-01-01-12rows.csv").readAllBytes(),
                StandardCharsets.UTF_8));
        String first = m.runId().substring(0, m.runId().length() - 1) + "1";
        try (InputStream in = shared.open(LakeLayout.runPrefix(DAY, first) + "part-00000.csv.gz")) {
            assertThat(in.readAllBytes()).isEqualTo(theirs);
        }
        try (var leftovers = Files.walk(dir)) {
            assertThat(leftovers.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".tmp-"));
        }
    }

    @Test
    void the_same_settings_give_the_same_bytes_and_a_limit_keeps_the_first_rows() throws Exception {
        LocalLake a = new LocalLake(dir.resolve("a"));
        LocalLake b = new LocalLake(dir.resolve("b"));
        new SyntheticSource(1000, 300, CLOCK).export(List.of(DAY), "r", OptionalInt.empty(), a);
        new SyntheticSource(1000, 300, CLOCK).export(List.of(DAY), "r", OptionalInt.empty(), b);
        Manifest limited = new SyntheticSource(1000, 300, CLOCK)
                .export(List.of(DAY), "limited", OptionalInt.of(450), b).get(0);
        String prefix = LakeLayout.runPrefix(DAY, "r");
        for (int i = 0; i < 4; i++) {
            assertThat(Files.readAllBytes(dir.resolve("a").resolve(prefix + LakeLayout.partName(i))))
                    .isEqualTo(Files.readAllBytes(dir.resolve("b").resolve(prefix + LakeLayout.partName(i))));
        }
        assertThat(limited.rows()).isEqualTo(450);
        assertThat(limited.files()).hasSize(2);
        assertThat(limited.queryLimit()).isEqualTo(450);
        String all = read(a, prefix + "part-00000.csv.gz") + read(a, prefix + "part-00001.csv.gz");
        String first = read(b, LakeLayout.runPrefix(DAY, "limited") + "part-00000.csv.gz")
                + read(b, LakeLayout.runPrefix(DAY, "limited") + "part-00001.csv.gz");
        assertThat(all).startsWith(first);
    }

    @Test
    void rows_come_in_block_and_log_index_order_within_the_day() {
        SyntheticSource.Generator gen = new SyntheticSource.Generator(DAY, 5000);
        SyntheticSource.Transfer prev = gen.next();
        int logIndexZero = prev.logIndex() == 0 ? 1 : 0;
        for (int i = 1; i < 5000; i++) {
            SyntheticSource.Transfer t = gen.next();
            assertThat(t.blockNumber() > prev.blockNumber()
                    || t.blockNumber() == prev.blockNumber() && t.logIndex() > prev.logIndex()).isTrue();
            assertThat(LocalDate.ofInstant(t.timestamp(), ZoneOffset.UTC)).isEqualTo(DAY);
            logIndexZero += t.logIndex() == 0 ? 1 : 0;
            prev = t;
        }
        assertThat(logIndexZero).isGreaterThan(100);
    }
}
