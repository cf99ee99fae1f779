package dev.cryptopipeline.lake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.zip.GZIPInputStream;

/**
 * A local HTTP fake of the Cloud Storage JSON API, enough for the real google-cloud-storage client used as
 * {@link GcsLake} uses it, from this JVM or from a child process ({@code --gcs-endpoint http://127.0.0.1:PORT} or
 * {@code STORAGE_EMULATOR_HOST}): buckets get and insert, kept with the settings the client sent; objects get, list
 * and download ({@link FakeGcsObjects}); resumable, multipart and media uploads ({@link FakeGcsUploads}). It records
 * every request and, on demand, answers the next requests of a kind with an error or cuts a download halfway. This
 * class is the HTTP side: it parses a request, records it, injects the failures asked for and sends the answer.
 * Thread safe.
 */
public final class FakeGcs implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    /** What a request asks for, to record it and to inject failures by kind. */
    public enum Kind {
        BUCKET_GET, BUCKET_INSERT, OBJECT_GET, OBJECT_LIST,
        /** The POST that opens a resumable upload session. */
        UPLOAD_START,
        /** A PUT to an upload session: a chunk, the last chunk, or a status query ({@code bytes *}{@code /*}). */
        UPLOAD_CHUNK,
        /** A one-request upload: {@code uploadType=multipart} or {@code media}. */
        UPLOAD_SIMPLE,
        /** {@code alt=media}: an object's content. */
        DOWNLOAD,
        UNKNOWN
    }

    /**
     * A request as it arrived: the path percent-decoded (an object name is one segment), the query decoded, the
     * headers by lower-case name (first value), and the size of the decoded (gunzipped) body.
     */
    public record Request(Kind kind, String method, String path, Map<String, String> query,
                          Map<String, String> headers, int bodyBytes) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** An object as the fake holds it; {@code crc32c} and {@code md5Hash} in base64, as the API writes them. */
    public record StoredObject(String bucket, String name, long generation, String contentType, Instant created,
                               byte[] content, String crc32c, String md5Hash) {
        public long size() {
            return content.length;
        }

        @Override
        public byte[] content() {
            return content.clone();
        }
    }

    /**
     * A request, parsed: which call on which bucket and object, with its query, headers (lower-case names), decoded
     * body, and the base URL the client reached us by (for the links and upload sessions we hand out).
     */
    record Call(Kind kind, String method, String path, String bucket, String object, Map<String, String> query,
                Map<String, String> headers, byte[] body, String base) {
    }

    /** An answer, built before it is sent so that an injected failure can replace it. */
    record Answer(int code, Map<String, String> headers, byte[] body) {
        static Answer json(int code, JsonNode node) {
            try {
                return new Answer(code, Map.of("Content-Type", "application/json; charset=UTF-8"),
                        JSON.writeValueAsBytes(node));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** An error as the JSON API words them. */
        static Answer error(int code, String reason, String message) {
            ObjectNode e = JSON.createObjectNode();
            ObjectNode err = e.putObject("error");
            err.put("code", code);
            err.put("message", message);
            err.putArray("errors").addObject().put("message", message).put("domain", "global").put("reason", reason);
            return json(code, e);
        }

        static Answer empty(int code, Map<String, String> headers) {
            return new Answer(code, headers, new byte[0]);
        }
    }

    /** An injected failure: an HTTP code, or {@link #CUT}, before or after the request had its effect. */
    private record Failure(int code, boolean afterApplying) {
    }

    /** Not an HTTP code: the answer's body stops halfway and the connection is dropped. */
    private static final int CUT = 0;

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(4);
    private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    private final Map<Kind, Deque<Failure>> failures = new EnumMap<>(Kind.class);
    private final FakeGcsObjects objects = new FakeGcsObjects();
    private final FakeGcsUploads uploads = new FakeGcsUploads(objects);

    public FakeGcs() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /** {@code http://127.0.0.1:PORT}, for {@code --gcs-endpoint}, {@code STORAGE_EMULATOR_HOST} or setHost. */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    /** Every request so far, in order of arrival. */
    public List<Request> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    /** The requests of one kind so far. */
    public List<Request> requests(Kind kind) {
        return requests().stream().filter(r -> r.kind() == kind).toList();
    }

    /** The bucket resource as created (with the server's fields added), if the bucket exists. */
    public Optional<JsonNode> bucket(String name) {
        return objects.bucket(name);
    }

    /** The objects of a bucket whose names start with {@code prefix}, by name. */
    public List<StoredObject> objects(String bucket, String prefix) {
        return objects.objects(bucket, prefix);
    }

    /**
     * An object's content.
     *
     * @throws java.util.NoSuchElementException if there is no such object
     */
    public byte[] read(String bucket, String name) {
        return objects.read(bucket, name);
    }

    /**
     * Writes an object as another service would (a BigQuery extract), replacing any with that name.
     *
     * @throws IOException if the bucket does not exist (BigQuery would fail too)
     */
    public StoredObject put(String bucket, String name, byte[] content) throws IOException {
        return objects.put(bucket, name, content);
    }

    /** The most items a list page holds, whatever {@code maxResults} the client asks (Cloud Storage's is 1000). */
    public void pageSize(int items) {
        objects.pageSize(items);
    }

    /** Answers the next {@code times} requests of this kind with {@code code}, before doing anything. */
    public void failNext(Kind kind, int times, int code) {
        addFailures(kind, times, new Failure(code, false));
    }

    /** Does what the next {@code times} requests of this kind ask, then answers {@code code}: the answer is lost. */
    public void loseNextAnswers(Kind kind, int times, int code) {
        addFailures(kind, times, new Failure(code, true));
    }

    /** Sends only the first half of the next {@code times} downloads' bytes, then drops the connection. */
    public void cutNextDownloads(int times) {
        addFailures(Kind.DOWNLOAD, times, new Failure(CUT, true));
    }

    private void addFailures(Kind kind, int times, Failure failure) {
        synchronized (failures) {
            for (int i = 0; i < times; i++) {
                failures.computeIfAbsent(kind, k -> new ArrayDeque<>()).add(failure);
            }
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            Call call = parse(ex);
            requests.add(new Request(call.kind(), call.method(), call.path(), call.query(), call.headers(),
                    call.body().length));
            Failure failure;
            synchronized (failures) {
                Deque<Failure> pending = failures.get(call.kind());
                failure = pending == null ? null : pending.poll();
            }
            Answer answer = failure != null && !failure.afterApplying() ? injected(failure.code()) : answer(call);
            if (failure != null && failure.code() == CUT) {
                sendHalf(ex, answer);
            } else {
                send(ex, failure != null ? injected(failure.code()) : answer);
            }
        } catch (RuntimeException e) {
            e.printStackTrace();
            throw e;
        }
    }

    private Answer answer(Call c) throws IOException {
        return switch (c.kind()) {
            case BUCKET_INSERT -> objects.insertBucket(c);
            case BUCKET_GET -> objects.getBucket(c);
            case OBJECT_GET -> objects.getObject(c);
            case OBJECT_LIST -> objects.list(c);
            case DOWNLOAD -> objects.download(c);
            case UPLOAD_START -> uploads.start(c);
            case UPLOAD_CHUNK -> uploads.put(c);
            case UPLOAD_SIMPLE -> uploads.simple(c);
            case UNKNOWN -> Answer.error(404, "notFound", "The fake does not know this request");
        };
    }

    /** Which call a request is: {@code [/upload|/download]/storage/v1/b[/bucket[/o[/object]]]}, by method. */
    private Call parse(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod();
        List<String> segments = segments(ex.getRequestURI().getRawPath());
        Map<String, String> query = decodeQuery(ex.getRequestURI().getRawQuery());
        Map<String, String> headers = new LinkedHashMap<>();
        ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v.get(0)));
        byte[] body = readBody(ex);
        String base = "http://" + headers.getOrDefault("host", "127.0.0.1:" + server.getAddress().getPort());
        String path = "/" + String.join("/", segments);

        boolean upload = !segments.isEmpty() && segments.get(0).equals("upload");
        List<String> p = !segments.isEmpty() && (upload || segments.get(0).equals("download"))
                ? segments.subList(1, segments.size()) : segments;
        if (p.size() < 3 || !p.get(0).equals("storage") || !p.get(1).equals("v1") || !p.get(2).equals("b")) {
            return new Call(Kind.UNKNOWN, method, path, null, null, query, headers, body, base);
        }
        String bucket = p.size() > 3 ? p.get(3) : null;
        boolean onObjects = p.size() > 4 && p.get(4).equals("o");
        String object = p.size() > 5 ? String.join("/", p.subList(5, p.size())) : null;
        Kind kind;
        if (p.size() == 3 && method.equals("POST")) {
            kind = Kind.BUCKET_INSERT;
        } else if (p.size() == 4 && method.equals("GET")) {
            kind = Kind.BUCKET_GET;
        } else if (upload && onObjects && object == null && method.equals("POST")) {
            kind = "resumable".equals(query.get("uploadType")) ? Kind.UPLOAD_START : Kind.UPLOAD_SIMPLE;
        } else if (upload && onObjects && method.equals("PUT") && query.containsKey("upload_id")) {
            kind = Kind.UPLOAD_CHUNK;
        } else if (onObjects && object == null && method.equals("GET")) {
            kind = Kind.OBJECT_LIST;
        } else if (onObjects && object != null && method.equals("GET")) {
            kind = "media".equals(query.get("alt")) ? Kind.DOWNLOAD : Kind.OBJECT_GET;
        } else {
            kind = Kind.UNKNOWN;
        }
        return new Call(kind, method, path, bucket, object, query, headers, body, base);
    }

    private static Answer injected(int code) {
        return switch (code) {
            case 429 -> Answer.error(429, "rateLimitExceeded", "The fake's rate limit was exceeded: slow down.");
            case 500 -> Answer.error(500, "backendError", "Internal Error (injected by the fake)");
            case 503 -> Answer.error(503, "backendError", "Backend Error (injected by the fake)");
            default -> Answer.error(code, "fakeFailure", "HTTP " + code + " injected by the fake");
        };
    }

    /** The path's segments, percent-decoded; '+' is itself in a path. */
    private static List<String> segments(String rawPath) {
        return Arrays.stream(rawPath.split("/")).filter(s -> !s.isEmpty())
                .map(s -> URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8)).toList();
    }

    private static Map<String, String> decodeQuery(String raw) {
        Map<String, String> query = new LinkedHashMap<>();
        if (raw != null) {
            for (String param : raw.split("&")) {
                int eq = param.indexOf('=');
                String key = URLDecoder.decode(eq < 0 ? param : param.substring(0, eq), StandardCharsets.UTF_8);
                query.put(key, eq < 0 ? "" : URLDecoder.decode(param.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return query;
    }

    private static byte[] readBody(HttpExchange ex) throws IOException {
        InputStream in = ex.getRequestBody();
        if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
            in = new GZIPInputStream(in);
        }
        return in.readAllBytes();
    }

    private static void send(HttpExchange ex, Answer a) throws IOException {
        a.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
        // -1: no body at all (a 308 has none); 0 would mean a chunked body.
        ex.sendResponseHeaders(a.code(), a.body().length == 0 ? -1 : a.body().length);
        if (a.body().length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(a.body());
            }
        }
    }

    /**
     * Announces the whole body, sends half of it and drops the connection, as a network fault would. Only a handler
     * that throws makes the server close the connection: closing the exchange early would keep it open, and the
     * client would wait for the rest until its read timeout.
     */
    private static void sendHalf(HttpExchange ex, Answer a) throws IOException {
        a.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
        ex.sendResponseHeaders(a.code(), a.body().length == 0 ? -1 : a.body().length);
        OutputStream out = ex.getResponseBody();
        out.write(a.body(), 0, a.body().length / 2);
        out.flush();
        throw new IOException("the fake cut this answer halfway, as asked");
    }
}
