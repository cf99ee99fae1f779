package dev.cryptopipeline.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cryptopipeline.PipelineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded server in this JVM: opening without creating anything, and uses counted within one process. */
class EmbeddedDatabaseIT {
    @TempDir
    Path dir;

    private static long selectOne(Database db) throws Exception {
        try (Connection c = db.connect("test"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT 1")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private List<String> tree(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.map(root::relativize).map(Path::toString).sorted().toList();
        }
    }

    @Test
    void opening_without_creating_a_data_directory_that_has_no_database_says_so_and_creates_nothing()
            throws Exception {
        Path missing = dir.resolve("nothing-here");
        Files.createDirectories(dir.resolve("empty"));
        for (Path dataDir : List.of(missing, dir.resolve("empty"))) {
            // given
            Database db = EmbeddedDatabase.lazy(dataDir, false);
            // when / then
            assertThatThrownBy(() -> db.connect("status")).isInstanceOf(PipelineException.Failed.class)
                    .hasMessage("No crypto-pipeline database in " + dataDir + ": check --data-dir, or run"
                            + " 'crypto-pipeline setup' first");
            db.close();
        }
        assertThat(missing).doesNotExist();
        assertThat(dir.resolve("empty")).isEmptyDirectory();
    }

    @Test
    void opening_without_creating_uses_an_existing_database_and_leaves_its_password_alone() throws Exception {
        // given: a database made by a run
        try (EmbeddedDatabase made = EmbeddedDatabase.open(dir)) {
            assertThat(selectOne(made)).isEqualTo(1);
        }
        String password = Files.readString(dir.resolve(EmbeddedDatabase.PGPASS_FILE));
        // when
        Database db = EmbeddedDatabase.lazy(dir, false);
        long one = selectOne(db);
        db.close();
        // then
        assertThat(one).isEqualTo(1);
        assertThat(Files.readString(dir.resolve(EmbeddedDatabase.PGPASS_FILE))).isEqualTo(password);
        assertThat(dir.resolve("postgres/postmaster.pid")).as("stopped by its last user").doesNotExist();
    }

    @Test
    void opening_without_creating_refuses_a_database_whose_password_file_is_gone() throws Exception {
        // given
        EmbeddedDatabase.open(dir).close();
        Files.delete(dir.resolve(EmbeddedDatabase.PGPASS_FILE));
        List<String> before = tree(dir);
        // when / then
        assertThatThrownBy(() -> EmbeddedDatabase.open(dir, false)).isInstanceOf(PipelineException.Failed.class)
                .hasMessageContaining("password file " + dir.resolve(EmbeddedDatabase.PGPASS_FILE) + " is missing");
        assertThat(tree(dir)).isEqualTo(before);
    }

    @Test
    void two_uses_in_one_process_share_the_server_until_the_last_one_ends() throws Exception {
        // given
        EmbeddedDatabase first = EmbeddedDatabase.open(dir);
        EmbeddedDatabase second = EmbeddedDatabase.open(dir);
        assertThat(second.port()).isEqualTo(first.port());
        assertThat(tree(dir.resolve("postgres.users"))).as("one file per process").hasSize(2); // "" and the pid
        // when the first ends, the server serves the second
        first.close();
        assertThat(selectOne(second)).isEqualTo(1);
        // and when the second ends, the server stops
        second.close();
        second.close();
        assertThat(dir.resolve("postgres/postmaster.pid")).doesNotExist();
        assertThat(dir.resolve("postgres.users")).isEmptyDirectory();
    }

    @Test
    void a_postmaster_pid_left_by_a_killed_server_whose_pid_now_names_another_process_does_not_stop_the_start()
            throws Exception {
        // given: the file a server killed with kill -9 leaves, its pid now another live process (the killed
        // postmaster as an unreaped zombie, or a program given the pid since): PostgreSQL alone refuses to start
        String pidFile;
        try (EmbeddedDatabase db = EmbeddedDatabase.open(dir)) {
            pidFile = Files.readString(dir.resolve("postgres/postmaster.pid"));
        }
        Process other = new ProcessBuilder("sleep", "60").start();
        try {
            Files.writeString(dir.resolve("postgres/postmaster.pid"),
                    other.pid() + pidFile.substring(pidFile.indexOf('\n')));
            long t0 = System.nanoTime();
            // when
            try (EmbeddedDatabase db = EmbeddedDatabase.open(dir, false)) {
                // then: started at once, not after the 60 s startup wait
                assertThat(selectOne(db)).isEqualTo(1);
            }
            assertThat((System.nanoTime() - t0) / 1_000_000_000).isLessThan(20);
            assertThat(other.isAlive()).isTrue();
        } finally {
            other.destroy();
        }
    }

    @Test
    void a_server_that_cannot_start_fails_at_once_with_its_own_reason_not_after_the_startup_wait() throws Exception {
        // given: a setting the server refuses (an edit by hand)
        EmbeddedDatabase.open(dir).close();
        Files.writeString(dir.resolve("postgres/postgresql.auto.conf"), "shared_buffers = 'garbage'\n",
                java.nio.file.StandardOpenOption.APPEND);
        long t0 = System.nanoTime();
        // when / then
        assertThatThrownBy(() -> EmbeddedDatabase.open(dir, false)).isInstanceOf(PipelineException.Failed.class)
                .hasMessage("The embedded PostgreSQL in " + dir.resolve("postgres") + " did not start: FATAL:"
                        + " configuration file \"" + dir.resolve("postgres/postgresql.auto.conf") + "\" contains"
                        + " errors (its log: " + dir.resolve("postgres.log") + "); or give --jdbc-url to use a"
                        + " PostgreSQL server");
        assertThat((System.nanoTime() - t0) / 1_000_000_000).isLessThan(20);
        assertThat(Files.readString(dir.resolve("postgres.log"))).contains("invalid value for parameter"
                + " \"shared_buffers\": \"garbage\"");
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    @Test
    void setting_the_password_leaves_it_out_of_the_server_s_log_even_when_every_statement_is_logged()
            throws Exception {
        // given: a new server that logs every statement and every error's statement into its log file
        Path pgDir = dir.resolve("pg");
        Path log = dir.resolve("server.log");
        dev.cryptopipeline.config.Secret password = new dev.cryptopipeline.config.Secret("canary-Zq7-password");
        try (io.zonky.test.db.postgres.embedded.EmbeddedPostgres pg = io.zonky.test.db.postgres.embedded
                .EmbeddedPostgres.builder().setDataDirectory(pgDir).setCleanDataDirectory(false)
                .setLocaleConfig("locale", "C")
                .setServerConfig("log_statement", "all").setServerConfig("log_min_error_statement", "info")
                .setOutputRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .setErrorRedirector(ProcessBuilder.Redirect.appendTo(log.toFile())).start()) {
            // when
            EmbeddedPassword.require(pg, pgDir, password);
        }
        // then: the statements around it are logged, the one that carries the password is not
        assertThat(Files.readString(log)).contains("SET password_encryption").doesNotContain("canary-Zq7-password");
    }

    @Test
    void a_creation_left_unfinished_is_removed_and_the_database_is_made_whole_in_place() throws Exception {
        // given: what a run killed while initdb worked leaves (CrashIT kills real runs there)
        Path leftover = dir.resolve(EmbeddedDatabase.NEW_CLUSTER_PREFIX + "0123abcd");
        Files.createDirectories(leftover.resolve("base"));
        Files.writeString(leftover.resolve("PG_VERSION"), "15\n");
        Files.writeString(leftover.resolve("postgresql.conf"), "");
        // when
        try (EmbeddedDatabase db = EmbeddedDatabase.open(dir)) {
            // then
            assertThat(selectOne(db)).isEqualTo(1);
        }
        assertThat(leftover).doesNotExist();
        assertThat(dir.resolve("postgres/global/pg_control")).exists();
        assertThat(tree(dir)).noneMatch(p -> p.startsWith(EmbeddedDatabase.NEW_CLUSTER_PREFIX));
    }

    @Test
    void a_database_that_was_never_finished_is_refused_at_once_with_the_way_out() throws Exception {
        // given: a half-made database, as earlier versions left when killed while initdb worked
        Files.createDirectories(dir.resolve("postgres"));
        Files.writeString(dir.resolve("postgres/PG_VERSION"), "15\n");
        Files.writeString(dir.resolve("postgres/postgresql.conf"), "");
        // when / then: refused before any start, instead of a 60 s wait for a server that cannot start
        assertThatThrownBy(() -> EmbeddedDatabase.open(dir)).isInstanceOf(PipelineException.Failed.class)
                .hasMessageContaining("database in " + dir.resolve("postgres") + " is incomplete")
                .hasMessageContaining("mv " + dir.resolve("postgres") + " " + dir.resolve("postgres") + ".broken");
        assertThat(dir.resolve("postgres/postgresql.conf")).as("nothing of it removed").exists();
    }

    @Test
    void a_postgres_folder_of_other_files_is_refused_and_kept() throws Exception {
        // given: no database, but files of someone's in the way (initdb's first folders, or anything else)
        Files.createDirectories(dir.resolve("postgres/base"));
        // when / then
        assertThatThrownBy(() -> EmbeddedDatabase.open(dir)).isInstanceOf(PipelineException.Failed.class)
                .hasMessageContaining(dir.resolve("postgres") + " holds files but no PostgreSQL database")
                .hasMessageContaining("mv " + dir.resolve("postgres") + " " + dir.resolve("postgres") + ".old");
        assertThat(dir.resolve("postgres/base")).exists();
        assertThat(tree(dir)).noneMatch(p -> p.startsWith(EmbeddedDatabase.NEW_CLUSTER_PREFIX));
    }

    @Test
    void a_data_directory_that_pg_ctl_cannot_pass_to_its_shell_is_refused_before_anything_is_made() {
        for (String name : List.of("cost$HOME", "a`b", "say\"hi\"", "back\\slash")) {
            Path dataDir = dir.resolve(name);
            assertThatThrownBy(() -> EmbeddedDatabase.open(dataDir)).as(name)
                    .isInstanceOf(PipelineException.BadInput.class)
                    .hasMessageContaining("cannot live in " + dataDir.resolve("postgres"))
                    .hasMessageContaining("choose another --data-dir");
            assertThat(dataDir).doesNotExist();
        }
    }

    @Test
    void a_tmp_mounted_noexec_makes_the_server_run_from_the_data_directory() throws Exception {
        // given: a file system that runs no programs (as hardened hosts mount /tmp), as the JVM's java.io.tmpdir
        Path noexec = dir.resolve("noexec");
        Files.createDirectories(noexec);
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "noexec,size=64m", "tmpfs",
                noexec.toString()).redirectErrorStream(true).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(mount.waitFor() == 0, "this machine lets the test mount a tmpfs");
        try {
            String day = java.time.LocalDate.now(java.time.ZoneOffset.UTC).minusDays(2).toString();
            List<String> jvm = List.of("-Djava.io.tmpdir=" + noexec);
            // when
            dev.cryptopipeline.ChildRun run = dev.cryptopipeline.ChildRun.start(java.util.Map.of(), List.of(), jvm,
                    "backfill", "--source", "synthetic", "--rows-per-day", "100", "--start-date", day, "--end-date",
                    day, "--data-dir", dir.resolve("data").toString());
            // then
            assertThat(run.waitFor(180)).as(run.all()).isZero();
            assertThat(dir.resolve("data").resolve(EmbeddedDatabase.BINARIES)).isDirectory();
            // and with the data directory there too: one line naming both, and the fix
            dev.cryptopipeline.ChildRun both = dev.cryptopipeline.ChildRun.start(java.util.Map.of(), List.of(), jvm,
                    "backfill", "--source", "synthetic", "--start-date", day, "--end-date", day, "--data-dir",
                    noexec.resolve("data").toString());
            assertThat(both.waitFor(120)).as(both.all()).isEqualTo(1);
            assertThat(both.err).contains("crypto-pipeline: Cannot run the embedded PostgreSQL: neither " + noexec
                    + " nor " + noexec.resolve("data") + " lets programs run (mounted noexec?): choose a --data-dir"
                    + " on a file system that does, or give --jdbc-url to use a PostgreSQL server");
        } finally {
            new ProcessBuilder("umount", noexec.toString()).start().waitFor();
        }
    }
}
