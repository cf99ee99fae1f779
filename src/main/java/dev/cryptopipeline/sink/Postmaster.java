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
