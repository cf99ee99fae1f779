package dev.cryptopipeline.sink;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A live PostgreSQL postmaster on a data directory, as its {@code postmaster.pid} describes it: pid, port and state
 * ({@code starting}, {@code ready}, {@code stopping}, ...). Thread safe (immutable).
 */
record Postmaster(long pid, int port, String state) {

    /**
     * The postmaster running on {@code pgDir}, if any. A stale {@code postmaster.pid} (its process gone, or the pid
     * reused by another program) is no server.
     */
    static Optional<Postmaster> of(Path pgDir) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(pgDir.resolve("postmaster.pid"), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        if (lines.size() < 4) {
            return Optional.empty();
        }
        try {
            long pid = Long.parseLong(lines.get(0).trim());
            int port = Integer.parseInt(lines.get(3).trim());
            String state = lines.size() > 7 ? lines.get(7).trim() : "";
            boolean postgres = ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                    .flatMap(p -> p.info().command()).map(c -> c.endsWith("postgres")).orElse(false);
            return postgres ? Optional.of(new Postmaster(pid, port, state)) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Removes the {@code postmaster.pid} of a server that is no longer running, when PostgreSQL itself would refuse to
     * start because of it: its pid still names a process, either the killed postmaster as a zombie that nothing has
     * reaped yet (a container whose first process does not reap orphans) or another program that was given the pid
     * since (a restarted container). PostgreSQL's own check, that no process of the old server is still attached to
     * its shared memory, is made here first: while one is, the file stays, and PostgreSQL says so.
     *
     * @return the pid the removed file named, if one was removed
     */
    static Optional<Long> removeStalePidFile(Path pgDir) throws IOException {
        Path file = pgDir.resolve("postmaster.pid");
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        if (of(pgDir).isPresent() || lines.size() < 7) {
            return Optional.empty();
        }
        long pid;
        try {
            pid = Long.parseLong(lines.get(0).trim());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (ProcessHandle.of(pid).isEmpty() || attached(lines.get(6)) != 0) {
            // No such process: PostgreSQL takes the file for stale itself, after the same shared memory check.
            return Optional.empty();
        }
        Files.delete(file);
        return Optional.of(pid);
    }

    /**
     * The processes attached to the System V shared memory segment of a {@code postmaster.pid}'s seventh line
     * ({@code key shmid}): 0 if the segment is gone, -1 if that cannot be told.
     */
    private static long attached(String keyAndId) {
        String[] ids = keyAndId.trim().split("\\s+");
        Path table = Path.of("/proc/sysvipc/shm");
        if (ids.length < 2 || !Files.isReadable(table)) {
            return -1;
        }
        try (var rows = Files.lines(table)) {
            // Columns: key shmid perms size cpid lpid nattch ...
            return rows.skip(1).map(r -> r.trim().split("\\s+")).filter(c -> c.length > 6 && c[1].equals(ids[1]))
                    .mapToLong(c -> Long.parseLong(c[6])).findFirst().orElse(0);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Whether it is shutting down (and so refuses new connections). */
    boolean stopping() {
        return state.equals("stopping");
    }

    /**
     * Asks for a fast shutdown (SIGINT, what {@code pg_ctl stop -m fast} sends: sessions are disconnected and their
     * transactions rolled back, then a checkpoint) and waits for the process to end.
     *
     * @return whether it ended within {@code wait}
     */
    boolean stopFast(Duration wait) {
        try {
            Process kill = new ProcessBuilder("kill", "-INT", Long.toString(pid))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
            }
        } catch (IOException e) {
            // No kill(1): SIGTERM, a smart shutdown, which waits for sessions to end.
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return awaitExit(wait);
    }

    /** Waits for the process to end; returns whether it did within {@code wait}. */
    boolean awaitExit(Duration wait) {
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        if (process.isEmpty()) {
            return true;
        }
        try {
            process.get().onExit().orTimeout(wait.toMillis(), TimeUnit.MILLISECONDS).join();
            return true;
        } catch (CompletionException e) {
            if (e.getCause() instanceof TimeoutException) {
                return false;
            }
            throw e;
        }
    }
}
