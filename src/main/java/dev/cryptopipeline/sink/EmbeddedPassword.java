package dev.cryptopipeline.sink;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.Secret;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The embedded server's generated password: kept in {@code <data-dir>/postgres.pgpass} (mode 0600, in
 * {@code ~/.pgpass} format, so psql reads it through {@code PGPASSFILE}) and required by the server on every
 * connection. Called under the embedded server's start/stop lock.
 */
final class EmbeddedPassword {
    /** The pgpass-format file, in the data directory. */
    static final String FILE = "postgres.pgpass";
    private static final String HBA_MARKER = "# crypto-pipeline: passwords required";

    private EmbeddedPassword() {
    }

    /**
     * The generated password of the server under {@code dataDir}, created (owner-readable only) on first use if
     * {@code create}.
     *
     * @throws PipelineException.Failed if the file is missing and {@code create} is false
     */
    static Secret read(Path dataDir, boolean create) throws IOException {
        Path file = dataDir.resolve(FILE);
        if (!Files.exists(file) && !create) {
            throw new PipelineException.Failed("The embedded PostgreSQL's password file " + file + " is missing:"
                    + " restore it from a backup (the server keeps only a hash of the password)");
        }
        if (!Files.exists(file)) {
            byte[] bytes = new byte[24];
            new java.security.SecureRandom().nextBytes(bytes);
            String generated = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            Path temp = dataDir.resolve(FILE + ".tmp");
            Files.deleteIfExists(temp);
            Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(temp, "127.0.0.1:*:*:postgres:" + generated + "\n");
            Files.move(temp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        String line = Files.readString(file).strip();
        return new Secret(line.substring(line.lastIndexOf(':') + 1));
    }

    /**
     * Makes the server require the password on every connection: sets it, and replaces initdb's trust rules. Done
     * once per data directory (a marker in pg_hba.conf says so); a fresh directory is trusted only until then.
     */
    static void require(EmbeddedPostgres pg, Path pgDir, Secret password) throws IOException {
        Path hba = pgDir.resolve("pg_hba.conf");
        if (Files.readString(hba).contains(HBA_MARKER)) {
            return;
        }
        try (Connection c = pg.getPostgresDatabase().getConnection();
             java.sql.Statement st = c.createStatement()) {
            st.execute("SET password_encryption = 'scram-sha-256'");
            // The server's log (postgres.log) must never show the statement that carries the password.
            st.execute("SET log_statement = 'none'; SET log_min_error_statement = 'panic';"
                    + " SET log_min_duration_statement = -1");
            st.execute("ALTER ROLE postgres PASSWORD '" + password.reveal().replace("'", "''") + "'");
            Files.writeString(hba, HBA_MARKER + "\n"
                    + "local all all scram-sha-256\n"
                    + "host all all 127.0.0.1/32 scram-sha-256\n"
                    + "host all all ::1/128 scram-sha-256\n");
            st.execute("SELECT pg_reload_conf()");
        } catch (SQLException e) {
            throw new IOException("cannot set the embedded server's password: " + e.getMessage(), e);
        }
    }
}
