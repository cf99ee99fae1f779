package dev.cryptopipeline.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.CliRun;
import dev.cryptopipeline.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Databases not encoded UTF8. A SQL_ASCII one is what Debian's packaged cluster gets when it is created without a
 * locale (a bare container): it stores the bytes as they come, and loads and verifies as UTF8 does. One whose
 * encoding cannot hold every token name is refused before anything is written.
 */
class DatabaseEncodingIT {
    private static final String DAY = LocalDate.now(ZoneOffset.UTC).minusDays(3).toString();

    @TempDir
    Path dataDir;

    private static String database(String encoding) throws Exception {
        String name = "enc_" + encoding.toLowerCase(java.util.Locale.ROOT) + "_" + System.nanoTime();
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name + " ENCODING '" + encoding + "' LC_COLLATE 'C' LC_CTYPE 'C'"
                    + " TEMPLATE template0");
        }
        return TestPostgres.jdbcUrl().replace("/postgres?", "/" + name + "?");
    }

    @Test
    void a_sql_ascii_database_loads_and_verifies_non_ascii_names_as_utf8_does() throws Exception {
        // given: a SQL_ASCII database; the synthetic names hold letters of other scripts
        String url = database("SQL_ASCII");
        // when
        CliRun load = CliRun.run("backfill", "--source", "synthetic", "--rows-per-day", "2000", "--start-date", DAY,
                "--end-date", DAY, "--jdbc-url", url, "--data-dir", dataDir.toString());
        CliRun verify = CliRun.run("verify", "--source", "synthetic", "--rows-per-day", "2000", "--jdbc-url", url,
                "--data-dir", dataDir.toString());
        // then
        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(verify.exitCode()).as(verify.toString()).isZero();
        assertThat(verify.out()).contains("verify: the day matches the source");
    }

    @Test
    void a_database_that_cannot_hold_every_name_is_refused_before_anything_is_written() throws Exception {
        // given
        String url = database("LATIN1");
        // when
        CliRun load = CliRun.run("backfill", "--source", "synthetic", "--rows-per-day", "2000", "--start-date", DAY,
                "--end-date", DAY, "--jdbc-url", url, "--data-dir", dataDir.toString(), "--pg-schema", "latin");
        // then
        assertThat(load.exitCode()).as(load.toString()).isEqualTo(1);
        assertThat(load.err().strip().lines()).hasSize(1);
        assertThat(load.err()).contains("is encoded LATIN1, which cannot hold every token name")
                .contains("ENCODING 'UTF8'");
        try (Connection c = java.sql.DriverManager.getConnection(url)) {
            assertThat(TestPostgres.schemaExists(c, "latin")).isFalse();
        }
    }
}
