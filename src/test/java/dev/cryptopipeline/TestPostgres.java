package dev.cryptopipeline;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real PostgreSQL 15 for the whole test JVM, in a time zone far from UTC (and from the JVM's) so that time zone
 * bugs show. The user {@code postgres} is trusted; the user {@code canary} needs its password, for login tests.
 * Each test takes its own schema.
 */
public final class TestPostgres {
    public static final String CANARY_USER = "canary";
    public static final String CANARY_PASSWORD = "Canary-Secret-7f3a9";
    private static final AtomicInteger SCHEMAS = new AtomicInteger();
    private static EmbeddedPostgres server;

    private TestPostgres() {
    }

    public static synchronized EmbeddedPostgres server() {
        if (server == null) {
            try {
                Path dir = Files.createTempDirectory("crypto-pipeline-test-pg");
                server = EmbeddedPostgres.builder()
                        .setDataDirectory(dir)
                        .setCleanDataDirectory(true)
                        .setServerConfig("timezone", "Pacific/Chatham")
                        .setServerConfig("listen_addresses", "127.0.0.1")
                        .setDataDirectoryCustomizer(d -> writeHba(d.toPath()))
                        .start();
                try (Connection c = superuser(); Statement st = c.createStatement()) {
                    st.execute("CREATE ROLE " + CANARY_USER + " LOGIN SUPERUSER PASSWORD '" + CANARY_PASSWORD + "'");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }
        return server;
    }

    private static void writeHba(Path dataDir) {
        try {
            Files.writeString(dataDir.resolve("pg_hba.conf"), """
                    local all all trust
                    host all postgres 127.0.0.1/32 trust
                    host all postgres ::1/128 trust
                    host all all 127.0.0.1/32 scram-sha-256
                    host all all ::1/128 scram-sha-256
                    """);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The JDBC URL for the trusted superuser, as a user would pass it to --jdbc-url. */
    public static String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + server().getPort() + "/postgres?user=postgres";
    }

    /** The JDBC URL for the password-protected user, without the password. */
    public static String canaryUrl() {
        return "jdbc:postgresql://127.0.0.1:" + server().getPort() + "/postgres?user=" + CANARY_USER;
    }

    public static Connection superuser() throws SQLException {
        return DriverManager.getConnection(jdbcUrl());
    }

    /** A schema name no other test uses. */
    public static String newSchema(String prefix) {
        return prefix + "_" + ProcessHandle.current().pid() + "_" + SCHEMAS.incrementAndGet();
    }

    /** The rows of a day in the target table. */
    public static long count(Connection c, String schema, LocalDate day) throws SQLException {
        return queryLong(c, "SELECT count(*) FROM " + schema + ".token_transfers WHERE block_timestamp >= '"
                + day + " 00:00:00+00' AND block_timestamp < '" + day.plusDays(1) + " 00:00:00+00'");
    }

    /** A checksum of a day's content, independent of row order. */
    public static String checksum(Connection c, String schema, LocalDate day) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT md5(string_agg(t::text, '|' ORDER BY transaction_hash, log_index)) FROM " + schema
                        + ".token_transfers t WHERE block_timestamp >= '" + day + " 00:00:00+00'"
                        + " AND block_timestamp < '" + day.plusDays(1) + " 00:00:00+00'")) {
            rs.next();
            return rs.getString(1);
        }
    }

    public static long queryLong(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public static boolean schemaExists(Connection c, String schema) throws SQLException {
        return queryLong(c, "SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema + "'") > 0;
    }
}
