package dev.cryptopipeline.pipeline;

import dev.cryptopipeline.lake.Fingerprint;
import java.time.LocalDate;
import java.util.Objects;

/**
 * How one loaded day compared with the source: the row count and {@link Fingerprint} of the rows an export would
 * load now (with the day's own {@code --query-limit}) against those of the rows PostgreSQL holds.
 *
 * @param day           the UTC day
 * @param queryLimit    the per-day row cap the day was loaded with (a trial load), compared alike; null for none
 * @param source        what the source holds now
 * @param loaded        what PostgreSQL holds now
 * @param loadedChanged true if PostgreSQL's rows differ from the fingerprint recorded at the day's first verification
 *                      (someone changed them since)
 */
public record DayCheck(LocalDate day, Integer queryLimit, Fingerprint.Day source, Fingerprint.Day loaded,
                       boolean loadedChanged) {

    /** What a comparison found. */
    public enum Outcome {
        MATCH("match"),
        /** The row counts differ (a row added, removed, or a duplicate resolved differently). */
        ROWS("rows differ"),
        /** The same number of rows, but some value differs. */
        CONTENT("content differs");

        private final String label;

        Outcome(String label) {
            this.label = label;
        }

        /** The words recorded in the ledger's {@code verification} and shown to the operator. */
        public String label() {
            return label;
        }
    }

    public DayCheck {
        Objects.requireNonNull(day, "day");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(loaded, "loaded");
    }

    /** How the day compared. */
    public Outcome outcome() {
        if (source.rows() != loaded.rows()) {
            return Outcome.ROWS;
        }
        return source.sum().equals(loaded.sum()) ? Outcome.MATCH : Outcome.CONTENT;
    }

    /** True unless the day matches the source. */
    public boolean differs() {
        return outcome() != Outcome.MATCH;
    }

    /** True if the day was loaded with a {@code --query-limit} (and compared with the source limited alike). */
    public boolean trial() {
        return queryLimit != null;
    }
}
