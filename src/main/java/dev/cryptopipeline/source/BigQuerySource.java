package dev.cryptopipeline.source;

import com.google.cloud.bigquery.BigQuery;
import com.google.cloud.bigquery.Dataset;
import com.google.cloud.bigquery.DatasetId;
import com.google.cloud.bigquery.DatasetInfo;
import com.google.cloud.bigquery.ExtractJobConfiguration;
import com.google.cloud.bigquery.FieldValueList;
import com.google.cloud.bigquery.Job;
import com.google.cloud.bigquery.JobId;
import com.google.cloud.bigquery.JobInfo;
import com.google.cloud.bigquery.JobStatistics;
import com.google.cloud.bigquery.QueryJobConfiguration;
import com.google.cloud.bigquery.QueryParameterValue;
import com.google.cloud.bigquery.Table;
import com.google.cloud.bigquery.TableId;
import com.google.cloud.bigquery.TableResult;
import com.google.cloud.bigquery.TimePartitioning;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LakeLayout;
import dev.cryptopipeline.lake.Manifest;
import dev.cryptopipeline.lake.TransferColumn;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exports days of token transfers from BigQuery's public dataset into a GCS lake. For each run of consecutive days:
 * one query job (partition-pruned, bytes-capped, estimated first by a dry run) writes all the days into a
 * day-partitioned staging table, so each source partition is scanned once; then one free extract job per day
 * writes that partition as gzip CSV into {@code day=D/run=<export-id>/}, concurrently; then the day's manifest is
 * written with the staging partition's row count. The export id is derived from the work and the UTC date, and job ids
 * from the export id, so a run restarted the same day reattaches to jobs that are running or done (and reuses days
 * already exported) instead of paying twice. A job that ends with a transient error is redone under the next
 * attempt's ids.
 */
public final class BigQuerySource implements Source {
    private static final Logger log = LoggerFactory.getLogger(BigQuerySource.class);
    private static final DateTimeFormatter BASIC = DateTimeFormatter.BASIC_ISO_DATE;
    private static final int ATTEMPTS = 3;
    private static final long GIB = 1L << 30;
    /** On-demand price per TiB scanned, for the dry run's estimate. */
    private static final double USD_PER_TIB = 6.25;

    /**
     * The source's settings.
     *
     * @param project          the project that runs (and pays for) the jobs
     * @param dataset          the staging dataset
     * @param location         the jobs' and dataset's location
     * @param maxBytesBilled   the cap on every query job, or empty for 5 GiB per day plus 10 GiB
     * @param stagingDays      default table expiration of the staging dataset, in days
     * @param extractThreads   extract jobs run at once
     */
    public record Settings(String project, Identifier dataset, String location, Optional<Long> maxBytesBilled,
                           int stagingDays, int extractThreads) {
    }

    private final BigQuery bigquery;
    private final BigQueryJobs jobs;
    private final Settings settings;
    private final Clock clock;

    public BigQuerySource(BigQuery bigquery, BigQueryJobs jobs, Settings settings, Clock clock) {
        this.bigquery = bigquery;
        this.jobs = jobs;
        this.settings = settings;
        this.clock = clock;
    }

    @Override
    public String name() {
        return "bigquery";
    }

    @Override
    public List<String> prepare() {
        DatasetId id = DatasetId.of(settings.project(), settings.dataset().name());
        Dataset existing = jobs.call("read dataset " + id.getDataset(), () -> bigquery.getDataset(id));
        String where = "BigQuery dataset " + settings.project() + ":" + settings.dataset();
        if (existing != null) {
            return List.of(where + ": already exists (" + existing.getLocation() + ")");
        }
        jobs.call("create dataset " + id.getDataset(), () -> bigquery.create(DatasetInfo.newBuilder(id)
                .setLocation(settings.location())
                .setDefaultTableLifetime(TimeUnit.DAYS.toMillis(settings.stagingDays()))
                .setLabels(Map.of("app", "crypto-pipeline"))
                .setDescription("crypto-pipeline staging tables; each expires after " + settings.stagingDays()
                        + " days")
                .build()));
        return List.of(where + ": created in " + settings.location() + " (tables expire after "
                + settings.stagingDays() + " days)");
    }

