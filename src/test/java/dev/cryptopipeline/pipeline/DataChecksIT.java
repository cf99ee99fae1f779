package dev.cryptopipeline.pipeline;

import static dev.cryptopipeline.TestPostgres.checksum;
import static dev.cryptopipeline.TestPostgres.count;
import static dev.cryptopipeline.TestPostgres.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.TestPipelines;
import dev.cryptopipeline.TestPostgres;
import dev.cryptopipeline.lake.ForwardingLake;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LocalLake;
import dev.cryptopipeline.source.SyntheticSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A lake whose manifest or files disagree is refused with exit 3, and the day's old data stays. */
class DataChecksIT {
    private static final LocalDate DAY = LocalDate.now(ZoneOffset.UTC).minusDays(2);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    String schema;

    @BeforeEach
    void newSchema() {
        schema = TestPostgres.newSchema("checks");
    }

    private Pipeline pipeline(Lake lake, int rowsPerDay) {
        return TestPipelines.synthetic(new SyntheticSource(rowsPerDay, 400, Clock.systemUTC()), lake, schema, dir,
                rowsPerDay);
    }

    /** Loads the day honestly, then again through a lake that tampers with the new export. */
    private PipelineException reloadThrough(BiConsumer<ObjectNode, Path> tamper) throws Exception {
        Path lakeDir = dir.resolve("lake");
        pipeline(new LocalLake(lakeDir), 1000).reload(DAY);
        String before;
        try (Connection c = TestPostgres.superuser()) {
            before = checksum(c, schema, DAY);
        }
        Lake tampering = new ManifestTamperingLake(new LocalLake(lakeDir), lakeDir, tamper);
        PipelineException e = (PipelineException) org.assertj.core.api.Assertions.catchThrowable(
                () -> pipeline(tampering, 1200).reload(DAY));
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, DAY)).as("old day kept").isEqualTo(1000);
            assertThat(checksum(c, schema, DAY)).isEqualTo(before);
            assertThat(queryLong(c, "SELECT rows FROM " + schema + ".loaded_days")).isEqualTo(1000);
            assertThat(queryLong(c, "SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema
                    + "' AND tablename LIKE 'token_transfers_load%'")).as("no stage table left").isZero();
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".runs WHERE outcome = 'data-check'"))
                    .isEqualTo(1);
        }
        return e;
    }

    @Test
    void a_manifest_that_overstates_the_rows_is_refused_and_the_old_day_stays() throws Exception {
        PipelineException e = reloadThrough((m, folder) -> m.put("rows", m.get("rows").asLong() + 1));
        assertThat(e).isInstanceOf(PipelineException.DataCheck.class);
        assertThat(e.exitCode().value()).isEqualTo(3);
        assertThat(e.getMessage()).contains("loaded 1200 rows").contains("manifest says 1201")
                .contains("old data of the day was kept");
    }

    @Test
    void a_manifest_that_omits_a_file_is_refused() throws Exception {
        PipelineException e = reloadThrough((m, folder) -> ((ArrayNode) m.get("files")).remove(0));
        assertThat(e).isInstanceOf(PipelineException.DataCheck.class);
        assertThat(e.getMessage()).contains("part-00000.csv.gz is not listed in the manifest");
    }

    @Test
    void a_manifest_that_lists_a_missing_file_is_refused() throws Exception {
        PipelineException e = reloadThrough((m, folder) -> ((ArrayNode) m.get("files")).addObject()
                .put("name", "part-00099.csv.gz").put("bytes", 10));
        assertThat(e).isInstanceOf(PipelineException.DataCheck.class);
        assertThat(e.getMessage()).contains("part-00099.csv.gz is listed in the manifest but missing");
    }

    @Test
    void a_manifest_with_other_columns_is_refused() throws Exception {
        PipelineException e = reloadThrough((m, folder) -> ((ArrayNode) m.get("columns")).remove(12));
        assertThat(e).isInstanceOf(PipelineException.DataCheck.class);
        assertThat(e.getMessage()).contains("lists columns");
    }

    @Test
    void a_missing_manifest_is_refused() throws Exception {
        Path lakeDir = dir.resolve("lake");
        pipeline(new LocalLake(lakeDir), 1000).reload(DAY);
        Lake noManifest = new ManifestTamperingLake(new LocalLake(lakeDir), lakeDir, null);
        assertThatThrownBy(() -> pipeline(noManifest, 1200).reload(DAY))
                .isInstanceOf(PipelineException.DataCheck.class).hasMessageContaining("has no manifest");
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, DAY)).isEqualTo(1000);
        }
    }

    @Test
    void other_finished_exports_of_the_day_in_the_lake_are_never_mixed_in() throws Exception {
        // given: two finished exports of the day by earlier runs, one of them lying about its rows
        Path lakeDir = dir.resolve("lake");
        LocalLake lake = new LocalLake(lakeDir);
        new SyntheticSource(300, 400, Clock.systemUTC()).export(List.of(DAY), "20000101T000000Z-aaaa",
                OptionalInt.empty(), lake);
        new SyntheticSource(500, 400, Clock.systemUTC()).export(List.of(DAY), "20000101T000000Z-bbbb",
                OptionalInt.empty(), new ManifestTamperingLake(lake, lakeDir, (m, f) -> m.put("rows", 1)));
        assertThat(dev.cryptopipeline.lake.LakeLayout.finishedRuns(lake, DAY)).containsExactly("20000101T000000Z-aaaa",
                "20000101T000000Z-bbbb");
        // when
        pipeline(lake, 1000).reload(DAY);
        // then: the run loaded its own export, whole
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, DAY)).isEqualTo(1000);
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days WHERE lake_run LIKE"
                    + " '%run=2000%'")).isZero();
        }
    }

    /** The lake folder the day was loaded from into {@code schema}. */
    private static Path loadedFrom(Path lakeDir, String schema) throws Exception {
        try (Connection c = TestPostgres.superuser();
             java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT lake_run FROM " + schema + ".loaded_days")) {
            assertThat(rs.next()).isTrue();
            return lakeDir.resolve(rs.getString(1));
        }
    }

    /**
     * Loads the day into the current schema, damages the first file of the export it was loaded from, and moves on to
     * a new schema (which, loading the day the same UTC day, would reuse that export).
     *
     * @return the export's folder
     */
    private Path loadedThenDamaged(Path lakeDir, java.util.function.UnaryOperator<byte[]> damage) throws Exception {
        pipeline(new LocalLake(lakeDir), 1000).backfill(DAY, DAY, false);
        Path folder = loadedFrom(lakeDir, schema);
        Path file = folder.resolve("part-00000.csv.gz");
        java.nio.file.Files.write(file, damage.apply(java.nio.file.Files.readAllBytes(file)));
        schema = TestPostgres.newSchema("checks");
        return folder;
    }

    @Test
    void a_reused_export_cut_short_in_the_lake_is_exported_anew_by_the_same_run() throws Exception {
        // given: the day exported and loaded by one schema, then a file of that export cut short in the lake
        Path lakeDir = dir.resolve("lake");
        int[] size = new int[1];
        Path folder = loadedThenDamaged(lakeDir, whole -> {
            size[0] = whole.length;
            return java.util.Arrays.copyOf(whole, whole.length / 2);
        });
        // when: a second schema on the same lake loads the day the same UTC day, which would reuse that export
        pipeline(new LocalLake(lakeDir), 1000).backfill(DAY, DAY, false);
        // then: the day was exported anew and loaded whole; the damaged folder is marked and never used again
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, DAY)).isEqualTo(1000);
        }
        assertThat(loadedFrom(lakeDir, schema)).isNotEqualTo(folder);
        assertThat(java.nio.file.Files.readString(folder.resolve(dev.cryptopipeline.lake.LakeLayout.DAMAGED)))
                .contains("part-00000.csv.gz has " + size[0] / 2 + " bytes but the manifest says " + size[0]);
    }

    @Test
    void a_reused_export_found_corrupt_while_loading_is_exported_anew_by_the_next_run() throws Exception {
        // given: the day exported and loaded by one schema, then a byte of that export flipped (same size)
        Path lakeDir = dir.resolve("lake");
        Path folder = loadedThenDamaged(lakeDir, bytes -> {
            bytes[bytes.length / 2] ^= 0x55;
            return bytes;
        });
        // when: a second schema loads the day from that export, found corrupt only by the gunzip
        assertThatThrownBy(() -> pipeline(new LocalLake(lakeDir), 1000).backfill(DAY, DAY, false))
                .isInstanceOf(PipelineException.DataCheck.class)
                .hasMessageContaining("part-00000.csv.gz is corrupt or truncated")
                .hasMessageContaining("the export is marked damaged, so the next run exports the day anew");
        // then: the next run, the same UTC day, does as the message says
        pipeline(new LocalLake(lakeDir), 1000).backfill(DAY, DAY, false);
        try (Connection c = TestPostgres.superuser()) {
            assertThat(count(c, schema, DAY)).isEqualTo(1000);
        }
        assertThat(loadedFrom(lakeDir, schema)).isNotEqualTo(folder);
        assertThat(folder.resolve(dev.cryptopipeline.lake.LakeLayout.DAMAGED)).exists();
    }

    /** Rewrites each manifest on its way into the lake (or drops it when {@code tamper} is null). */
    static final class ManifestTamperingLake extends ForwardingLake {
        private final Lake lake;
        private final Path root;
        private final BiConsumer<ObjectNode, Path> tamper;

        ManifestTamperingLake(Lake lake, Path root, BiConsumer<ObjectNode, Path> tamper) {
            this.lake = lake;
            this.root = root;
            this.tamper = tamper;
        }

        @Override
        protected Lake delegate() {
            return lake;
        }

        @Override
        public OutputStream create(String key) throws IOException {
            if (!key.endsWith("_manifest.json")) {
                return lake.create(key);
            }
            return new ByteArrayOutputStream() {
                private boolean closed;

                @Override
                public void close() throws IOException {
                    if (tamper == null || closed) {
                        return;
                    }
                    closed = true;
                    ObjectNode m = (ObjectNode) JSON.readTree(toByteArray());
                    tamper.accept(m, root.resolve(key).getParent());
                    try (OutputStream out = lake.create(key)) {
                        out.write(JSON.writeValueAsBytes(m));
                    }
                }
            };
        }
    }
}
