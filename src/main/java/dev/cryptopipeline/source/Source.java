package dev.cryptopipeline.source;

import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.Manifest;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.OptionalInt;

/**
 * Produces days of cleaned, de-duplicated, enriched token transfers as lake files plus a manifest per day, in the
 * lake format of {@link dev.cryptopipeline.lake.TransferColumn}. Days are UTC days.
 */
public interface Source {

    /** A short name for logs and manifests ({@code synthetic}, {@code bigquery}). */
    String name();

    /**
     * Creates what the source needs (e.g. BigQuery's staging dataset) if absent. Idempotent.
     *
     * @return one line per resource, saying whether it was created or already existed
     */
    default List<String> prepare() {
        return List.of();
    }

    /**
     * The last UTC day the source has finished (will no longer change), as of {@code now}. Never after the day before
     * {@code now}'s UTC day.
     */
    LocalDate lastFinishedDay(Instant now);

    /**
     * Exports each day into {@code run=<runId>} folders of the lake, writing each day's manifest last. Idempotent per
     * (day, runId) in effect: a finished day's folder is left as it is. Days are exported in bulk where the source
     * can (one scan for a range), so callers pass ranges, not single days.
     *
     * @param days       the UTC days, ascending, each finished
     * @param runId      the run's id; the source may choose its own folder name (each manifest names it), e.g. to
     *                   reattach to the work of an interrupted run
     * @param queryLimit at most this many rows per day, the first by {@code (block_number, log_index)}
     * @return one manifest per day, in the order of {@code days}; the loader reads each day's manifest again from
     *         the lake, at {@code run=<manifest.runId()>}
     */
    List<Manifest> export(List<LocalDate> days, String runId, OptionalInt queryLimit, Lake lake);

    /**
     * What {@link #export} would do for these days, without doing it or spending anything (a dry run).
     *
     * @return lines for the operator: the work, the SQL, the estimated bytes and cost
     */
    List<String> plan(List<LocalDate> days, OptionalInt queryLimit);
}
