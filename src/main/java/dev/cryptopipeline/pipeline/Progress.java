package dev.cryptopipeline.pipeline;

import java.time.LocalDate;

/**
 * Hears how a loading run advances, for a live progress line. Called from the run's threads; implementations must be
 * thread safe and quick, and must not throw.
 */
public interface Progress {
    /** Hears nothing. */
    Progress NONE = new Progress() {
    };

    /** The run has planned {@code days} days. */
    default void planned(String runId, int days) {
    }

    /** A day is in the lake, ready to load. */
    default void exported(LocalDate day, long rows) {
    }

    /** A day was loaded; {@code done} of {@code total} days are loaded so far, {@code rows} rows in all. */
    default void loaded(RunReport.DayLoad load, int done, int total, long rows) {
    }

    /** The run ended, however it ended. */
    default void finished() {
    }
}
