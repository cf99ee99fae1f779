package dev.cryptopipeline.sink;

import dev.cryptopipeline.PipelineException;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import dev.cryptopipeline.config.Secret;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded PostgreSQL 15 whose data directory lives under the tool's data directory
 * ({@code <data-dir>/postgres}), so data persists between runs. It listens on 127.0.0.1 only and requires a password
 * (scram-sha-256), generated on first start and kept owner-readable in {@code <data-dir>/postgres.pgpass}, a file in
 * {@code ~/.pgpass} format that psql reads through {@code PGPASSFILE}.
 *
 * <p>Started by the first run that needs it and stopped when that run ends. A run that finds the server already up
 * (another run, or {@code crypto-pipeline db}) connects to it and leaves it running; a server left behind by a killed
 * run (its owner process is gone) is adopted and stopped at the end. The start-or-reuse decision is serialized by a
 * file lock, so two runs started together never both start a server.
 */
public final class EmbeddedDatabase implements Database {
    /**
     * A database that starts (or finds) the embedded server on first use, so a run refused for bad input never
     * touches the data directory.
     */
    public static Database lazy(Path dataDir) {
        return new Database() {
            private EmbeddedDatabase server;

            @Override
            public synchronized Connection connect(String applicationName) throws SQLException {
                if (server == null) {
                    server = open(dataDir);
                }
                return server.connect(applicationName);
            }

            @Override
            public String describe() {
                return server != null ? server.describe()
                        : "embedded PostgreSQL (data in " + dataDir.resolve("postgres") + ")";
            }

            @Override
            public synchronized void close() {
                if (server != null) {
                    server.close();
                }
            }
        };
    }

