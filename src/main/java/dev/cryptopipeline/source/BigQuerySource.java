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
import com.google.cloud.bigquery.TableId;
import com.google.cloud.bigquery.TableResult;
import com.google.cloud.bigquery.TimePartitioning;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.lake.Fingerprint;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LakeLayout;
import dev.cryptopipeline.lake.Manifest;
import dev.cryptopipeline.lake.TransferColumn;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
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
import java.util.function.Consumer;
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
    private final Map<String, Long> estimates = new java.util.concurrent.ConcurrentHashMap<>();

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

    /** BigQuery bills at least this much for any query, metadata queries included. */
    static final long MIN_BILLED = 10L << 20;

    /**
     * Dry-runs the query of each run of consecutive days (free) and refuses the run, before any job, if one would
     * scan more than its cap, or if the cap is below what the metadata queries are billed at least.
     */
    @Override
    public void checkCost(List<LocalDate> days, OptionalInt queryLimit) {
        if (days.isEmpty()) {
            return;
        }
        checkCapAboveMinimum();
        for (List<LocalDate> segment : segments(days)) {
            long estimate = estimate(segment, queryLimit);
            long cap = cap(segment);
            if (estimate > cap) {
                throw new PipelineException.BadInput("The query for " + range(segment) + " would scan " + estimate
                        + " bytes, over the cap of " + cap + " (--max-bytes-billed): raise the cap or load fewer days"
                        + " at once; nothing was spent");
            }
        }
    }

    private void checkCapAboveMinimum() {
        settings.maxBytesBilled().ifPresent(cap -> {
            if (cap < MIN_BILLED) {
                throw new PipelineException.BadInput("--max-bytes-billed " + cap + " is below the " + MIN_BILLED
                        + " bytes BigQuery bills for any query (the metadata queries of every run): raise it;"
                        + " nothing was spent");
            }
        });
    }

    /**
     * Day D is finished when BigQuery's batch job has rewritten its partition (modified at or after 08:00 UTC on
     * D+1), or when the dataset's {@code load_metadata} has a row for D (the same batch job writes it when done), or,
     * failing that evidence, once D+2 has begun (UTC). Each piece of evidence costs one metadata query (billed
     * {@link #MIN_BILLED}), capped like every job; the second is asked only when the first does not say finished.
     */
    @Override
    public LocalDate lastFinishedDay(Instant now) {
        LocalDate yesterday = LocalDate.ofInstant(now, ZoneOffset.UTC).minusDays(1);
        Evidence partition = completenessEvidence("completeness check", "c", yesterday,
                TransferQuery.completenessSql(), "partition", QueryParameterValue.string(BASIC.format(yesterday)),
                "last_modified_time");
        if (partition.atOrAfter(yesterday.plusDays(1).atTime(8, 0).toInstant(ZoneOffset.UTC))) {
            return yesterday;
        }
        // Written by the load that finished the day: any row of D made after D ended says so.
        Evidence load = completenessEvidence("load metadata check", "m", yesterday, TransferQuery.loadMetadataSql(),
                "day", QueryParameterValue.date(yesterday.toString()), "complete_at");
        if (load.atOrAfter(yesterday.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant())) {
            return yesterday;
        }
        if (partition.problem() != null && load.problem() != null) {
            log.warn("Could not check whether {} is finished at the source ({}; {}); treating it as not finished",
                    yesterday, partition.problem(), load.problem());
        } else {
            log.info("{} is not finished at the source yet: its partition {}, load_metadata {} (the daily rewrite"
                    + " runs about 08:00-08:30 UTC)", yesterday, partition.describe("was last modified",
                    "was not found"), load.describe("says complete at", "has no row of it"));
        }
        return yesterday.minusDays(1);
    }

    /** What one completeness query said: the latest time it gave, or why it could not be asked or read. */
    private record Evidence(Optional<Instant> at, String problem) {
        boolean atOrAfter(Instant t) {
            return at.isPresent() && !at.get().isBefore(t);
        }

        String describe(String found, String none) {
            return problem != null ? "could not be read" : at.map(t -> found + " " + t).orElse(none);
        }
    }

    /**
     * The latest timestamp in column {@code column} of a completeness query's rows (none if it has no row); a query
     * that cannot be run or read counts as no evidence, and says why.
     */
    private Evidence completenessEvidence(String what, String idLetter, LocalDate day, String sql, String parameter,
                                          QueryParameterValue value, String column) {
        QueryJobConfiguration config = QueryJobConfiguration.newBuilder(sql)
                .addNamedParameter(parameter, value)
                .setUseLegacySql(false)
                .setMaximumBytesBilled(metadataCap())
                .setLabels(labels("completeness", "check"))
                .build();
        // A cheap metadata query, asked afresh each time: a unique id, nothing to reattach to.
        JobId id = jobId("crypto_pipeline_" + idLetter + "_" + BASIC.format(day) + "_" + java.util.UUID.randomUUID()
                .toString().replace("-", ""));
        try {
            Job job = jobs.run(JobInfo.of(id, config), what);
            Optional<Instant> latest = Optional.empty();
            for (FieldValueList row : results(job, "read the " + what).iterateAll()) {
                if (!row.get(column).isNull()) {
                    Instant t = Instant.ofEpochMilli(row.get(column).getTimestampValue() / 1000);
                    latest = latest.filter(l -> l.isAfter(t)).or(() -> Optional.of(t));
                }
            }
            return new Evidence(latest, null);
        } catch (PipelineException.Interrupted e) {
            throw e;
        } catch (PipelineException | BigQueryJobs.TransientJobFailure | IllegalArgumentException e) {
            // IllegalArgumentException: an answer without the column asked for, or not a timestamp in it.
            return new Evidence(Optional.empty(), what + ": " + e.getMessage());
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
                    + " bytes; then one query counting the staged rows per day (8 bytes a row, at least "
                    + MIN_BILLED + " bytes billed) and " + segment.size() + " free extract job"
                    + (segment.size() == 1 ? "" : "s"));
        }
        lines.add("bigquery: estimated total " + total + " bytes, about $"
                + String.format(Locale.ROOT, "%.4f", total / (double) (1L << 40) * USD_PER_TIB)
                + " (plus at least " + MIN_BILLED + " bytes per count or completeness query)");
        lines.add("bigquery: the SQL (parameters @first_day, @last_day" + (queryLimit.isPresent()
                ? ", @row_limit=" + queryLimit.getAsInt() : "") + "):");
        lines.addAll(TransferQuery.sql(queryLimit).lines().toList());
        return lines;
    }

    /**
     * One query job per run of consecutive days ({@link TransferQuery#fingerprintSql}: the export's rows, summed per
     * day), partition-pruned, estimated by a dry run first and capped like an export; it scans what the export of
     * those days scans, and writes nothing (the results land in BigQuery's anonymous table). Each run asks afresh:
     * a unique job id, never a reattached job.
     */
    @Override
    public Map<LocalDate, Fingerprint.Day> fingerprints(List<LocalDate> days, OptionalInt queryLimit) {
        checkFingerprintCost(days, queryLimit);
        Map<LocalDate, Fingerprint.Day> out = new LinkedHashMap<>();
        days.forEach(d -> out.put(d, Fingerprint.Day.EMPTY));
        for (List<LocalDate> segment : segments(days)) {
            for (int attempt = 1; ; attempt++) {
                try {
                    out.putAll(fingerprintSegment(segment, queryLimit));
                    break;
                } catch (BigQueryJobs.TransientJobFailure e) {
                    if (attempt == ATTEMPTS) {
                        throw new PipelineException.TryLater(e.getMessage() + "; gave up after " + ATTEMPTS
                                + " attempts, try again later", e);
                    }
                    log.warn("{}; asking again under a new job id (attempt {} of {})", e.getMessage(), attempt + 1,
                            ATTEMPTS);
                }
            }
        }
        return out;
    }

    private Map<LocalDate, Fingerprint.Day> fingerprintSegment(List<LocalDate> days, OptionalInt queryLimit) {
        QueryJobConfiguration.Builder query = QueryJobConfiguration.newBuilder(TransferQuery.fingerprintSql(queryLimit))
                .addNamedParameter("first_day", QueryParameterValue.date(days.get(0).toString()))
                .addNamedParameter("last_day", QueryParameterValue.date(days.get(days.size() - 1).toString()))
                .setUseLegacySql(false)
                .setMaximumBytesBilled(cap(days))
                .setLabels(labels("verify", "verify"));
        queryLimit.ifPresent(n -> query.addNamedParameter("row_limit", QueryParameterValue.int64(n)));
        JobId id = jobId("crypto_pipeline_v_" + BASIC.format(days.get(0)) + "_" + BASIC.format(days.get(
                days.size() - 1)) + "_" + java.util.UUID.randomUUID().toString().replace("-", ""));
        long t0 = System.nanoTime();
        Job job = jobs.run(JobInfo.of(id, query.build()), "verify " + range(days));
        Map<LocalDate, Fingerprint.Day> out = new LinkedHashMap<>();
        for (FieldValueList row : results(job, "read the fingerprints of " + range(days)).iterateAll()) {
            LocalDate day = LocalDate.parse(row.get("day").getStringValue());
            if (day.isBefore(days.get(0)) || day.isAfter(days.get(days.size() - 1))) {
                throw new PipelineException.DataCheck("BigQuery job " + id.getJob() + " returned a fingerprint of "
                        + day + ", outside " + range(days) + "; nothing was recorded");
            }
            out.put(day, new Fingerprint.Day(row.get("row_count").getLongValue(),
                    new java.math.BigDecimal(row.get("fingerprint").getStringValue()).toBigIntegerExact()));
        }
        JobStatistics.QueryStatistics stats = job.getStatistics();
        log.info("BigQuery job {} computed the fingerprints of {}: {} bytes billed, in {} ms", id.getJob(),
                range(days), stats == null ? "?" : stats.getTotalBytesBilled(), (System.nanoTime() - t0) / 1_000_000);
        return out;
    }

    /** Dry-runs each verify query (free) and refuses, before any job, one that would scan more than its cap. */
    @Override
    public void checkFingerprintCost(List<LocalDate> days, OptionalInt queryLimit) {
        if (days.isEmpty()) {
            return;
        }
        checkCapAboveMinimum();
        for (List<LocalDate> segment : segments(days)) {
            long estimate = estimate(TransferQuery.fingerprintSql(queryLimit), segment, queryLimit);
            long cap = cap(segment);
            if (estimate > cap) {
                throw new PipelineException.BadInput("The verify query for " + range(segment) + " would scan "
                        + estimate + " bytes, over the cap of " + cap + " (--max-bytes-billed): raise the cap or"
                        + " verify fewer days at once; nothing was spent");
            }
        }
    }

    @Override
    public List<String> planFingerprints(List<LocalDate> days, OptionalInt queryLimit) {
        List<String> lines = new ArrayList<>();
        long total = 0;
        for (List<LocalDate> segment : segments(days)) {
            long bytes = estimate(TransferQuery.fingerprintSql(queryLimit), segment, queryLimit);
            total += bytes;
            lines.add("bigquery: one verify query for " + range(segment) + " (" + segment.size() + " day"
                    + (segment.size() == 1 ? "" : "s") + (queryLimit.isPresent() ? ", --query-limit "
                    + queryLimit.getAsInt() : "") + "), an estimated " + bytes + " bytes (" + cost(bytes)
                    + "), capped at " + cap(segment) + " bytes");
        }
        lines.add("bigquery: the verify SQL (parameters @first_day, @last_day" + (queryLimit.isPresent()
                ? ", @row_limit=" + queryLimit.getAsInt() : "") + "), estimated total " + total + " bytes:");
        lines.addAll(TransferQuery.fingerprintSql(queryLimit).lines().toList());
        return lines;
    }

    private static String cost(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB, about $%.4f on demand", bytes / (double) GIB,
                bytes / (double) (1L << 40) * USD_PER_TIB);
    }

    /** Exports reusing what a run the same UTC day finished; {@code runId} labels the jobs. */
    @Override
    public List<Manifest> export(List<LocalDate> days, String runId, OptionalInt queryLimit, Lake lake) {
        List<Manifest> manifests = new ArrayList<>();
        export(days, new ExportRequest(runId, queryLimit, false), lake, manifests::add);
        manifests.sort(java.util.Comparator.comparing(Manifest::day));
        return manifests;
    }

    @Override
    public void export(List<LocalDate> days, ExportRequest request, Lake lake, Consumer<Manifest> exported) {
        if (!lake.location().startsWith("gs://")) {
            throw new PipelineException.BadInput("The BigQuery source exports into a gs:// lake, not "
                    + lake.location() + ": give --lake gs://bucket[/prefix]");
        }
        for (List<LocalDate> segment : segments(days)) {
            exportSegment(segment, request, lake, exported);
        }
    }

    /**
     * Exports a run of consecutive days. Each day's export folder starts with a key derived from the work (the SQL,
     * the day, the limit, the project, dataset and lake) and the UTC date, or, for a fresh export, from the run id: a
     * rerun finds the days an interrupted run finished and pays only for the rest, whatever its first day. Job ids
     * derive from the days still to do, so a rerun with the same days reattaches to the jobs that are running or done.
     */
    private void exportSegment(List<LocalDate> days, ExportRequest request, Lake lake, Consumer<Manifest> exported) {
        String sql = TransferQuery.sql(request.queryLimit());
        Instant now = clock.instant();
        Map<LocalDate, String> dayKeys = new LinkedHashMap<>();
        for (LocalDate day : days) {
            dayKeys.put(day, LakeLayout.workKey(now, request.fresh() ? request.runId() : "reusable", sql,
                    day.toString(), String.valueOf(request.queryLimit()), settings.project(),
                    settings.dataset().name(), lake.location()));
        }
        java.util.Set<LocalDate> handed = new java.util.HashSet<>();
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            List<LocalDate> pending = new ArrayList<>();
            for (LocalDate day : days) {
                if (handed.contains(day)) {
                    continue;
                }
                LakeLayout.Reuse reuse = LakeLayout.reusableExport(lake, day, dayKeys.get(day));
                dayKeys.put(day, reuse.key());
                Optional<Manifest> done = reuse.manifest();
                if (done.isPresent()) {
                    log.info("Reusing the export of {} already in {}/{} ({} rows; no BigQuery job needed)", day,
                            lake.location(), LakeLayout.runPrefix(day, done.get().runId()), done.get().rows());
                    handed.add(day);
                    exported.accept(done.get());
                } else {
                    pending.add(day);
                }
            }
            if (pending.isEmpty()) {
                return;
            }
            String work = LakeLayout.workKey(now, pending.stream().map(dayKeys::get).toList()
                    .toArray(String[]::new));
            String idPart = work.replace('-', '_') + "_" + attempt;
            try {
                exportAttempt(pending, dayKeys, idPart, sql, request, lake, day -> handed.add(day), exported);
                return;
            } catch (BigQueryJobs.TransientJobFailure e) {
                log.warn("{}; redoing the export under new job ids (attempt {} of {})", e.getMessage(), attempt + 1,
                        ATTEMPTS);
                if (attempt == ATTEMPTS) {
                    throw new PipelineException.TryLater(e.getMessage() + "; gave up after " + ATTEMPTS
                            + " attempts, try again later; the old data is intact", e);
                }
            }
        }
    }

    private void exportAttempt(List<LocalDate> days, Map<LocalDate, String> dayKeys, String idPart, String sql,
                               ExportRequest request, Lake lake, Consumer<LocalDate> handed,
                               Consumer<Manifest> exported) {
        long cap = cap(days);
        long estimate = estimate(days, request.queryLimit());
        if (estimate > cap) {
            throw new PipelineException.BadInput("The query for " + range(days) + " would scan " + estimate
                    + " bytes, over the cap of " + cap + " (--max-bytes-billed): raise the cap or load fewer days"
                    + " at once; nothing was spent");
        }
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
                .setLabels(labels("query", request.runId()));
        request.queryLimit().ifPresent(n -> query.addNamedParameter("row_limit", QueryParameterValue.int64(n)));
        long t0 = System.nanoTime();
        Job q = jobs.run(JobInfo.of(jobId("crypto_pipeline_q_" + idPart), query.build()), "query " + range(days));
        JobStatistics.QueryStatistics stats = q.getStatistics();
        log.info("BigQuery job {} staged {} into {}.{}: {} bytes billed, in {} ms", q.getJobId().getJob(), range(days),
                settings.dataset(), table, stats == null ? "?" : stats.getTotalBytesBilled(),
                (System.nanoTime() - t0) / 1_000_000);
        Map<LocalDate, Long> rows = stagedRows(table, idPart, days, request.runId());

        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(settings.extractThreads(),
                days.size())));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (LocalDate day : days) {
                String folder = dayKeys.get(day) + "-" + idPart.substring(idPart.indexOf('_') + 1).replace('_', '-');
                futures.add(pool.submit(() -> {
                    Manifest m = extractDay(day, folder, idPart, table, q, rows.get(day), request, lake);
                    handed.accept(day);
                    exported.accept(m);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new PipelineException.Failed("Export failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PipelineException.Interrupted("Interrupted while exporting " + range(days));
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The rows of each day in the staging table, counted over the table itself by one query (it reads only the
     * timestamps: 8 bytes a row). A day with no row in the answer has no rows; rows of any other day, or of no day,
     * fail the data check: nothing is exported from a table that holds what the query was not asked for.
     */
    private Map<LocalDate, Long> stagedRows(String table, String idPart, List<LocalDate> days, String runId) {
        QueryJobConfiguration config = QueryJobConfiguration.newBuilder(
                        TransferQuery.stagingCountsSql(settings.project(), settings.dataset(), table))
                .setUseLegacySql(false)
                .setMaximumBytesBilled(cap(days))
                .setLabels(labels("counts", runId))
                .build();
        Job job = jobs.run(JobInfo.of(jobId("crypto_pipeline_p_" + idPart), config), "row counts of " + table);
        Map<LocalDate, Long> perDay = new LinkedHashMap<>();
        days.forEach(d -> perDay.put(d, 0L));
        try {
            for (FieldValueList row : results(job, "read the row counts of " + table).iterateAll()) {
                long n = row.get("row_count").getLongValue();
                LocalDate day = row.get("day").isNull() ? null : LocalDate.parse(row.get("day").getStringValue());
                if (day == null || !perDay.containsKey(day)) {
                    throw new PipelineException.DataCheck("The staging table " + settings.dataset() + "." + table
                            + " has " + n + " rows of " + (day == null ? "no day" : day) + ", outside the days "
                            + range(days) + "; the old data was kept");
                }
                perDay.put(day, n);
            }
        } catch (IllegalArgumentException | java.time.DateTimeException | NullPointerException e) {
            // An answer without the columns asked for, or with values that are not a day and a count.
            throw new PipelineException.DataCheck("BigQuery job " + job.getJobId().getJob() + " answered the row"
                    + " counts of " + settings.dataset() + "." + table + " with something else (" + e.getMessage()
                    + "); the old data was kept", e);
        }
        return perDay;
    }

    private Manifest extractDay(LocalDate day, String folderId, String idPart, String table, Job query, long rows,
                                ExportRequest request, Lake lake) throws IOException {
        TableId partition = TableId.of(settings.project(), settings.dataset().name(), table + "$" + BASIC.format(day));
        String folder = LakeLayout.runPrefix(day, folderId);
        List<String> sourceJobs = new ArrayList<>(List.of(query.getJobId().getJob()));
        if (rows > 0) {
            String uri = lake.location() + "/" + folder + "part-*.csv.gz";
            ExtractJobConfiguration extract = ExtractJobConfiguration.newBuilder(partition, uri)
                    .setFormat("CSV")
                    .setCompression("GZIP")
                    .setPrintHeader(false)
                    .setLabels(labels("extract", request.runId()))
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
            throw new PipelineException.DataCheck("The BigQuery extract of " + day + " (" + rows + " rows) wrote no"
                    + " files into " + lake.location() + "/" + folder + "; the old data of the day was kept");
        }
        Manifest manifest = new Manifest(day, folderId, name(), rows, TransferColumn.names(), files, sourceJobs,
                request.queryLimit().isPresent() ? request.queryLimit().getAsInt() : null, clock.instant());
        try {
            LakeLayout.writeManifest(lake, manifest);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // Another run with the same work (a second schema on the same lake) reattached to the same jobs and wrote
            // the manifest first: the same export, which this run uses if it says the same.
            Manifest theirs = LakeLayout.readManifest(lake, day, folderId);
            if (theirs.rows() != rows || !theirs.files().equals(files)) {
                throw new PipelineException.DataCheck("The export of " + day + " in " + lake.location() + "/"
                        + folder + " already has a manifest that says " + theirs.rows() + " rows in "
                        + theirs.files().size() + " files, not " + rows + " in " + files.size()
                        + "; the old data of the day was kept");
            }
            log.info("Another run wrote the manifest of {} in {}/{} first; using it", day, lake.location(), folder);
            return theirs;
        }
        log.info("Exported {} rows for {} into {} files of {}/{}", rows, day, files.size(), lake.location(), folder);
        return manifest;
    }

    private TableResult results(Job job, String what) {
        return jobs.call(what, () -> {
            try {
                return job.getQueryResults();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PipelineException.Interrupted("Interrupted while waiting for BigQuery");
            }
        });
    }

    private long estimate(List<LocalDate> days, OptionalInt queryLimit) {
        return estimate(TransferQuery.sql(queryLimit), days, queryLimit);
    }

    /** The bytes a dry run of {@code sql} over {@code days} says it would scan; dry runs are free. */
    private long estimate(String sql, List<LocalDate> days, OptionalInt queryLimit) {
        String key = days.get(0) + ".." + days.get(days.size() - 1) + "/" + queryLimit + "/" + sql.hashCode();
        Long cached = estimates.get(key);
        if (cached != null) {
            return cached;
        }
        QueryJobConfiguration.Builder dry = QueryJobConfiguration.newBuilder(sql)
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
        long estimate = bytes == null ? 0 : bytes;
        estimates.put(key, estimate);
        return estimate;
    }

    /** The cap of the metadata queries: the user's cap, else 1 GiB (they are billed 10 MB). */
    private long metadataCap() {
        return settings.maxBytesBilled().orElse(GIB);
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

    private static String range(List<LocalDate> days) {
        return days.size() == 1 ? days.get(0).toString() : days.get(0) + ".." + days.get(days.size() - 1);
    }

}