    /**
     * Day D is finished when BigQuery's batch job has rewritten its partition (modified at or after 08:00 UTC on
     * D+1), or, failing that evidence, once D+2 has begun (UTC).
     */
    @Override
    public LocalDate lastFinishedDay(Instant now) {
        LocalDate yesterday = LocalDate.ofInstant(now, ZoneOffset.UTC).minusDays(1);
        LocalDate byTime = yesterday.minusDays(1);
        String sql = TransferQuery.completenessSql();
        QueryJobConfiguration config = QueryJobConfiguration.newBuilder(sql)
                .addNamedParameter("partition", QueryParameterValue.string(BASIC.format(yesterday)))
                .setUseLegacySql(false)
                .setMaximumBytesBilled(GIB)
                .setLabels(labels("completeness", "check"))
                .build();
        // A cheap metadata query, asked afresh each time: a unique id, nothing to reattach to.
        JobId id = jobId("crypto_pipeline_c_" + BASIC.format(yesterday) + "_" + java.util.UUID.randomUUID()
                .toString().replace("-", ""));
        try {
            Job job = jobs.run(JobInfo.of(id, config), "completeness check");
            TableResult result = jobs.call("read completeness", () -> {
                try {
                    return job.getQueryResults();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new PipelineException.TryLater("Interrupted");
                }
            });
            Instant rewrittenBy = yesterday.plusDays(1).atTime(8, 0).toInstant(ZoneOffset.UTC);
            for (FieldValueList row : result.iterateAll()) {
                Instant modified = Instant.ofEpochMilli(row.get("last_modified_time").getTimestampValue() / 1000);
                if (!modified.isBefore(rewrittenBy)) {
                    return yesterday;
                }
                log.info("{} is not finished at the source yet: its partition was last modified {}, before the"
                        + " daily rewrite (about 08:00-08:30 UTC)", yesterday, modified);
            }
            return byTime;
        } catch (PipelineException | BigQueryJobs.TransientJobFailure e) {
            log.warn("Could not check whether {} is finished at the source ({}); treating it as not finished",
                    yesterday, e.getMessage());
            return byTime;
        }
    }

    @Override
    public List<String> plan(List<LocalDate> days, OptionalInt queryLimit) {
        List<String> lines = new ArrayList<>();
        long total = 0;
        for (List<LocalDate> segment : segments(days)) {
            long bytes = estimate(segment, queryLimit);
            total += bytes;
            lines.add("bigquery: one query job for " + range(segment) + " (" + segment.size() + " day"
                    + (segment.size() == 1 ? "" : "s") + "), an estimated " + bytes + " bytes ("
                    + String.format(Locale.ROOT, "%.2f GiB, about $%.4f", bytes / (double) GIB,
                    bytes / (double) (1L << 40) * USD_PER_TIB) + " on demand), capped at " + cap(segment)
                    + " bytes; then " + segment.size() + " free extract job" + (segment.size() == 1 ? "" : "s"));
        }
        lines.add("bigquery: estimated total " + total + " bytes, about $"
                + String.format(Locale.ROOT, "%.4f", total / (double) (1L << 40) * USD_PER_TIB));
        lines.add("bigquery: the SQL (parameters @first_day, @last_day" + (queryLimit.isPresent()
                ? ", @row_limit=" + queryLimit.getAsInt() : "") + "):");
        lines.addAll(TransferQuery.sql(queryLimit).lines().toList());
        return lines;
    }

    @Override
    public List<Manifest> export(List<LocalDate> days, String runId, OptionalInt queryLimit, Lake lake) {
        if (!lake.location().startsWith("gs://")) {
            throw new PipelineException.BadInput("The BigQuery source exports into a gs:// lake, not "
                    + lake.location() + ": give --lake gs://bucket[/prefix]");
        }
        List<Manifest> manifests = new ArrayList<>();
        for (List<LocalDate> segment : segments(days)) {
            manifests.addAll(exportSegment(segment, runId, queryLimit, lake));
        }
        return manifests;
    }

