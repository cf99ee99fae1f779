package dev.cryptopipeline.lake;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Objects;

/**
 * The commit marker of one day's export: written last into the day's run folder, it lists the files and the row count
 * the source vouches for. The loader refuses a day whose files disagree with it.
 *
 * @param day        the UTC day exported
 * @param runId      the run folder's id
 * @param source     which source wrote it ({@code synthetic}, {@code bigquery})
 * @param rows       the number of rows in all files together, by the source's own count
 * @param columns    the CSV columns, in order
 * @param files      the data files, relative to the run folder, in load order
 * @param sourceJobs the source's job ids (BigQuery jobs), empty for the synthetic source
 * @param queryLimit the per-day row cap the export applied, or null for none
 * @param createdAt  when the export finished
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Manifest(
        @JsonProperty("day") LocalDate day,
        @JsonProperty("run_id") String runId,
        @JsonProperty("source") String source,
        @JsonProperty("rows") long rows,
        @JsonProperty("columns") List<String> columns,
        @JsonProperty("files") List<DataFile> files,
        @JsonProperty("source_jobs") List<String> sourceJobs,
        @JsonProperty("query_limit") Integer queryLimit,
        @JsonProperty("created_at") Instant createdAt) {

    public Manifest {
        Objects.requireNonNull(day, "day");
        Objects.requireNonNull(runId, "run_id");
        Objects.requireNonNull(source, "source");
        columns = List.copyOf(Objects.requireNonNull(columns, "columns"));
        files = List.copyOf(Objects.requireNonNull(files, "files"));
        sourceJobs = sourceJobs == null ? List.of() : List.copyOf(sourceJobs);
        Objects.requireNonNull(createdAt, "created_at");
    }

    /**
     * One data file of the export.
     *
     * @param name  the file name within the run folder
     * @param bytes its size in bytes (compressed)
     */
    public record DataFile(@JsonProperty("name") String name, @JsonProperty("bytes") long bytes) {
        public DataFile {
            Objects.requireNonNull(name, "name");
        }
    }
}
