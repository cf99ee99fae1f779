package dev.cryptopipeline.sink;

import static dev.cryptopipeline.TestPostgres.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.CliRun;
import dev.cryptopipeline.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Applied migrations are checked on every start, as Flyway does: a schema made by another build is refused. */
class MigrationsIT {
    private static final LocalDate YESTERDAY = LocalDate.now(ZoneOffset.UTC).minusDays(1);

    @TempDir
    Path dataDir;
    String schema;

    @BeforeEach
    void setUp() {
        schema = TestPostgres.newSchema("migrations");
        assertThat(cli("setup").exitCode()).isZero();
    }

    private CliRun cli(String... command) {
        String[] all = new String[command.length + 8];
        System.arraycopy(command, 0, all, 0, command.length);
        System.arraycopy(new String[] {"--source", "synthetic", "--jdbc-url", TestPostgres.jdbcUrl(), "--pg-schema",
            schema, "--data-dir", dataDir.toString()}, 0, all, command.length, 8);
        return CliRun.run(all);
    }

    private void sql(String statement) throws Exception {
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement()) {
            st.execute(statement.replace("$s", schema));
        }
    }

    @Test
    void a_migration_applied_with_another_checksum_is_refused_before_anything_is_written() throws Exception {
        // given: version 1 was applied by a build whose migration differed
        sql("UPDATE $s.schema_migrations SET checksum = 'deadbeefdeadbeefdeadbeef' WHERE version = 1");
        // when
        CliRun daily = cli("daily", "--date", YESTERDAY.toString());
        // then
        assertThat(daily.exitCode()).as(daily.toString()).isEqualTo(1);
        assertThat(daily.err()).contains("Migration 1 of schema " + schema)
                .contains("was applied with checksum deadbeefdead").contains("nothing was changed");
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days")).isZero();
        }
    }

    @Test
    void a_schema_newer_than_this_build_is_refused() throws Exception {
        sql("INSERT INTO $s.schema_migrations (version, description, checksum) VALUES (99, 'from the future', 'x')");
        CliRun daily = cli("daily", "--date", YESTERDAY.toString());
        assertThat(daily.exitCode()).isEqualTo(1);
        assertThat(daily.err()).contains("is at version 99 but this build of crypto-pipeline knows versions up to "
                + Migrations.latestVersion());
    }

    @Test
    void a_schema_from_a_build_without_checksums_gets_them_recorded() throws Exception {
        // given: what an earlier build left: no checksum column
        sql("ALTER TABLE $s.schema_migrations DROP COLUMN checksum");
        // when
        CliRun daily = cli("daily", "--date", YESTERDAY.toString());
        // then
        assertThat(daily.exitCode()).as(daily.toString()).isZero();
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".schema_migrations WHERE checksum IS NULL"))
                    .isZero();
            for (Migrations.Migration m : Migrations.ALL) {
                assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".schema_migrations WHERE version = "
                        + m.version() + " AND checksum = '" + m.checksum() + "'")).isEqualTo(1);
            }
        }
    }
}
