package dev.cryptopipeline.lake;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/**
 * A place with immutable objects addressed by '/'-separated keys: a GCS bucket prefix or a local folder.
 * Objects are only ever created, never rewritten; an object becomes visible under its key only once its writer is
 * closed, so a crashed writer never leaves a half-written object where a reader could mistake it for a finished one.
 * Implementations are thread safe.
 */
public interface Lake {

    /** Where this lake lives, for logs and messages (e.g. {@code gs://bucket/prefix} or a folder path). */
    String location();

    /**
     * Creates the lake if absent and checks that it can be written. Idempotent.
     *
     * @return true if the lake was created by this call, false if it already existed
     * @throws dev.cryptopipeline.PipelineException.Failed if it cannot be created or written
     */
    boolean prepare();

    /**
     * Gets the lake ready for a loading run, asking for no more than writing objects needs: a local folder is created
     * if absent; a bucket is left alone (only {@code setup} touches buckets). Idempotent.
     */
    default void prepareForRun() {
    }

    /**
     * Removes export folders ({@code token_transfers/day=D/run=R/}) older than {@code maxAge}, except those in
     * {@code keep} (the folders loaded days were last loaded from). A lake whose store expires objects by itself (a
     * bucket's lifecycle rule) does nothing. Call only under the run lock.
     *
     * @return the folders removed
     */
    default List<String> prune(java.time.Duration maxAge, java.util.Set<String> keep) {
        return List.of();
    }

    /**
     * Opens a new object for writing; it appears under {@code key} when the stream is closed.
     *
     * @throws IOException if the object already exists or cannot be written
     */
    OutputStream create(String key) throws IOException;

    /** Streams an object's bytes; the caller closes the stream. */
    InputStream open(String key) throws IOException;

    /**
     * Removes what writers killed mid-write left behind (never a finished object, never one still being written).
     * Idempotent.
     *
     * @return how many leftovers were removed
     */
    default int removeUnfinished() {
        return 0;
    }

    /** How long objects are kept, for setup's report. */
    default String retention() {
        return "objects kept until deleted";
    }

    /** The finished objects whose keys start with {@code prefix}, sorted by key. */
    List<LakeObject> list(String prefix) throws IOException;

    /** A finished object in the lake. */
    record LakeObject(String key, long size) {
    }
}
