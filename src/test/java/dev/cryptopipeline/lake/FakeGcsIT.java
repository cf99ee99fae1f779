package dev.cryptopipeline.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.api.gax.retrying.RetrySettings;
import com.google.cloud.NoCredentials;
import com.google.cloud.ReadChannel;
import com.google.cloud.storage.BlobId;
import com.google.cloud.storage.BlobInfo;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageOptions;
import dev.cryptopipeline.ChildRun;
import dev.cryptopipeline.TestPostgres;
import dev.cryptopipeline.lake.FakeGcs.Kind;
import dev.cryptopipeline.lake.FakeGcs.Request;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real google-cloud-storage client, and the real {@link GcsLake} over it, against {@link FakeGcs} over HTTP. */
class FakeGcsIT {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dataDir;
    FakeGcs gcs;
    Storage storage;

    @BeforeEach
    void start() throws IOException {
        gcs = new FakeGcs();
        storage = options().build().getService();
    }

    /** The client's options as cli/GoogleCloud builds them for --gcs-endpoint. */
    private StorageOptions.Builder options() {
        return StorageOptions.newBuilder().setHost(gcs.endpoint()).setProjectId("p")
                .setCredentials(NoCredentials.getInstance());
    }

    @AfterEach
    void stop() throws Exception {
        storage.close();
        gcs.close();
    }

