package dev.cryptopipeline.source;

import com.google.cloud.NoCredentials;
import com.google.cloud.ServiceOptions;
import com.google.cloud.bigquery.BigQuery;
import com.google.cloud.bigquery.BigQueryOptions;
import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.lake.FakeGcs;
import dev.cryptopipeline.lake.TestStorage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPOutputStream;

/**
 * Wires the real BigQuery client to {@link FakeBigQuery}, and the fake's extracts to a {@link TestStorage} or a
 * {@link FakeGcs}.
 */
public final class BigQueryExports {
    public static final String PROJECT = "test-project";
    public static final BigQueryJobs.Timing FAST = new BigQueryJobs.Timing(Duration.ofMillis(5),
            Duration.ofMillis(40), 4, Duration.ofSeconds(30));

    private BigQueryExports() {
    }

    public static BigQuery client(FakeBigQuery fake) {
        return BigQueryOptions.newBuilder().setProjectId(PROJECT).setLocation("US").setHost(fake.endpoint())
                .setCredentials(NoCredentials.getInstance()).setRetrySettings(ServiceOptions.getNoRetrySettings())
                .build().getService();
    }

    public static BigQuerySource source(FakeBigQuery fake, Optional<Long> cap, Clock clock) {
        BigQuery client = client(fake);
        return new BigQuerySource(client, new BigQueryJobs(client, FAST), new BigQuerySource.Settings(PROJECT,
                new Identifier("staging"), "US", cap, 3, 4), clock);
    }

    /**
     * Makes the fake's extract jobs write the day's rows as BigQuery does: gzip CSV without header, timestamps as
     * {@code YYYY-MM-DD HH:MM:SS UTC}, split into two files when there is more than one row.
     */
    public static void writeExtractsInto(FakeBigQuery fake, TestStorage gcs) {
        fake.extractWriter = extracts(fake, gcs::writeGzip);
    }

    /** The same, into a Cloud Storage served over HTTP; as for BigQuery, the bucket must exist. */
    public static void writeExtractsInto(FakeBigQuery fake, FakeGcs gcs) {
        fake.extractWriter = extracts(fake, (bucket, name, content) -> gcs.put(bucket, name, gzip(content)));
    }

    /** Writes one file of an extract, given its uncompressed content. */
    private interface ExtractFile {
        void write(String bucket, String name, String content) throws IOException;
    }

    /** The extract of a staged day: the first {@code rows} of the fake's rows of the day (all, without a limit). */
    private static FakeBigQuery.ExtractWriter extracts(FakeBigQuery fake, ExtractFile files) {
        return (uri, day, rows) -> {
            String path = uri.substring("gs://".length());
            String bucket = path.substring(0, path.indexOf('/'));
            String name = path.substring(path.indexOf('/') + 1);
            List<SyntheticSource.Transfer> source = fake.rows(day);
            StringBuilder[] parts = {new StringBuilder(), new StringBuilder()};
            for (int i = 0; i < rows; i++) {
                StringWriter w = new StringWriter();
                source.get(i).write(new CopyCsv(w));
                String row = w.toString();
                // BigQuery writes TIMESTAMP as "2024-01-01 00:00:05 UTC".
                row = row.substring(0, 10) + " " + row.substring(11, 19) + " UTC" + row.substring(20);
                parts[i < rows / 2 ? 0 : 1].append(row);
            }
            for (int i = 0; i < parts.length; i++) {
                if (parts[i].length() > 0 || (i == 0 && rows == 0)) {
                    files.write(bucket, name.replace("*", String.format("%012d", i)), parts[i].toString());
                }
            }
        };
    }

    private static byte[] gzip(String content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(content.getBytes(StandardCharsets.UTF_8));
        }
        return bytes.toByteArray();
    }

}
