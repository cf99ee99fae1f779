package dev.cryptopipeline.source;

import dev.cryptopipeline.lake.Fingerprint;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LakeLayout;
import dev.cryptopipeline.lake.Manifest;
import dev.cryptopipeline.lake.TransferColumn;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.zip.GZIPOutputStream;

/**
 * The BigQuery source with ZetaSQL in BigQuery's place: the production SQL ({@link TransferQuery#sql}) runs over
 * {@link GoogleSqlEngine}'s tables, once per run of consecutive days as BigQuery's staging query does; its rows are
 * split by UTC day as the day-partitioned staging table splits them, and each day is written as a BigQuery extract
 * writes it: gzip CSV without header, TIMESTAMP as {@code 2024-01-01 00:00:05[.250000] UTC}, a string quoted only
 * when it holds a comma, quote or line break (quotes doubled), NULL as an empty field; more than one row goes into two
 * part files. Then the manifest, last, as {@link BigQuerySource} writes it.
 */
final class GoogleSqlSource implements Source {
    private static final DateTimeFormatter SECONDS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    private final GoogleSqlEngine engine;
    /** The parameters of every query run, in order. */
    final List<Map<String, Object>> queries = new ArrayList<>();
    /** The parameters of every verify query run, in order. */
    final List<Map<String, Object>> fingerprintQueries = new ArrayList<>();

    GoogleSqlSource(GoogleSqlEngine engine) {
        this.engine = engine;
    }

    @Override
    public String name() {
        return "bigquery";
    }

    @Override
    public LocalDate lastFinishedDay(Instant now) {
        return LocalDate.ofInstant(now, ZoneOffset.UTC).minusDays(1);
    }

    @Override
    public List<Manifest> export(List<LocalDate> days, String runId, OptionalInt queryLimit, Lake lake) {
        List<Manifest> manifests = new ArrayList<>();
        int start = 0;
        for (int i = 1; i <= days.size(); i++) {
            if (i == days.size() || !days.get(i - 1).plusDays(1).equals(days.get(i))) {
                manifests.addAll(exportRange(days.subList(start, i), runId, queryLimit, lake));
                start = i;
            }
        }
        return manifests;
    }

    private List<Manifest> exportRange(List<LocalDate> days, String runId, OptionalInt queryLimit, Lake lake) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("first_day", days.get(0));
        params.put("last_day", days.get(days.size() - 1));
        queryLimit.ifPresent(n -> params.put("row_limit", (long) n));
        queries.add(params);
        GoogleSqlEngine.Result result = engine.execute(TransferQuery.sql(queryLimit), params);
        if (!result.names().equals(TransferColumn.names())) {
            throw new IllegalStateException("The query returns " + result.names() + ", the lake holds "
                    + TransferColumn.names());
        }
        Map<LocalDate, List<String>> lines = new LinkedHashMap<>();
        days.forEach(d -> lines.put(d, new ArrayList<>()));
        for (List<Object> row : result.rows()) {
            LocalDate day = LocalDate.ofInstant((Instant) row.get(0), ZoneOffset.UTC);
            List<String> dayLines = lines.get(day);
            if (dayLines == null) {
                throw new IllegalStateException("The query for " + days.get(0) + ".." + days.get(days.size() - 1)
                        + " returned a row of " + day + ": " + row);
            }
            dayLines.add(csvLine(row));
        }
        List<Manifest> manifests = new ArrayList<>();
        try {
            for (Map.Entry<LocalDate, List<String>> e : lines.entrySet()) {
                manifests.add(writeDay(e.getKey(), e.getValue(), runId, queryLimit, lake));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return manifests;
    }

    private Manifest writeDay(LocalDate day, List<String> rows, String runId, OptionalInt queryLimit, Lake lake)
            throws IOException {
        String folder = LakeLayout.runPrefix(day, runId);
        List<Manifest.DataFile> files = new ArrayList<>();
        // Like an extract job: no file for an empty partition, else part files named by a 12-digit wildcard.
        List<List<String>> parts = rows.size() > 1
                ? List.of(rows.subList(0, rows.size() / 2), rows.subList(rows.size() / 2, rows.size()))
                : rows.isEmpty() ? List.of() : List.of(rows);
        for (int i = 0; i < parts.size(); i++) {
            String name = String.format("part-%012d.csv.gz", i);
            try (OutputStream out = lake.create(folder + name);
                 Writer w = new OutputStreamWriter(new GZIPOutputStream(out), StandardCharsets.UTF_8)) {
                for (String line : parts.get(i)) {
                    w.write(line);
                }
            }
            long bytes = lake.list(folder + name).get(0).size();
            files.add(new Manifest.DataFile(name, bytes));
        }
        Manifest manifest = new Manifest(day, runId, name(), rows.size(), TransferColumn.names(), files,
                List.of("googlesql"), queryLimit.isPresent() ? queryLimit.getAsInt() : null, Instant.now());
        LakeLayout.writeManifest(lake, manifest);
        return manifest;
    }

    /** One row as a BigQuery CSV extract writes it, with its line break. */
    static String csvLine(List<Object> row) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < row.size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append(csvField(row.get(i)));
        }
        return b.append('\n').toString();
    }

    static String csvField(Object value) {
        if (value == null) {
            return "";
        }
        if (value instanceof Instant t) {
            int micros = t.getNano() / 1000;
            return SECONDS.format(t) + (micros == 0 ? "" : String.format(".%06d", micros)) + " UTC";
        }
        String s = value.toString();
        if (value instanceof String && (s.contains(",") || s.contains("\"") || s.contains("\n")
                || s.contains("\r"))) {
            return '"' + s.replace("\"", "\"\"") + '"';
        }
        return s;
    }

    /** The verify query ({@link TransferQuery#fingerprintSql}) run by ZetaSQL, one query for the days' range. */
    @Override
    public Map<LocalDate, Fingerprint.Day> fingerprints(List<LocalDate> days, OptionalInt queryLimit) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("first_day", days.get(0));
        params.put("last_day", days.get(days.size() - 1));
        queryLimit.ifPresent(n -> params.put("row_limit", (long) n));
        fingerprintQueries.add(params);
        Map<LocalDate, Fingerprint.Day> out = new LinkedHashMap<>();
        days.forEach(d -> out.put(d, Fingerprint.Day.EMPTY));
        for (Map<String, Object> row : engine.execute(TransferQuery.fingerprintSql(queryLimit), params).maps()) {
            LocalDate day = (LocalDate) row.get("day");
            if (out.containsKey(day)) {
                out.put(day, new Fingerprint.Day((Long) row.get("row_count"),
                        new java.math.BigInteger((String) row.get("fingerprint"))));
            }
        }
        return out;
    }

    @Override
    public List<String> plan(List<LocalDate> days, OptionalInt queryLimit) {
        return List.of("googlesql: " + days.size() + " days through ZetaSQL");
    }
}
