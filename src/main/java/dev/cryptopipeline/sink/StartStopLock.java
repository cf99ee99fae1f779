package dev.cryptopipeline.sink;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The start/stop lock of the embedded server of one data directory: a file lock on {@code <data-dir>/postgres.lock}
 * against other processes, and a JVM lock against other threads of this one (a shutdown hook, another use), since a
 * JVM cannot take one file lock twice. Whoever holds it may start, join, leave or stop the server. Reentrant within a
 * thread only for the JVM part: never take it twice in one thread.
 */
final class StartStopLock implements AutoCloseable {
    private static final ReentrantLock JVM_LOCK = new ReentrantLock();

    private final FileChannel channel;

    private StartStopLock(FileChannel channel) {
        this.channel = channel;
    }

    /** Blocks until this thread holds the lock of {@code dataDir} (an existing directory). */
    static StartStopLock take(Path dataDir) throws IOException {
        JVM_LOCK.lock();
        FileChannel channel = null;
        try {
            channel = FileChannel.open(dataDir.resolve("postgres.lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            channel.lock();
            return new StartStopLock(channel);
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                channel.close();
            }
            JVM_LOCK.unlock();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close(); // releases the file lock
        } finally {
            JVM_LOCK.unlock();
        }
    }
}
