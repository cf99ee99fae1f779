package dev.cryptopipeline.sink;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The processes that use the embedded PostgreSQL of one data directory: each holds an exclusive OS lock on its own
 * file {@code <data-dir>/postgres.users/<pid>} for as long as it uses the server. The kernel drops a lock when its
 * process ends, however it ends (SIGKILL included), so a file whose lock can be taken was left by a dead process, and
 * is removed. Several uses within one JVM share its one file and are counted here.
 *
 * <p>Not thread safe, and not safe across processes on its own: every call must be made under the embedded server's
 * start/stop lock, which serializes joining, leaving and counting users with starting and stopping the server.
 */
final class ServerUsers {
    static final String DIRECTORY = "postgres.users";
    private static final Logger log = LoggerFactory.getLogger(ServerUsers.class);
    /** This JVM's registrations, by users directory. */
    private static final Map<Path, Registration> REGISTERED = new HashMap<>();

    private final Path dir;

    private ServerUsers(Path dir) {
        this.dir = dir;
    }

    /** The users of the embedded server under {@code dataDir} (an absolute, normalized path). */
    static ServerUsers of(Path dataDir) {
        return new ServerUsers(dataDir.resolve(DIRECTORY));
    }

    /** Whether this process uses the server now. */
    boolean includesThisProcess() {
        return REGISTERED.containsKey(dir);
    }

    /** Records one more use by this process. */
    void join() throws IOException {
        Registration mine = REGISTERED.get(dir);
        if (mine != null) {
            mine.uses++;
            return;
        }
        Files.createDirectories(dir);
        long pid = ProcessHandle.current().pid();
        for (int n = 0; n < 100; n++) {
            // Another PID namespace sharing this directory may have a process with our pid: then take another name.
            Path file = dir.resolve(n == 0 ? Long.toString(pid) : pid + "-" + n);
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
            if (lock != null) {
                REGISTERED.put(dir, new Registration(file, channel));
                return;
            }
            channel.close();
        }
        throw new IOException("cannot register a user of the embedded PostgreSQL in " + dir);
    }

    /**
     * Ends one use by this process.
     *
     * @return whether this process still uses the server (another use in this JVM)
     */
    boolean leave() throws IOException {
        Registration mine = REGISTERED.get(dir);
        if (mine == null) {
            return false;
        }
        if (--mine.uses > 0) {
            return true;
        }
        REGISTERED.remove(dir);
        try {
            Files.deleteIfExists(mine.file);
        } finally {
            mine.channel.close(); // releases the lock
        }
        return false;
    }

    /** The other live processes that use the server (their file names: the pid); dead users' files are removed. */
    List<String> others() throws IOException {
        Registration mine = REGISTERED.get(dir);
        List<String> alive = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                // Never open our own file: closing any channel on it would release this process's lock.
                if ((mine == null || !file.equals(mine.file)) && inUse(file)) {
                    alive.add(file.getFileName().toString());
                }
            }
        } catch (NoSuchFileException e) {
            return List.of();
        }
        return alive;
    }

    /** Whether a live process holds the file's lock; if none does, its user died, and the file is removed. */
    private static boolean inUse(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return true;
            }
            Files.delete(file);
            log.debug("Removed {}: the process that used the embedded PostgreSQL ended without saying so", file);
            return false;
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            log.debug("Ignoring {}, which is not a user file: {}", file, e.getMessage());
            return false;
        }
    }

    private static final class Registration {
        final Path file;
        final FileChannel channel;
        int uses = 1;

        Registration(Path file, FileChannel channel) {
            this.file = file;
            this.channel = channel;
        }
    }
}
