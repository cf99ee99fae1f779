package dev.cryptopipeline.lake;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cryptopipeline.lake.FakeGcs.Answer;
import dev.cryptopipeline.lake.FakeGcs.Call;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The uploads of {@link FakeGcs}, as the JSON API takes them: resumable sessions (a POST that answers the session's
 * URL in {@code Location}, then PUTs of chunks with {@code Content-Range}, 308 with {@code Range} until the last
 * chunk, and {@code bytes *}{@code /*} to ask how far it got), and one-request multipart or media uploads. The
 * CRC32C or MD5 the client sends ({@code x-goog-hash}, or in the metadata) is checked, and the preconditions are
 * checked when the upload is finalized, as Cloud Storage does, not when the session opens. Thread safe.
 */
final class FakeGcsUploads {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\*|(\\d+)-(\\d+))/(\\*|\\d+)");

    /** An open resumable upload session; guarded by itself. */
    private static final class Session {
        final String bucket;
        final String name;
        final String contentType;
        final JsonNode metadata;
        final Call opening;
        final ByteArrayOutputStream received = new ByteArrayOutputStream();
        /** The answer the session ended with (the object, or why it was refused), once finalized. */
        Answer outcome;

        Session(String bucket, String name, String contentType, JsonNode metadata, Call opening) {
            this.bucket = bucket;
            this.name = name;
            this.contentType = contentType;
            this.metadata = metadata;
            this.opening = opening;
        }
    }

    private final FakeGcsObjects objects;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();

    FakeGcsUploads(FakeGcsObjects objects) {
        this.objects = objects;
    }

    /** Opens a resumable upload session. */
    Answer start(Call c) throws IOException {
        if (!objects.exists(c.bucket())) {
            return FakeGcsObjects.noSuchBucket();
        }
        JsonNode metadata = c.body().length == 0 ? FakeGcs.JSON.createObjectNode() : FakeGcs.JSON.readTree(c.body());
        String name = c.query().getOrDefault("name", metadata.path("name").asText(""));
        if (name.isEmpty()) {
            return Answer.error(400, "required", "Required");
        }
        String type = metadata.path("contentType").asText(c.headers().getOrDefault("x-upload-content-type",
                "application/octet-stream"));
        String id = UUID.randomUUID().toString().replace("-", "");
        sessions.put(id, new Session(c.bucket(), name, type, metadata, c));
        return Answer.empty(200, Map.of("Location", c.base() + "/upload/storage/v1/b/"
                + FakeGcsObjects.encode(c.bucket()) + "/o?uploadType=resumable&name=" + FakeGcsObjects.encode(name)
                + "&upload_id=" + id));
    }

    /** A PUT to a session: a chunk, the last one, or a status query. */
    Answer put(Call c) {
        Session s = sessions.get(c.query().get("upload_id"));
        if (s == null) {
            return Answer.error(404, "notFound", "No such upload session: " + c.query().get("upload_id"));
        }
        synchronized (s) {
            if (s.outcome != null) {
                return s.outcome; // finalized: every later request gets the same answer
            }
            byte[] body = c.body();
            String header = c.headers().getOrDefault("content-range",
                    "bytes 0-" + (body.length - 1) + "/" + body.length);
            Matcher m = CONTENT_RANGE.matcher(header);
            if (!m.matches() || m.group(1).equals("*") && body.length > 0) {
                return Answer.error(400, "invalid", "Bad Content-Range: " + header);
            }
            long have = s.received.size();
            if (m.group(2) != null) {
                long first = Long.parseLong(m.group(2));
                long last = Long.parseLong(m.group(3));
                if (last - first + 1 != body.length) {
                    return Answer.error(400, "invalid", "Content-Range " + header + " but " + body.length + " bytes");
                }
                if (first > have) {
                    // As Cloud Storage answers a chunk that would leave a gap.
                    return new Answer(503, Map.of("Content-Type", "text/plain; charset=utf-8"), ("Invalid request."
                            + " According to the Content-Range header, the upload offset is " + first + " byte(s),"
                            + " which exceeds already uploaded size of " + have + " byte(s).")
                            .getBytes(StandardCharsets.UTF_8));
                }
                int skip = (int) Math.min(body.length, have - first); // bytes sent again after a lost answer
                s.received.write(body, skip, body.length - skip);
                have = s.received.size();
            }
            if (m.group(4).equals("*")) {
                return have == 0 ? Answer.empty(308, Map.of())
                        : Answer.empty(308, Map.of("Range", "bytes=0-" + (have - 1)));
            }
            long total = Long.parseLong(m.group(4));
            if (total != have) {
                return Answer.error(400, "invalid", "The upload says it is " + total + " bytes but " + have
                        + " were received");
            }
            s.outcome = finish(s.bucket, s.name, s.contentType, s.metadata, s.received.toByteArray(), s.opening, c);
            return s.outcome;
        }
    }

    /** A one-request upload: {@code uploadType=multipart} (metadata and media) or {@code media}. */
    Answer simple(Call c) throws IOException {
        String type = c.headers().getOrDefault("content-type", "application/octet-stream");
        JsonNode metadata = FakeGcs.JSON.createObjectNode();
        byte[] content = c.body();
        if ("multipart".equals(c.query().get("uploadType"))) {
            // multipart/related: the JSON metadata, then the media, each part with its own headers.
            Matcher b = Pattern.compile("boundary=\"?([^\";]+)\"?").matcher(type);
            if (!b.find()) {
                return Answer.error(400, "invalid", "A multipart upload needs a boundary");
            }
            List<byte[]> parts = parts(c.body(), b.group(1));
            if (parts.size() != 2) {
                return Answer.error(400, "invalid", "A multipart upload has 2 parts, not " + parts.size());
            }
            metadata = FakeGcs.JSON.readTree(partBody(parts.get(0)));
            type = partHeader(parts.get(1), "content-type").orElse("application/octet-stream");
            content = partBody(parts.get(1));
        }
        String name = c.query().getOrDefault("name", metadata.path("name").asText(""));
        if (name.isEmpty()) {
            return Answer.error(400, "required", "Required");
        }
        return finish(c.bucket(), name, metadata.path("contentType").asText(type), metadata, content, c, c);
    }

    /**
     * Creates the object of a finished upload if the checksums sent match and the preconditions of the opening
     * request hold.
     */
    private Answer finish(String bucket, String name, String contentType, JsonNode metadata, byte[] content,
                          Call opening, Call last) {
        Map<String, String> sent = new LinkedHashMap<>();
        if (metadata.hasNonNull("crc32c")) {
            sent.put("crc32c", metadata.get("crc32c").asText());
        }
        if (metadata.hasNonNull("md5Hash")) {
            sent.put("md5", metadata.get("md5Hash").asText());
        }
        String hashes = last.headers().get("x-goog-hash");
        if (hashes != null) {
            for (String part : hashes.split(",")) {
                int eq = part.indexOf('=');
                sent.put(part.substring(0, eq).trim().toLowerCase(Locale.ROOT), part.substring(eq + 1).trim());
            }
        }
        String crc32c = FakeGcsObjects.crc32c(content);
        if (sent.containsKey("crc32c") && !sent.get("crc32c").equals(crc32c)) {
            return Answer.error(400, "invalid", "Provided CRC32C \"" + sent.get("crc32c")
                    + "\" doesn't match calculated CRC32C \"" + crc32c + "\".");
        }
        String md5 = FakeGcsObjects.md5(content);
        if (sent.containsKey("md5") && !sent.get("md5").equals(md5)) {
            return Answer.error(400, "invalid", "Provided MD5 hash \"" + sent.get("md5")
                    + "\" doesn't match calculated MD5 hash \"" + md5 + "\".");
        }
        return objects.create(bucket, name, contentType, content, opening);
    }

    /** The parts of a multipart body, each with its headers. */
    private static List<byte[]> parts(byte[] body, String boundary) {
        byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        List<byte[]> parts = new ArrayList<>();
        int start = indexOf(body, delimiter, 0);
        while (start >= 0) {
            int from = start + delimiter.length;
            if (from + 1 < body.length && body[from] == '-' && body[from + 1] == '-') {
                break; // the closing delimiter
            }
            from += 2; // the CRLF after the delimiter
            int next = indexOf(body, delimiter, from);
            if (next < 0) {
                break;
            }
            parts.add(Arrays.copyOfRange(body, from, next - 2)); // less the CRLF before the next delimiter
            start = next;
        }
        return parts;
    }

    private static int headerEnd(byte[] part) {
        int i = indexOf(part, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), 0);
        return i < 0 ? 0 : i + 4;
    }

    private static byte[] partBody(byte[] part) {
        return Arrays.copyOfRange(part, headerEnd(part), part.length);
    }

    private static Optional<String> partHeader(byte[] part, String name) {
        return new String(part, 0, headerEnd(part), StandardCharsets.ISO_8859_1).lines()
                .filter(l -> l.toLowerCase(Locale.ROOT).startsWith(name + ":"))
                .map(l -> l.substring(name.length() + 1).trim()).findFirst();
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