    private GcsLake lake() {
        return new GcsLake(storage, "gs://lake/eth", "US", 14);
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static void write(Lake lake, String key, byte[] content) throws IOException {
        try (OutputStream out = lake.create(key)) {
            out.write(content);
        }
    }

    private static byte[] readBack(Lake lake, String key) throws IOException {
        try (InputStream in = lake.open(key)) {
            return in.readAllBytes();
        }
    }

    @Test
    void prepare_creates_the_bucket_with_its_lifecycle_rule_then_finds_it() {
        // given
        GcsLake lake = lake();
        // when
        boolean first = lake.prepare();
        boolean second = lake.prepare();
        String retention = lake.retention();
        // then
        assertThat(first).isTrue();
        assertThat(second).isFalse();
        assertThat(retention).isEqualTo("objects deleted after 14 days");
        JsonNode bucket = gcs.bucket("lake").orElseThrow();
        assertThat(bucket.path("location").asText()).isEqualTo("US");
        JsonNode rule = bucket.at("/lifecycle/rule/0");
        assertThat(rule.at("/action/type").asText()).isEqualTo("Delete");
        assertThat(rule.at("/condition/age").asInt()).isEqualTo(14);
        assertThat(rule.at("/condition/matchesPrefix/0").asText()).isEqualTo("eth/token_transfers/");
        assertThat(gcs.requests()).extracting(Request::kind)
                .containsExactly(Kind.BUCKET_GET, Kind.BUCKET_INSERT, Kind.BUCKET_GET, Kind.BUCKET_GET);
        assertThat(gcs.requests(Kind.BUCKET_INSERT).get(0).query()).containsEntry("project", "p");
    }

    @Test
    void prepare_takes_a_bucket_created_meanwhile_as_existing() {
        // given: the bucket exists, but the first look misses it (another process created it just then)
        lake().prepare();
        gcs.failNext(Kind.BUCKET_GET, 1, 404);
        // when
        boolean created = lake().prepare();
        // then: the insert was refused with 409, which prepare takes as "already exists"
        assertThat(created).isFalse();
        assertThat(gcs.requests()).extracting(Request::kind).endsWith(Kind.BUCKET_GET, Kind.BUCKET_INSERT);
    }

    @Test
    void objects_small_empty_and_larger_than_a_chunk_are_written_once_and_read_back_byte_for_byte()
            throws IOException {
        // given
        GcsLake lake = lake();
        lake.prepare();
        byte[] small = "day=2024-01-01\n".getBytes(StandardCharsets.UTF_8);
        byte[] large = random(17 * MIB + 12345, 42);
        // when
        write(lake, "token_transfers/small.csv", small);
        write(lake, "token_transfers/empty.csv", new byte[0]);
        write(lake, "token_transfers/large.csv.gz", large);
        // then
        assertThat(gcs.read("lake", "eth/token_transfers/small.csv")).isEqualTo(small);
        assertThat(gcs.read("lake", "eth/token_transfers/empty.csv")).isEmpty();
        assertThat(gcs.read("lake", "eth/token_transfers/large.csv.gz")).isEqualTo(large);
        assertThat(readBack(lake, "token_transfers/small.csv")).isEqualTo(small);
        assertThat(readBack(lake, "token_transfers/empty.csv")).isEmpty();
        assertThat(readBack(lake, "token_transfers/large.csv.gz")).isEqualTo(large);
        // every upload is resumable, with the does-not-exist precondition; the large one in 8 MiB chunks
        assertThat(gcs.requests(Kind.UPLOAD_START)).hasSize(3)
                .allSatisfy(r -> assertThat(r.query()).containsEntry("ifGenerationMatch", "0")
                        .containsEntry("uploadType", "resumable"));
        assertThat(gcs.requests(Kind.UPLOAD_SIMPLE)).isEmpty();
        List<Request> chunks = gcs.requests(Kind.UPLOAD_CHUNK);
        assertThat(chunks).extracting(r -> r.header("Content-Range")).containsExactly(
                "bytes 0-14/15",
                "bytes */0",
                "bytes 0-" + (8 * MIB - 1) + "/*",
                "bytes " + 8 * MIB + "-" + (16 * MIB - 1) + "/*",
                "bytes " + 16 * MIB + "-" + (large.length - 1) + "/" + large.length);
        // the client sends the whole object's CRC32C with the last request of each upload, and the fake checks it
        assertThat(chunks).filteredOn(r -> !r.header("Content-Range").endsWith("/*"))
                .extracting(r -> r.header("x-goog-hash")).containsExactly(
                        "crc32c=" + FakeGcsObjects.crc32c(small), "crc32c=" + FakeGcsObjects.crc32c(new byte[0]),
                        "crc32c=" + FakeGcsObjects.crc32c(large));
        // reads: the metadata, then the listed generation's media in one request
        Request download = gcs.requests(Kind.DOWNLOAD).get(2);
        assertThat(download.query()).containsEntry("alt", "media")
                .containsEntry("generation", Long.toString(gcs.objects("lake", "eth/token_transfers/large")
                        .get(0).generation()));
    }

    @Test
    void a_second_create_of_the_same_key_is_refused_and_the_first_object_stays() throws IOException {
        // given
        GcsLake lake = lake();
        lake.prepare();
        write(lake, "token_transfers/a.csv", "first".getBytes(StandardCharsets.UTF_8));
        // when / then: the precondition is checked when the upload is finalized, i.e. on close, and the lake
        // reports it as its interface promises (an IOException saying the object exists), not unchecked
        assertThatThrownBy(() -> write(lake, "token_transfers/a.csv", "second".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(java.nio.file.FileAlreadyExistsException.class)
                .hasMessageContaining("lake objects are never rewritten");
        assertThat(readBack(lake, "token_transfers/a.csv")).asString(StandardCharsets.UTF_8).isEqualTo("first");
        assertThat(gcs.requests(Kind.UPLOAD_CHUNK)).hasSize(2);
    }

    @Test
    void list_by_prefix_follows_the_pages() throws IOException {
        // given: pages of 3 items, 7 objects under one day and 2 elsewhere
        GcsLake lake = lake();
        lake.prepare();
        gcs.pageSize(3);
        for (int i = 6; i >= 0; i--) {
            write(lake, "token_transfers/day=2024-01-01/run=r/part-" + i + ".csv.gz", new byte[i]);
        }
        write(lake, "token_transfers/day=2024-01-02/run=r/part-0.csv.gz", new byte[1]);
        gcs.put("lake", "elsewhere/day=2024-01-01/x", new byte[1]);
        // when
        List<Lake.LakeObject> listed = lake.list("token_transfers/day=2024-01-01/");
        // then
        assertThat(listed).extracting(Lake.LakeObject::key).containsExactlyElementsOf(IntStream.range(0, 7)
                .mapToObj(i -> "token_transfers/day=2024-01-01/run=r/part-" + i + ".csv.gz").toList());
        assertThat(listed).extracting(Lake.LakeObject::size).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L);
        List<Request> pages = gcs.requests(Kind.OBJECT_LIST);
        assertThat(pages).hasSize(3).allSatisfy(r -> assertThat(r.query())
                .containsEntry("prefix", "eth/token_transfers/day=2024-01-01/"));
        assertThat(pages.get(0).query()).doesNotContainKey("pageToken");
        assertThat(pages.get(1).query()).containsKey("pageToken");
        assertThat(pages.get(2).query()).containsKey("pageToken");
    }

    @Test
    void the_client_retries_429_and_503_on_every_call_the_lake_makes() throws Exception {
        // given: every kind of call fails once, and one chunk is stored but its answer lost; the client's retry
        // decisions are its own, only its waits (1 s, doubling) are shortened
        storage.close();
        RetrySettings retries = storage.getOptions().getRetrySettings().toBuilder()
                .setInitialRetryDelayDuration(Duration.ofMillis(10)).setMaxRetryDelayDuration(Duration.ofMillis(50))
                .build();
        storage = options().setRetrySettings(retries).build().getService();
        gcs.failNext(Kind.BUCKET_GET, 1, 503);
        gcs.failNext(Kind.BUCKET_INSERT, 1, 429);
        gcs.failNext(Kind.UPLOAD_START, 1, 503);
        gcs.loseNextAnswers(Kind.UPLOAD_CHUNK, 1, 503);
        gcs.failNext(Kind.OBJECT_GET, 1, 429);
        gcs.failNext(Kind.DOWNLOAD, 1, 503);
        gcs.failNext(Kind.OBJECT_LIST, 1, 503);
        GcsLake lake = lake();
        byte[] content = random(9 * MIB, 7);
        // when
        boolean created = lake.prepare();
        write(lake, "token_transfers/x.csv.gz", content);
        byte[] read = readBack(lake, "token_transfers/x.csv.gz");
        List<Lake.LakeObject> listed = lake.list("token_transfers/");
        // then
        assertThat(created).isTrue();
        assertThat(read).isEqualTo(content);
        assertThat(listed).containsExactly(new Lake.LakeObject("token_transfers/x.csv.gz", content.length));
        assertThat(gcs.requests()).extracting(Request::kind).containsExactly(
                Kind.BUCKET_GET, Kind.BUCKET_GET, Kind.BUCKET_INSERT, Kind.BUCKET_INSERT,
                Kind.UPLOAD_START, Kind.UPLOAD_START,
                Kind.UPLOAD_CHUNK, Kind.UPLOAD_CHUNK, Kind.UPLOAD_CHUNK,
                Kind.OBJECT_GET, Kind.OBJECT_GET, Kind.DOWNLOAD, Kind.DOWNLOAD,
                Kind.OBJECT_LIST, Kind.OBJECT_LIST);
        // after the lost answer the client asked how far the upload got, then sent only the rest
        assertThat(gcs.requests(Kind.UPLOAD_CHUNK)).extracting(r -> r.header("Content-Range")).containsExactly(
                "bytes 0-" + (8 * MIB - 1) + "/*", "bytes */*",
                "bytes " + 8 * MIB + "-" + (9 * MIB - 1) + "/" + 9 * MIB);
    }

    @Test
    void a_download_broken_midway_resumes_where_it_stopped_at_the_same_generation() throws IOException {
        // given
        GcsLake lake = lake();
        lake.prepare();
        byte[] content = random(3 * MIB, 3);
        write(lake, "token_transfers/x.csv.gz", content);
        gcs.cutNextDownloads(1);
        // when
        byte[] read = readBack(lake, "token_transfers/x.csv.gz");
        // then
        assertThat(read).isEqualTo(content);
        List<Request> downloads = gcs.requests(Kind.DOWNLOAD);
        assertThat(downloads).extracting(r -> r.header("Range")).containsExactly(null, "bytes=" + 3 * MIB / 2 + "-");
        assertThat(downloads).extracting(r -> r.query().get("generation")).containsOnly(Long.toString(
                gcs.objects("lake", "eth/token_transfers/x.csv.gz").get(0).generation()));
    }

    @Test
    void a_reader_that_seeks_and_limits_asks_for_a_range() throws IOException {
        // given
        lake().prepare();
        byte[] content = random(100_000, 5);
        gcs.put("lake", "eth/x", content);
        ByteBuffer buffer = ByteBuffer.allocate(content.length);
        // when
        try (ReadChannel reader = storage.reader(BlobId.of("lake", "eth/x"))) {
            reader.seek(1000);
            reader.limit(3000);
            while (reader.read(buffer) >= 0) {
                // until the limit
            }
        }
        // then
        buffer.flip();
        byte[] read = new byte[buffer.remaining()];
        buffer.get(read);
        assertThat(read).isEqualTo(Arrays.copyOfRange(content, 1000, 3000));
        assertThat(gcs.requests(Kind.DOWNLOAD)).extracting(r -> r.header("Range")).containsExactly("bytes=1000-2999");
    }

    @Test
    void an_upload_whose_crc32c_does_not_match_is_refused() throws Exception {
        // given: an upload session, opened as the client opens one
        lake().prepare();
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<Void> start = http.send(HttpRequest.newBuilder(URI.create(gcs.endpoint()
                        + "/upload/storage/v1/b/lake/o?uploadType=resumable&name=bad&ifGenerationMatch=0"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.discarding());
        String session = start.headers().firstValue("Location").orElseThrow();
        // when: the content comes with the CRC32C of other bytes
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(session))
                .PUT(HttpRequest.BodyPublishers.ofString("hello"))
                .header("Content-Range", "bytes 0-4/5")
                .header("x-goog-hash", "crc32c=" + FakeGcsObjects.crc32c("hellO".getBytes(StandardCharsets.UTF_8)))
                .build(), HttpResponse.BodyHandlers.ofString());
        // then
        assertThat(put.statusCode()).isEqualTo(400);
        assertThat(put.body()).contains("doesn't match calculated CRC32C");
        assertThat(gcs.objects("lake", "")).isEmpty();
    }

    @Test
    void a_simple_upload_by_the_client_is_stored_too() {
        // given
        lake().prepare();
        byte[] content = "simple".getBytes(StandardCharsets.UTF_8);
        // when: not how the lake writes, but how a test or a tool might
        storage.create(BlobInfo.newBuilder(BlobId.of("lake", "eth/simple.txt")).setContentType("text/plain").build(),
                content, Storage.BlobTargetOption.doesNotExist());
        // then
        assertThat(gcs.read("lake", "eth/simple.txt")).isEqualTo(content);
        assertThat(gcs.objects("lake", "eth/simple").get(0).contentType()).isEqualTo("text/plain");
        assertThat(gcs.requests(Kind.UPLOAD_SIMPLE)).hasSize(1);
        assertThatThrownBy(() -> storage.create(BlobInfo.newBuilder(BlobId.of("lake", "eth/simple.txt")).build(),
                content, Storage.BlobTargetOption.doesNotExist())).hasMessageContaining("pre-conditions");
    }

    @Test
    void a_child_process_backfills_through_the_fake_over_http() throws Exception {
        // given: the real jar, told where Cloud Storage is by the environment, as an emulator would be
        LocalDate day = LocalDate.now(ZoneOffset.UTC).minusDays(3);
        String schema = TestPostgres.newSchema("gcschild");
        // and the bucket setup made
        lake().prepare();
        // when
        ChildRun child = ChildRun.start(Map.of("STORAGE_EMULATOR_HOST", gcs.endpoint()), List.of(),
                "backfill", "--source", "synthetic", "--rows-per-day", "1200", "--lake", "gs://lake/eth",
                "--jdbc-url", TestPostgres.jdbcUrl(), "--pg-schema", schema, "--data-dir", dataDir.toString(),
                "--start-date", day.toString(), "--end-date", day.toString());
        int exit = child.waitFor(120);
        // then
        assertThat(exit).as(child.all()).isZero();
        try (Connection c = TestPostgres.superuser()) {
            assertThat(TestPostgres.count(c, schema, day)).isEqualTo(1200);
        }
        assertThat(gcs.bucket("lake")).isPresent();
        assertThat(gcs.objects("lake", "eth/" + LakeLayout.dayPrefix(day))).extracting(FakeGcs.StoredObject::name)
                .anyMatch(n -> n.endsWith(LakeLayout.MANIFEST)).anyMatch(n -> n.endsWith(".csv.gz"));
        assertThat(gcs.requests()).extracting(Request::kind)
                .contains(Kind.UPLOAD_START, Kind.UPLOAD_CHUNK, Kind.OBJECT_LIST, Kind.DOWNLOAD)
                .doesNotContain(Kind.UNKNOWN);
    }
}
