package dev.cryptopipeline.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalLakeTest {
    @TempDir
    Path dir;

    @Test
    void an_object_is_invisible_until_its_writer_closes_and_is_never_rewritten() throws Exception {
        LocalLake lake = new LocalLake(dir);
        OutputStream out = lake.create("t/day=2024-01-01/run=a/part-00000.csv.gz");
        out.write("half".getBytes());
        assertThat(lake.list("t/")).isEmpty();
        out.close();
        assertThat(lake.list("t/")).containsExactly(new Lake.LakeObject("t/day=2024-01-01/run=a/part-00000.csv.gz", 4));
        assertThatThrownBy(() -> lake.create("t/day=2024-01-01/run=a/part-00000.csv.gz").close())
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
                dir.resolve("t/day=2024-01-01/run=a/part-00000.csv.gz")))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("t/day=2024-01-01"))))
                .isEqualTo("rwx------");
    }

    @Test
    void finished_runs_are_listed_oldest_first_and_unfinished_runs_are_ignored() throws Exception {
        LocalLake lake = new LocalLake(dir);
        LocalDate day = LocalDate.of(2024, 1, 1);
        for (String run : new String[] {"20240102T093000Z-aaaa", "20240103T093000Z-bbbb", "20240104T093000Z-cccc"}) {
            try (OutputStream o = lake.create(LakeLayout.runPrefix(day, run) + "part-00000.csv.gz")) {
                o.write(1);
            }
        }
        for (String run : new String[] {"20240102T093000Z-aaaa", "20240103T093000Z-bbbb"}) {
            try (OutputStream o = lake.create(LakeLayout.runPrefix(day, run) + LakeLayout.MANIFEST)) {
                o.write('{');
            }
        }
        assertThat(LakeLayout.finishedRuns(lake, day)).containsExactly("20240102T093000Z-aaaa",
                "20240103T093000Z-bbbb");
    }

    @Test
    void a_key_cannot_escape_the_lake() {
        LocalLake lake = new LocalLake(dir.resolve("lake"));
        assertThatThrownBy(() -> lake.create("../outside")).isInstanceOf(IllegalArgumentException.class);
    }
}