    private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabase.class);
    private static final String OWNER_FILE = "postgres.owner";
    /** The pgpass-format file holding the generated password. */
    public static final String PGPASS_FILE = "postgres.pgpass";
    private static final String HBA_MARKER = "# crypto-pipeline: passwords required";

    private final Path dataDir;
    private final int port;
    private final Secret password;
    private final EmbeddedPostgres started;
    private final Long adoptedPid;
    private boolean closed;

    private EmbeddedDatabase(Path dataDir, int port, EmbeddedPostgres started, Long adoptedPid, Secret password) {
        this.dataDir = dataDir;
        this.port = port;
        this.password = password;
        this.started = started;
        this.adoptedPid = adoptedPid;
    }

    /**
     * Starts the server under {@code dataDir}, or connects to the one already running there.
     *
     * @throws PipelineException.Failed if it cannot be started
     */
    public static EmbeddedDatabase open(Path dataDir) {
        Path pgDir = dataDir.resolve("postgres");
        try {
            createPrivateDirectory(dataDir);
            try (FileChannel ch = FileChannel.open(dataDir.resolve("postgres.lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = ch.lock()) {
                Secret password = password(dataDir);
                Optional<long[]> running = runningServer(pgDir);
                if (running.isPresent()) {
                    long pid = running.get()[0];
                    int port = (int) running.get()[1];
                    Optional<Long> owner = readOwner(dataDir);
                    if (owner.isPresent() && alive(owner.get())) {
                        log.info("Using the embedded PostgreSQL already running on 127.0.0.1:{} (started by pid {})",
                                port, owner.get());
                        return new EmbeddedDatabase(dataDir, port, null, null, password);
                    }
                    log.warn("Adopting the embedded PostgreSQL (pid {}, port {}) left running by a run that ended"
                            + " without stopping it; it will be stopped at the end of this run", pid, port);
                    writeOwner(dataDir);
                    return new EmbeddedDatabase(dataDir, port, null, pid, password);
                }
                long t0 = System.nanoTime();
                boolean fresh = !Files.exists(pgDir.resolve("PG_VERSION"));
                EmbeddedPostgres pg = EmbeddedPostgres.builder()
                        .setDataDirectory(pgDir)
                        .setCleanDataDirectory(false)
                        .setServerConfig("listen_addresses", "127.0.0.1")
                        // zonky tunes for throwaway test databases; this one keeps the user's data.
                        .setServerConfig("fsync", "on")
                        .setServerConfig("synchronous_commit", "on")
                        .setServerConfig("max_connections", "50")
                        // A day's COPY and key build write no WAL (their table is new in the transaction): its files
                        // are fsynced at commit instead, so a committed day still survives a crash. The price: no
                        // streaming replica or point-in-time recovery of this private server (pg_dump still works).
                        .setServerConfig("wal_level", "minimal")
                        .setServerConfig("max_wal_senders", "0")
                        .setPGStartupWait(Duration.ofSeconds(60))
                        .setRegisterShutdownHook(true)
                        .setConnectConfig("password", password.reveal())
                        .start();
                writeOwner(dataDir);
                requirePassword(pg, pgDir, password);
                log.info("Started the embedded PostgreSQL ({}) on 127.0.0.1:{} in {} ms",
                        fresh ? "new data directory " + pgDir : pgDir, pg.getPort(),
                        (System.nanoTime() - t0) / 1_000_000);
                return new EmbeddedDatabase(dataDir, pg.getPort(), pg, null, password);
            }
        } catch (IOException | RuntimeException e) {
            throw new PipelineException.Failed("Cannot start the embedded PostgreSQL in " + pgDir + " ("
                    + e.getMessage() + "): check that the data directory is writable and has space, or give"
                    + " --jdbc-url to use a PostgreSQL server", e);
        }
    }

    /** The TCP port on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** The JDBC URL of the server's {@code postgres} database. */
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    @Override
    public Connection connect(String applicationName) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", password.reveal());
        p.setProperty("ApplicationName", applicationName);
        p.setProperty("connectTimeout", "10");
        p.setProperty("tcpKeepAlive", "true");
        return DriverManager.getConnection(jdbcUrl(), p);
    }

    @Override
    public String describe() {
        return "embedded PostgreSQL " + jdbcUrl() + " (data in " + dataDir.resolve("postgres") + ")";
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (started != null) {
                started.close();
                Files.deleteIfExists(dataDir.resolve(OWNER_FILE));
                log.debug("Stopped the embedded PostgreSQL");
            } else if (adoptedPid != null) {
                ProcessHandle.of(adoptedPid).ifPresent(p -> {
                    p.destroy(); // SIGTERM: a smart shutdown once our connections are closed
                    p.onExit().orTimeout(30, java.util.concurrent.TimeUnit.SECONDS).exceptionally(t -> null).join();
                });
                Files.deleteIfExists(dataDir.resolve(OWNER_FILE));
                log.info("Stopped the adopted embedded PostgreSQL (pid {})", adoptedPid);
            }
        } catch (IOException e) {
            log.warn("Could not stop the embedded PostgreSQL cleanly: {}", e.getMessage());
        }
    }

    /** The generated password, created (owner-readable only) on first use. */
    private static Secret password(Path dataDir) throws IOException {
        Path file = dataDir.resolve(PGPASS_FILE);
        if (!Files.exists(file)) {
            byte[] bytes = new byte[24];
            new java.security.SecureRandom().nextBytes(bytes);
            String generated = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            Path temp = dataDir.resolve(PGPASS_FILE + ".tmp");
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
    private static void requirePassword(EmbeddedPostgres pg, Path pgDir, Secret password) throws IOException {
        Path hba = pgDir.resolve("pg_hba.conf");
        if (Files.readString(hba).contains(HBA_MARKER)) {
            return;
        }
        try (Connection c = pg.getPostgresDatabase().getConnection();
             java.sql.Statement st = c.createStatement()) {
            st.execute("SET password_encryption = 'scram-sha-256'");
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

    /** The pid and port of a live postmaster on {@code pgDir}, from its {@code postmaster.pid}. */
    private static Optional<long[]> runningServer(Path pgDir) throws IOException {
        Path pidFile = pgDir.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return Optional.empty();
        }
        List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
        if (lines.size() < 4) {
            return Optional.empty();
        }
        try {
            long pid = Long.parseLong(lines.get(0).trim());
            int port = Integer.parseInt(lines.get(3).trim());
            boolean postgres = ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                    .flatMap(p -> p.info().command()).map(c -> c.endsWith("postgres")).orElse(false);
            return postgres ? Optional.of(new long[] {pid, port}) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<Long> readOwner(Path dataDir) throws IOException {
        Path f = dataDir.resolve(OWNER_FILE);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Long.parseLong(Files.readString(f).trim()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static void writeOwner(Path dataDir) throws IOException {
        Files.writeString(dataDir.resolve(OWNER_FILE), Long.toString(ProcessHandle.current().pid()));
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static void createPrivateDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            try {
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            } catch (UnsupportedOperationException e) {
                // Not a POSIX file system.
            }
        }
    }
}
