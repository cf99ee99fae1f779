package dev.cryptopipeline;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Jittered exponential backoff for retries: each wait is the current delay times a random factor in [0.5, 1.5), and
 * the delay doubles up to a maximum. Not thread safe: one per retry loop.
 */
public final class Backoff {
    private final long maxMillis;
    private long delayMillis;

    public Backoff(Duration first, Duration max) {
        this.delayMillis = Math.max(1, first.toMillis());
        this.maxMillis = Math.max(delayMillis, max.toMillis());
    }

    /** The next wait, in milliseconds (jittered), advancing the delay. */
    public long next() {
        long wait = (long) (delayMillis * ThreadLocalRandom.current().nextDouble(0.5, 1.5));
        delayMillis = Math.min(maxMillis, delayMillis * 2);
        return wait;
    }

    /**
     * Sleeps; an interrupt ends the run.
     *
     * @throws PipelineException.Interrupted if interrupted
     */
    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PipelineException.Interrupted("Interrupted while waiting to retry");
        }
    }
}