    private List<Manifest> exportSegment(List<LocalDate> days, String runId, OptionalInt queryLimit, Lake lake) {
        String sql = TransferQuery.sql(queryLimit);
        String base = BASIC.format(LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC)) + "-"
                + fingerprint(sql, days, queryLimit, lake.location());
        long cap = cap(days);
        long estimate = estimate(days, queryLimit);
        if (estimate > cap) {
            throw new PipelineException.BadInput("The query for " + range(days) + " would scan " + estimate
                    + " bytes, over the cap of " + cap + " (--max-bytes-billed): raise the cap or load fewer days"
                    + " at once; nothing was spent");
        }
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            String exportId = base + "-" + attempt;
            try {
                return exportAttempt(days, exportId, runId, sql, queryLimit, cap, lake);
            } catch (BigQueryJobs.TransientJobFailure e) {
                log.warn("{}; redoing the export under new job ids (attempt {} of {})", e.getMessage(), attempt + 1,
                        ATTEMPTS);
                if (attempt == ATTEMPTS) {
                    throw new PipelineException.TryLater(e.getMessage() + "; gave up after " + ATTEMPTS
                            + " attempts, try again later; the old data is intact", e);
                }
            }
        }
        throw new IllegalStateException("unreachable");
    }

    private List<Manifest> exportAttempt(List<LocalDate> days, String exportId, String runId, String sql,
                                         OptionalInt queryLimit, long cap, Lake lake) {
        Map<LocalDate, Manifest> done = new LinkedHashMap<>();
        for (LocalDate day : days) {
            finishedManifest(lake, day, exportId).ifPresent(m -> done.put(day, m));
        }
        if (done.size() == days.size()) {
            log.info("Reusing the export {} of {} already in the lake (no BigQuery job needed)", exportId,
                    range(days));
            return List.copyOf(done.values());
        }
        String idPart = exportId.replace('-', '_');
        String table = "token_transfers_" + idPart;
        QueryJobConfiguration.Builder query = QueryJobConfiguration.newBuilder(sql)
                .addNamedParameter("first_day", QueryParameterValue.date(days.get(0).toString()))
                .addNamedParameter("last_day", QueryParameterValue.date(days.get(days.size() - 1).toString()))
                .setUseLegacySql(false)
                .setDestinationTable(TableId.of(settings.project(), settings.dataset().name(), table))
                .setTimePartitioning(TimePartitioning.newBuilder(TimePartitioning.Type.DAY)
                        .setField("block_timestamp").build())
                .setWriteDisposition(JobInfo.WriteDisposition.WRITE_TRUNCATE)
                .setCreateDisposition(JobInfo.CreateDisposition.CREATE_IF_NEEDED)
                .setMaximumBytesBilled(cap)
                .setLabels(labels("query", runId));
        queryLimit.ifPresent(n -> query.addNamedParameter("row_limit", QueryParameterValue.int64(n)));
        long t0 = System.nanoTime();
        Job q = jobs.run(JobInfo.of(jobId("crypto_pipeline_q_" + idPart), query.build()), "query " + range(days));
        JobStatistics.QueryStatistics stats = q.getStatistics();
        log.info("BigQuery job {} staged {} into {}.{}: {} bytes billed, in {} ms", q.getJobId().getJob(), range(days),
                settings.dataset(), table, stats == null ? "?" : stats.getTotalBytesBilled(),
                (System.nanoTime() - t0) / 1_000_000);

        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(settings.extractThreads(),
                days.size())));
        try {
            List<Future<Manifest>> futures = new ArrayList<>();
            for (LocalDate day : days) {
                if (done.containsKey(day)) {
                    futures.add(java.util.concurrent.CompletableFuture.completedFuture(done.get(day)));
                } else {
                    futures.add(pool.submit(() -> extractDay(day, exportId, idPart, table, q, runId, queryLimit,
                            lake)));
                }
            }
            List<Manifest> manifests = new ArrayList<>();
            for (Future<Manifest> f : futures) {
                manifests.add(f.get());
            }
            return manifests;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new PipelineException.Failed("Export failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PipelineException.TryLater("Interrupted while exporting");
        } finally {
            pool.shutdownNow();
        }
    }

    private Manifest extractDay(LocalDate day, String exportId, String idPart, String table, Job query, String runId,
                                OptionalInt queryLimit, Lake lake) throws IOException {
        TableId partition = TableId.of(settings.project(), settings.dataset().name(), table + "$" + BASIC.format(day));
        Table t = jobs.call("read staging partition " + partition.getTable(), () -> bigquery.getTable(partition));
        long rows = t == null || t.getNumRows() == null ? 0 : t.getNumRows().longValue();
        String folder = LakeLayout.runPrefix(day, exportId);
        List<String> sourceJobs = new ArrayList<>(List.of(query.getJobId().getJob()));
        if (rows > 0) {
            String uri = lake.location() + "/" + folder + "part-*.csv.gz";
            ExtractJobConfiguration extract = ExtractJobConfiguration.newBuilder(partition, uri)
                    .setFormat("CSV")
                    .setCompression("GZIP")
                    .setPrintHeader(false)
                    .setLabels(labels("extract", runId))
                    .build();
            Job x = jobs.run(JobInfo.of(jobId("crypto_pipeline_x_" + idPart + "_" + BASIC.format(day)), extract),
                    "extract " + day);
            sourceJobs.add(x.getJobId().getJob());
        }
        List<Manifest.DataFile> files = new ArrayList<>();
        for (Lake.LakeObject o : lake.list(folder)) {
            String name = o.key().substring(folder.length());
            if (!name.equals(LakeLayout.MANIFEST)) {
                files.add(new Manifest.DataFile(name, o.size()));
            }
        }
        if (rows > 0 && files.isEmpty()) {
            throw new PipelineException.Failed("BigQuery extract for " + day + " wrote no files into "
                    + lake.location() + "/" + folder);
        }
        Manifest manifest = new Manifest(day, exportId, name(), rows, TransferColumn.names(), files, sourceJobs,
                queryLimit.isPresent() ? queryLimit.getAsInt() : null, clock.instant());
        LakeLayout.writeManifest(lake, manifest);
        log.info("Exported {} rows for {} into {} files of {}/{}", rows, day, files.size(), lake.location(), folder);
        return manifest;
    }

    private Optional<Manifest> finishedManifest(Lake lake, LocalDate day, String exportId) {
        try {
            if (!LakeLayout.finishedRuns(lake, day).contains(exportId)) {
                return Optional.empty();
            }
            return Optional.of(LakeLayout.readManifest(lake, day, exportId));
        } catch (IOException e) {
            throw new PipelineException.Failed("Cannot list the lake " + lake.location() + ": " + e.getMessage(), e);
        }
    }

    private long estimate(List<LocalDate> days, OptionalInt queryLimit) {
        QueryJobConfiguration.Builder dry = QueryJobConfiguration.newBuilder(TransferQuery.sql(queryLimit))
                .addNamedParameter("first_day", QueryParameterValue.date(days.get(0).toString()))
                .addNamedParameter("last_day", QueryParameterValue.date(days.get(days.size() - 1).toString()))
                .setUseLegacySql(false)
                .setDryRun(true)
                .setUseQueryCache(false)
                .setMaximumBytesBilled(cap(days));
        queryLimit.ifPresent(n -> dry.addNamedParameter("row_limit", QueryParameterValue.int64(n)));
        Job job = jobs.call("estimate the query for " + range(days), () -> bigquery.create(JobInfo.newBuilder(
                dry.build()).setJobId(JobId.newBuilder().setProject(settings.project())
                .setLocation(settings.location()).build()).build()));
        JobStatistics.QueryStatistics stats = job.getStatistics();
        Long bytes = stats == null ? null : stats.getTotalBytesProcessed();
        return bytes == null ? 0 : bytes;
    }

    private long cap(List<LocalDate> days) {
        return settings.maxBytesBilled().orElse(days.size() * 5 * GIB + 10 * GIB);
    }

    private JobId jobId(String id) {
        return JobId.newBuilder().setProject(settings.project()).setLocation(settings.location()).setJob(id).build();
    }

    private static Map<String, String> labels(String kind, String runId) {
        return Map.of("app", "crypto-pipeline", "kind", kind,
                "run", runId.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_-]", "_"));
    }

    /** Splits ascending days into runs of consecutive days. */
    static List<List<LocalDate>> segments(List<LocalDate> days) {
        List<List<LocalDate>> segments = new ArrayList<>();
        List<LocalDate> current = new ArrayList<>();
        for (LocalDate d : days) {
            if (!current.isEmpty() && !current.get(current.size() - 1).plusDays(1).equals(d)) {
                segments.add(current);
                current = new ArrayList<>();
            }
            current.add(d);
        }
        if (!current.isEmpty()) {
            segments.add(current);
        }
        return segments;
    }

    private String fingerprint(String sql, List<LocalDate> days, OptionalInt limit, String lake) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String part : List.of(sql, days.get(0).toString(), days.get(days.size() - 1).toString(),
                    String.valueOf(limit), settings.project(), settings.dataset().name(), lake)) {
                sha.update(part.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 10);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String range(List<LocalDate> days) {
        return days.size() == 1 ? days.get(0).toString() : days.get(0) + ".." + days.get(days.size() - 1);
    }

}
