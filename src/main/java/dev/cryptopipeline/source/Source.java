package dev.cryptopipeline.source;

import dev.cryptopipeline.lake.Fingerprint;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.Manifest;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.function.Consumer;

/**
 * Produces days of cleaned, de-duplicated, enriched token transfers as lake files plus a manifest per day, in the
 * lake format of {@link dev.cryptopipeline.lake.TransferColumn}. Days are UTC days.
 */
public interface Source {

    /**
     * What one export run asks for.
     *
     * @param runId      the run's id, unique per run (labels, and the folder of a fresh export)
     * @param queryLimit at most this many rows per day, the first by {@code (block_number, log_index)}
     * @param fresh      true to export anew even if the lake holds a finished export of the same work (a reload:
     *                   the user asks because the source changed); false to reuse such an export made the same UTC
     *                   day (a rerun after a crash pays once)
     */
    record ExportRequest(String runId, OptionalInt queryLimit, boolean fresh) {
        public ExportRequest {
            Objects.requireNonNull(runId, "runId");
            Objects.requireNonNull(queryLimit, "queryLimit");
        }
    }

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
     * Checks, spending nothing (dry runs only), that exporting {@code days} stays within the source's cost cap, so a
     * run that would exceed it starts no job at all. Idempotent.
     *
     * @throws dev.cryptopipeline.PipelineException.BadInput if the estimate exceeds the cap
     */
    default void checkCost(List<LocalDate> days, OptionalInt queryLimit) {
    }

    /**
     * The last UTC day the source has finished (will no longer change), as of {@code now}. Never after the day before
     * {@code now}'s UTC day. May run a (capped) metadata job: call it only when that day matters.
     */
    LocalDate lastFinishedDay(Instant now);

    /**
     * Exports each day into a {@code run=<runId>} folder of the lake, writing each day's manifest last.
     *
     * @param days       the UTC days, ascending, each finished
     * @param runId      the run's id; the source may choose its own folder names (each manifest names its folder),
     *                   e.g. to reattach to the work of an interrupted run
     * @param queryLimit at most this many rows per day, the first by {@code (block_number, log_index)}
     * @return one manifest per day, in the order of {@code days}; the loader reads each day's manifest again from
     *         the lake, at {@code run=<manifest.runId()>}
     */
    List<Manifest> export(List<LocalDate> days, String runId, OptionalInt queryLimit, Lake lake);

    /**
     * Exports each day, handing each day's manifest to {@code exported} as soon as that day is finished in the lake,
     * so loading can start before the last day is exported. Days are exported in bulk where the source can (one
     * scan for a range), so callers pass ranges, not single days. {@code exported} may be called from other threads
     * and may block (back pressure). Stops early, throwing, when the calling thread is interrupted.
     *
     * <p>The default exports everything, then hands the manifests over in day order.
     */
    default void export(List<LocalDate> days, ExportRequest request, Lake lake, Consumer<Manifest> exported) {
        export(days, request.runId(), request.queryLimit(), lake).forEach(exported);
    }

    /**
     * What {@link #export} would do for these days, without doing it or spending anything (a dry run).
     *
     * @return lines for the operator: the work, the SQL, the estimated bytes and cost
     */
    List<String> plan(List<LocalDate> days, OptionalInt queryLimit);

    /**
     * The row count and {@link Fingerprint} of each day as an export with {@code queryLimit} would write it now: the
     * rows after the export's own cleaning and de-duplication. Writes nothing (not even to the lake). A day without
     * rows maps to {@link Fingerprint.Day#EMPTY}.
     *
     * @param days the UTC days, ascending, each finished
     * @throws dev.cryptopipeline.PipelineException.BadInput if the source cannot verify, or the cost is over its cap
     */
    default Map<LocalDate, Fingerprint.Day> fingerprints(List<LocalDate> days, OptionalInt queryLimit) {
        throw new dev.cryptopipeline.PipelineException.BadInput("The " + name() + " source cannot compute"
                + " fingerprints, so its days cannot be verified");
    }

    /**
     * Checks, spending nothing (dry runs only), that {@link #fingerprints} for these days stays within the source's
     * cost cap, so a run that would exceed it starts no job at all. Idempotent.
     *
     * @throws dev.cryptopipeline.PipelineException.BadInput if the estimate exceeds the cap
     */
    default void checkFingerprintCost(List<LocalDate> days, OptionalInt queryLimit) {
    }

    /**
     * What {@link #fingerprints} would do for these days, without doing it or spending anything (a dry run).
     *
     * @return lines for the operator: the work, the SQL, the estimated bytes and cost
     */
    default List<String> planFingerprints(List<LocalDate> days, OptionalInt queryLimit) {
        return List.of(name() + " source: would compute the fingerprints of " + days.size() + " day"
                + (days.size() == 1 ? "" : "s") + ", no cost");
    }
}
