package dev.cryptopipeline.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.function.UnaryOperator;
import java.util.zip.GZIPInputStream;
import dev.cryptopipeline.lake.Fingerprint;

/**
 * A local HTTP fake of the BigQuery REST API, enough for the real google-cloud-bigquery client: datasets insert/get,
 * jobs insert/get (echoing the configuration), query results, tables get (with partition decorators). Its "source
 * data" is a number of rows per day (the synthetic source's rows of the day, changed by {@link #edits}); a query job
 * into a staging table stages them (honouring {@code @row_limit}), an extract job of {@code table$YYYYMMDD} hands the
 * day's rows to {@link #extractWriter}, which writes the files into the fake GCS, and the verify query returns each
 * day's row count and fingerprint over the same rows. It records every request and replays failures on demand.
 */
final class FakeBigQuery implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A request as it arrived: method, path, query string and decoded (gunzipped) JSON body. */
    record Request(String method, String path, String query, JsonNode body) {
    }

    /** Writes the extract of one day: {@code uri} has a '*' wildcard as BigQuery's export does. */
    interface ExtractWriter {
        void write(String uri, LocalDate day, long rows) throws IOException;
    }

    private final HttpServer server;
    final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    final Map<String, ObjectNode> jobs = new ConcurrentHashMap<>();
    final Map<String, ObjectNode> datasets = new ConcurrentHashMap<>();
    /** Staging tables: table name → rows per day. */
    final Map<String, Map<LocalDate, Long>> tables = new ConcurrentHashMap<>();
    /** The source's rows per day: {@link SyntheticSource}'s rows of the day, generated for that volume. */
    final Map<LocalDate, Long> sourceRows = new TreeMap<>();
    /**
     * Changes to a day's rows at the source, as the export query would see them after its cleaning (a rewritten
     * partition, a reorg): applied to the generated rows before anything reads them.
     */
    final Map<LocalDate, UnaryOperator<List<SyntheticSource.Transfer>>> edits = new ConcurrentHashMap<>();
    /** HTTP codes to answer the next jobs.insert calls with, in order. */
    final Deque<Integer> insertFailures = new ArrayDeque<>();
    /** Job id prefix → [reason, message]: such jobs end with that error (each once). */
    final Map<String, String[]> jobErrors = new ConcurrentHashMap<>();
    /** The error reason to answer an HTTP code of {@link #insertFailures} with, when not the usual one. */
    final Map<Integer, String> failureReasons = new ConcurrentHashMap<>();
    /** Whether {@link #insertFailures} happen after the job was created (the answer is lost, not the job). */
    volatile boolean failAfterCreating;
    /** How many polls a new job stays RUNNING. */
    volatile int runningPolls;
    final Map<String, Integer> pollsLeft = new ConcurrentHashMap<>();
    volatile long dryRunBytes = 987_654_321L;
    /** What a dry run of the verify query says it would scan, when not {@link #dryRunBytes}. */
    volatile Long verifyDryRunBytes;
    /**
     * The last modification of the newest source partition, for the completeness check. By default today's daily
     * rewrite (about 08:00 UTC) has run, so yesterday is finished whatever the hour the tests run: with "now" it was
     * not between 00:00 and 08:00 UTC.
     */
    volatile Instant lastModified = LocalDate.now(ZoneOffset.UTC).atTime(8, 30).toInstant(ZoneOffset.UTC);
    volatile ExtractWriter extractWriter = (uri, day, rows) -> { };
    /** When set, the staging row counts come back in columns other than those asked for. */
    volatile boolean garbledCounts;
    /** When set, the staging row counts include 3 rows of no day. */
    volatile boolean strayCount;
    /** The rows of {@code load_metadata}: day → complete_at. */
    final Map<LocalDate, Instant> loadMetadata = new ConcurrentHashMap<>();

    FakeBigQuery() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }

    /**
     * The rows the transfer query returns for a day now: the generated rows, edited, in (block_number, log_index)
     * order, the order a --query-limit keeps the first of.
     */
    List<SyntheticSource.Transfer> rows(LocalDate day) {
        long n = sourceRows.getOrDefault(day, 0L);
        SyntheticSource.Generator gen = new SyntheticSource.Generator(day, (int) Math.max(n, 1));
        List<SyntheticSource.Transfer> rows = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            rows.add(gen.next());
        }
        rows = new ArrayList<>(edits.getOrDefault(day, r -> r).apply(rows));
        rows.sort(java.util.Comparator.comparingLong(SyntheticSource.Transfer::blockNumber)
                .thenComparingInt(SyntheticSource.Transfer::logIndex));
        return rows;
    }

    /** The bodies of the job inserts, in order (dry runs included). */
    List<JsonNode> jobInserts() {
        synchronized (requests) {
            return requests.stream().filter(r -> r.method().equals("POST") && r.path().endsWith("/jobs"))
                    .map(Request::body).toList();
        }
    }

    /** Registers a job as a previous process left it: created, maybe still running. */
    void preexistingJob(String project, String jobId, JsonNode configuration, int polls) throws IOException {
        ObjectNode job = newJob(project, jobId, "US", (ObjectNode) configuration.deepCopy());
        apply(job);
        pollsLeft.put(jobId, polls);
        job.with("status").put("state", polls > 0 ? "RUNNING" : "DONE");
        jobs.put(jobId, job);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            String path = URLDecoder.decode(ex.getRequestURI().getRawPath(), StandardCharsets.UTF_8);
            String query = ex.getRequestURI().getRawQuery();
            JsonNode body = readBody(ex);
            requests.add(new Request(method, path, query, body));
            String[] p = path.replaceFirst("^/bigquery/v2/", "").split("/");
            // projects/{p}/...
            if (p.length >= 3 && p[2].equals("jobs") && method.equals("POST")) {
                insertJob(ex, p[1], (ObjectNode) body);
            } else if (p.length == 4 && p[2].equals("jobs") && method.equals("GET")) {
                getJob(ex, p[3]);
            } else if (p.length == 4 && p[2].equals("queries")) {
                queryResults(ex, p[1], p[3]);
            } else if (p.length == 3 && p[2].equals("datasets") && method.equals("POST")) {
                ObjectNode ds = (ObjectNode) body;
                datasets.put(ds.path("datasetReference").path("datasetId").asText(), ds);
                ds.put("id", p[1] + ":" + ds.path("datasetReference").path("datasetId").asText());
                send(ex, 200, ds);
            } else if (p.length == 4 && p[2].equals("datasets") && method.equals("GET")) {
                ObjectNode ds = datasets.get(p[3]);
                if (ds == null) {
                    error(ex, 404, "notFound", "Not found: Dataset " + p[1] + ":" + p[3]);
                } else {
                    send(ex, 200, ds);
                }
            } else if (p.length == 7 && p[2].equals("datasets") && p[4].equals("tables") && p[6].equals("data")) {
                tableData(ex, p[5]);
            } else if (p.length == 6 && p[2].equals("datasets") && p[4].equals("tables")) {
                getTable(ex, p[1], p[3], p[5]);
            } else {
                error(ex, 404, "notFound", "The fake does not know " + method + " " + path);
            }
        } catch (RuntimeException e) {
            e.printStackTrace();
            throw e;
        }
    }

    private void insertJob(HttpExchange ex, String project, ObjectNode body) throws IOException {
        ObjectNode configuration = (ObjectNode) body.path("configuration").deepCopy();
        Integer failure = null;
        if (!configuration.path("dryRun").asBoolean(false)) {
            synchronized (insertFailures) {
                failure = insertFailures.poll();
            }
        }
        if (failure != null && !failAfterCreating) {
            String reason = failureReasons.getOrDefault(failure, switch (failure) {
                case 429 -> "rateLimitExceeded";
                case 400 -> "invalid";
                case 403 -> "accessDenied";
                case 404 -> "notFound";
                default -> "backendError";
            });
            error(ex, failure, reason, reason.equals("rateLimitExceeded") ? "Exceeded rate limits: too many api"
                    + " requests" : "The fake says " + reason);
            return;
        }
        String jobId = body.path("jobReference").path("jobId").asText("job_" + System.nanoTime());
        String location = body.path("jobReference").path("location").asText("US");
        if (configuration.path("dryRun").asBoolean(false)) {
            ObjectNode job = newJob(project, jobId, location, configuration);
            boolean verify = configuration.path("query").path("query").asText().contains("AS fingerprint");
            job.with("statistics").with("query").put("totalBytesProcessed", Long.toString(
                    verify && verifyDryRunBytes != null ? verifyDryRunBytes : dryRunBytes));
            send(ex, 200, job);
            return;
        }
        if (jobs.containsKey(jobId)) {
            error(ex, 409, "duplicate", "Already Exists: Job " + project + ":" + location + "." + jobId);
            return;
        }
        ObjectNode job = newJob(project, jobId, location, configuration);
        for (var e : jobErrors.entrySet()) {
            if (jobId.startsWith(e.getKey())) {
                jobErrors.remove(e.getKey());
                job.with("status").set("errorResult", JSON.createObjectNode().put("reason", e.getValue()[0])
                        .put("message", e.getValue()[1]));
                jobs.put(jobId, job);
                send(ex, 200, job);
                return;
            }
        }
        apply(job);
        if (runningPolls > 0) {
            pollsLeft.put(jobId, runningPolls);
            job.with("status").put("state", "RUNNING");
        }
        jobs.put(jobId, job);
        if (failure != null) {
            // The job was created, but the answer is lost: the client must not create it twice.
            error(ex, failure, "backendError", "Backend error, try again");
            return;
        }
        send(ex, 200, job);
    }

    private ObjectNode newJob(String project, String jobId, String location, ObjectNode configuration) {
        ObjectNode job = JSON.createObjectNode();
        job.put("kind", "bigquery#job");
        job.put("id", project + ":" + location + "." + jobId);
        job.putObject("jobReference").put("projectId", project).put("jobId", jobId).put("location", location);
        job.set("configuration", configuration);
        job.putObject("status").put("state", "DONE");
        ObjectNode stats = job.putObject("statistics");
        stats.put("creationTime", Long.toString(System.currentTimeMillis()));
        stats.put("startTime", Long.toString(System.currentTimeMillis()));
        stats.put("endTime", Long.toString(System.currentTimeMillis()));
        if (configuration.has("query") && !configuration.path("query").has("destinationTable")
                && !configuration.path("dryRun").asBoolean()) {
            // As BigQuery does: a query's results land in an anonymous table.
            configuration.with("query").putObject("destinationTable").put("projectId", project)
                    .put("datasetId", "_anonymous").put("tableId", "anon_" + jobId);
        }
        if (configuration.has("query")) {
            stats.putObject("query").put("totalBytesProcessed", Long.toString(dryRunBytes))
                    .put("totalBytesBilled", Long.toString(dryRunBytes));
        }
        return job;
    }

    /** The job's effect on the fake's world: staging a query's rows, or writing an extract's files. */
    private void apply(ObjectNode job) throws IOException {
        JsonNode c = job.path("configuration");
        Map<String, String> params = new HashMap<>();
        for (JsonNode qp : c.path("query").path("queryParameters")) {
            params.put(qp.path("name").asText(), qp.path("parameterValue").path("value").asText());
        }
        if (c.has("query") && params.containsKey("first_day")) {
            LocalDate first = LocalDate.parse(params.get("first_day"));
            LocalDate last = LocalDate.parse(params.get("last_day"));
            long limit = params.containsKey("row_limit") ? Long.parseLong(params.get("row_limit")) : Long.MAX_VALUE;
            Map<LocalDate, Long> staged = new TreeMap<>();
            for (LocalDate d = first; !d.isAfter(last); d = d.plusDays(1)) {
                long rows = Math.min(limit, rows(d).size());
                if (rows > 0) {
                    staged.put(d, rows);
                }
            }
            tables.put(c.path("query").path("destinationTable").path("tableId").asText(), staged);
        } else if (c.has("extract")) {
            String source = c.path("extract").path("sourceTable").path("tableId").asText();
            String[] parts = source.split("\\$");
            LocalDate day = LocalDate.parse(parts[1], DateTimeFormatter.BASIC_ISO_DATE);
            long rows = tables.getOrDefault(parts[0], Map.of()).getOrDefault(day, 0L);
            extractWriter.write(c.path("extract").path("destinationUris").get(0).asText(), day, rows);
            job.with("statistics").putObject("extract").putArray("destinationUriFileCounts").add("1");
        }
    }

    private void getJob(HttpExchange ex, String jobId) throws IOException {
        ObjectNode job = jobs.get(jobId);
        if (job == null) {
            error(ex, 404, "notFound", "Not found: Job " + jobId);
            return;
        }
        int left = pollsLeft.getOrDefault(jobId, 0);
        if (left > 0) {
            pollsLeft.put(jobId, left - 1);
            job.with("status").put("state", left - 1 > 0 ? "RUNNING" : "DONE");
        }
        send(ex, 200, job);
    }

    private void queryResults(HttpExchange ex, String project, String jobId) throws IOException {
        ObjectNode job = jobs.get(jobId);
        if (job == null) {
            error(ex, 404, "notFound", "Not found: Job " + jobId);
            return;
        }
        ObjectNode r = JSON.createObjectNode();
        r.put("kind", "bigquery#getQueryResultsResponse");
        r.set("jobReference", job.path("jobReference"));
        r.put("jobComplete", true);
        ArrayNode rows = results(job, r.putObject("schema").putArray("fields"));
        r.set("rows", rows);
        r.put("totalRows", Integer.toString(rows.size()));
        send(ex, 200, r);
    }

    private void tableData(HttpExchange ex, String table) throws IOException {
        ObjectNode job = jobs.get(table.replaceFirst("^anon_", ""));
        if (job == null) {
            error(ex, 404, "notFound", "Not found: Table " + table);
            return;
        }
        ObjectNode r = JSON.createObjectNode();
        r.put("kind", "bigquery#tableDataList");
        ArrayNode rows = results(job, JSON.createArrayNode());
        r.set("rows", rows);
        r.put("totalRows", Integer.toString(rows.size()));
        send(ex, 200, r);
    }

    /** The result rows of a query job (the completeness check's), adding the schema's fields to {@code fields}. */
    private ArrayNode results(ObjectNode job, ArrayNode fields) {
        String sql = job.path("configuration").path("query").path("query").asText();
        ArrayNode rows = JSON.createArrayNode();
        Map<String, String> params = new HashMap<>();
        for (JsonNode qp : job.path("configuration").path("query").path("queryParameters")) {
            params.put(qp.path("name").asText(), qp.path("parameterValue").path("value").asText());
        }
        if (sql.startsWith("SELECT DATE(block_timestamp) AS day, COUNT(*) AS row_count FROM `")) {
            // The row count of each day of a staging table.
            String table = sql.substring(sql.indexOf('`') + 1, sql.lastIndexOf('`'));
            table = table.substring(table.lastIndexOf('.') + 1);
            if (garbledCounts) {
                fields.addObject().put("name", "partition_id").put("type", "STRING").put("mode", "NULLABLE");
                rows.addObject().putArray("f").addObject().put("v", "20240101");
                return rows;
            }
            fields.addObject().put("name", "day").put("type", "DATE").put("mode", "NULLABLE");
            fields.addObject().put("name", "row_count").put("type", "INTEGER").put("mode", "NULLABLE");
            for (var e : tables.getOrDefault(table, Map.of()).entrySet()) {
                ArrayNode f = rows.addObject().putArray("f");
                f.addObject().put("v", e.getKey().toString());
                f.addObject().put("v", Long.toString(e.getValue()));
            }
            if (strayCount) {
                ArrayNode f = rows.addObject().putArray("f");
                f.addObject().putNull("v");
                f.addObject().put("v", "3");
            }
        } else if (sql.equals(TransferQuery.loadMetadataSql())) {
            fields.addObject().put("name", "ds").put("type", "DATE").put("mode", "NULLABLE");
            fields.addObject().put("name", "complete_at").put("type", "TIMESTAMP").put("mode", "NULLABLE");
            Instant at = loadMetadata.get(LocalDate.parse(params.get("day")));
            if (at != null) {
                ArrayNode f = rows.addObject().putArray("f");
                f.addObject().put("v", params.get("day"));
                f.addObject().put("v", String.format("%d.%06d", at.getEpochSecond(), at.getNano() / 1000));
            }
        } else if (sql.equals(TransferQuery.fingerprintSql(params.containsKey("row_limit")
                ? java.util.OptionalInt.of(Integer.parseInt(params.get("row_limit")))
                : java.util.OptionalInt.empty()))) {
            // The verify query: each day's rows and fingerprint, as the real query computes them over the same rows.
            fields.addObject().put("name", "day").put("type", "DATE").put("mode", "NULLABLE");
            fields.addObject().put("name", "row_count").put("type", "INTEGER").put("mode", "NULLABLE");
            fields.addObject().put("name", "fingerprint").put("type", "STRING").put("mode", "NULLABLE");
            long limit = params.containsKey("row_limit") ? Long.parseLong(params.get("row_limit")) : Long.MAX_VALUE;
            for (LocalDate d = LocalDate.parse(params.get("first_day")); !d.isAfter(LocalDate.parse(
                    params.get("last_day"))); d = d.plusDays(1)) {
                List<SyntheticSource.Transfer> day = rows(d);
                Fingerprint.Accumulator sum = new Fingerprint.Accumulator();
                day.stream().limit(limit).forEach(t -> sum.add(t.values()));
                if (sum.day().rows() > 0) {
                    ArrayNode f = rows.addObject().putArray("f");
                    f.addObject().put("v", d.toString());
                    f.addObject().put("v", Long.toString(sum.day().rows()));
                    f.addObject().put("v", sum.day().sum().toString());
                }
            }
        } else if (sql.contains("INFORMATION_SCHEMA.PARTITIONS")) {
            fields.addObject().put("name", "partition_id").put("type", "STRING").put("mode", "NULLABLE");
            fields.addObject().put("name", "last_modified_time").put("type", "TIMESTAMP").put("mode", "NULLABLE");
            ArrayNode f = rows.addObject().putArray("f");
            f.addObject().put("v", params.get("partition"));
            f.addObject().put("v", String.format("%d.%06d", lastModified.getEpochSecond(),
                    lastModified.getNano() / 1000));
        }
        return rows;
    }

    private void getTable(HttpExchange ex, String project, String dataset, String table) throws IOException {
        String[] parts = table.split("\\$");
        Map<LocalDate, Long> staged = tables.get(parts[0]);
        if (staged == null) {
            error(ex, 404, "notFound", "Not found: Table " + project + ":" + dataset + "." + table);
            return;
        }
        long rows = parts.length == 1 ? staged.values().stream().mapToLong(Long::longValue).sum()
                : staged.getOrDefault(LocalDate.parse(parts[1], DateTimeFormatter.BASIC_ISO_DATE), 0L);
        ObjectNode t = JSON.createObjectNode();
        t.put("kind", "bigquery#table");
        t.put("id", project + ":" + dataset + "." + table);
        t.putObject("tableReference").put("projectId", project).put("datasetId", dataset).put("tableId", table);
        t.put("numRows", Long.toString(rows));
        t.put("type", "TABLE");
        send(ex, 200, t);
    }

    private static JsonNode readBody(HttpExchange ex) throws IOException {
        InputStream in = ex.getRequestBody();
        if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
            in = new GZIPInputStream(in);
        }
        byte[] bytes = in.readAllBytes();
        return bytes.length == 0 ? JSON.createObjectNode() : JSON.readTree(bytes);
    }

    private static void error(HttpExchange ex, int code, String reason, String message) throws IOException {
        ObjectNode e = JSON.createObjectNode();
        ObjectNode err = e.putObject("error");
        err.put("code", code);
        err.put("message", message);
        err.putArray("errors").addObject().put("reason", reason).put("message", message).put("domain", "global");
        send(ex, code, e);
    }

    private static void send(HttpExchange ex, int code, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().add("Content-Type", "application/json; charset=UTF-8");
        ex.sendResponseHeaders(code, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
