package dev.cryptopipeline.lake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cryptopipeline.lake.FakeGcs.Answer;
import dev.cryptopipeline.lake.FakeGcs.Call;
import dev.cryptopipeline.lake.FakeGcs.StoredObject;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The buckets of {@link FakeGcs} and their objects, answering as the JSON API does: buckets insert (409 if it exists)
 * and get; objects get, list (prefix, delimiter, start/end offsets, pages) and download ({@code alt=media}) of the
 * live generation, whole or by {@code Range}; {@code ifGenerationMatch}/{@code ifGenerationNotMatch} honoured. Objects
 * are not versioned: a replaced generation is gone. Thread safe: every method holds this object's lock, so a
 * precondition and the write it guards are one step.
 */
final class FakeGcsObjects {
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");

    private final Map<String, ObjectNode> buckets = new TreeMap<>();
    private final Map<String, NavigableMap<String, StoredObject>> objects = new TreeMap<>();
    /** Microseconds, as Cloud Storage's generations are. */
    private long lastGeneration = System.currentTimeMillis() * 1000;
    private int pageSize = 1000;

    synchronized Optional<JsonNode> bucket(String name) {
        return Optional.ofNullable(buckets.get(name)).map(JsonNode::deepCopy);
    }

    synchronized boolean exists(String bucket) {
        return buckets.containsKey(bucket);
    }

    synchronized List<StoredObject> objects(String bucket, String prefix) {
        return objects.getOrDefault(bucket, new TreeMap<>()).tailMap(prefix, true).values().stream()
                .takeWhile(o -> o.name().startsWith(prefix)).toList();
    }

    synchronized byte[] read(String bucket, String name) {
        StoredObject o = objects.getOrDefault(bucket, new TreeMap<>()).get(name);
        if (o == null) {
            throw new NoSuchElementException("No such object: " + bucket + "/" + name);
        }
        return o.content();
    }

    synchronized StoredObject put(String bucket, String name, byte[] content) throws IOException {
        if (!buckets.containsKey(bucket)) {
            throw new IOException("The specified bucket does not exist: " + bucket);
        }
        return store(bucket, name, "application/octet-stream", content.clone());
    }

    synchronized void pageSize(int items) {
        this.pageSize = items;
    }

    /** Creates an object if the call's preconditions hold for the live one: the end of every upload. */
    synchronized Answer create(String bucket, String name, String contentType, byte[] content, Call c) {
        if (!buckets.containsKey(bucket)) {
            return noSuchBucket();
        }
        Answer refused = preconditions(objects.get(bucket).get(name), c.query());
        return refused != null ? refused : Answer.json(200, resource(store(bucket, name, contentType, content),
                c.base()));
    }

    synchronized Answer insertBucket(Call c) throws IOException {
        ObjectNode bucket = (ObjectNode) FakeGcs.JSON.readTree(c.body());
        String name = bucket.path("name").asText("");
        if (name.isEmpty()) {
            return Answer.error(400, "required", "Required");
        }
        if (buckets.containsKey(name)) {
            return Answer.error(409, "conflict",
                    "Your previous request to create the named bucket succeeded and you already own it.");
        }
        String now = Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
        bucket.put("kind", "storage#bucket").put("id", name).put("selfLink", c.base() + "/storage/v1/b/" + name)
                .put("projectNumber", "123456789").put("metageneration", "1").put("etag", "CAE=")
                .put("timeCreated", now).put("updated", now)
                .put("location", bucket.path("location").asText("US").toUpperCase(Locale.ROOT))
                .put("storageClass", bucket.path("storageClass").asText("STANDARD"));
        buckets.put(name, bucket);
        objects.put(name, new TreeMap<>());
        return Answer.json(200, bucket);
    }

    synchronized Answer getBucket(Call c) {
        ObjectNode bucket = buckets.get(c.bucket());
        return bucket == null ? noSuchBucket() : Answer.json(200, bucket);
    }

    synchronized Answer getObject(Call c) {
        if (!buckets.containsKey(c.bucket())) {
            return noSuchBucket();
        }
        StoredObject o = live(c);
        if (o == null) {
            return noSuchObject(c);
        }
        Answer refused = preconditions(o, c.query());
        return refused != null ? refused : Answer.json(200, resource(o, c.base()));
    }

    synchronized Answer list(Call c) {
        if (!buckets.containsKey(c.bucket())) {
            return noSuchBucket();
        }
        Map<String, String> q = c.query();
        String prefix = q.getOrDefault("prefix", "");
        String delimiter = q.get("delimiter");
        int max = Math.max(1, Math.min(pageSize, Integer.parseInt(q.getOrDefault("maxResults", "1000"))));
        // Object names and collapsed prefixes (value null), in name order; a page ends after `max` of them and
        // its token is the last one's name.
        NavigableMap<String, StoredObject> entries = new TreeMap<>();
        for (StoredObject o : objects(c.bucket(), prefix)) {
            if (q.containsKey("startOffset") && o.name().compareTo(q.get("startOffset")) < 0
                    || q.containsKey("endOffset") && o.name().compareTo(q.get("endOffset")) >= 0) {
                continue;
            }
            int cut = delimiter == null ? -1 : o.name().indexOf(delimiter, prefix.length());
            if (cut < 0) {
                entries.put(o.name(), o);
            } else {
                entries.putIfAbsent(o.name().substring(0, cut + delimiter.length()), null);
            }
        }
        if (q.containsKey("pageToken")) {
            entries = entries.tailMap(new String(Base64.getUrlDecoder().decode(q.get("pageToken")),
                    StandardCharsets.UTF_8), false);
        }
        ObjectNode page = FakeGcs.JSON.createObjectNode().put("kind", "storage#objects");
        ArrayNode items = FakeGcs.JSON.createArrayNode();
        ArrayNode prefixes = FakeGcs.JSON.createArrayNode();
        for (var e : entries.entrySet()) {
            if (items.size() + prefixes.size() == max) {
                page.put("nextPageToken", Base64.getUrlEncoder().withoutPadding().encodeToString(
                        entries.lowerKey(e.getKey()).getBytes(StandardCharsets.UTF_8)));
                break;
            }
            if (e.getValue() == null) {
                prefixes.add(e.getKey());
            } else {
                items.add(resource(e.getValue(), c.base()));
            }
        }
        if (!prefixes.isEmpty()) {
            page.set("prefixes", prefixes);
        }
        if (!items.isEmpty()) {
            page.set("items", items); // as the API does, no "items" at all when there are none
        }
        return Answer.json(200, page);
    }

    synchronized Answer download(Call c) {
        if (!buckets.containsKey(c.bucket())) {
            return noSuchBucket();
        }
        StoredObject o = live(c);
        if (o == null) {
            return noSuchObject(c);
        }
        Answer refused = preconditions(o, c.query());
        if (refused != null) {
            return refused;
        }
        byte[] content = o.content();
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Type", o.contentType());
        h.put("ETag", etag(o));
        h.put("x-goog-generation", Long.toString(o.generation()));
        h.put("x-goog-metageneration", "1");
        h.put("x-goog-storage-class", "STANDARD");
        h.put("x-goog-stored-content-length", Long.toString(o.size()));
        h.put("x-goog-stored-content-encoding", "identity");
        h.put("x-goog-hash", "crc32c=" + o.crc32c() + ",md5=" + o.md5Hash());
        Matcher m = RANGE.matcher(c.headers().getOrDefault("range", ""));
        if (!m.matches() || m.group(1).isEmpty() && m.group(2).isEmpty()) {
            return new Answer(200, h, content);
        }
        long size = o.size();
        long first = m.group(1).isEmpty() ? Math.max(0, size - Long.parseLong(m.group(2))) // the last N bytes
                : Long.parseLong(m.group(1));
        long last = m.group(1).isEmpty() || m.group(2).isEmpty() ? size - 1
                : Math.min(size - 1, Long.parseLong(m.group(2)));
        if (first >= size) {
            return size == 0 && first == 0 ? new Answer(200, h, content)
                    : Answer.error(416, "requestedRangeNotSatisfiable", "The requested range cannot be satisfied.");
        }
        h.put("Content-Range", "bytes " + first + "-" + last + "/" + size);
        return new Answer(206, h, Arrays.copyOfRange(content, (int) first, (int) last + 1));
    }

    /** The live object, or null if there is none or the call names another generation. */
    private StoredObject live(Call c) {
        StoredObject o = objects.get(c.bucket()).get(c.object());
        String generation = c.query().get("generation");
        return o == null || generation != null && Long.parseLong(generation) != o.generation() ? null : o;
    }

    /** A 412 if {@code ifGenerationMatch} or {@code ifGenerationNotMatch} does not hold (generation 0: no object). */
    private static Answer preconditions(StoredObject current, Map<String, String> query) {
        long generation = current == null ? 0 : current.generation();
        boolean holds = (!query.containsKey("ifGenerationMatch")
                || Long.parseLong(query.get("ifGenerationMatch")) == generation)
                && (!query.containsKey("ifGenerationNotMatch")
                || Long.parseLong(query.get("ifGenerationNotMatch")) != generation);
        return holds ? null : Answer.error(412, "conditionNotMet",
                "At least one of the pre-conditions you specified did not hold.");
    }

    private StoredObject store(String bucket, String name, String contentType, byte[] content) {
        StoredObject o = new StoredObject(bucket, name, ++lastGeneration, contentType,
                Instant.now().truncatedTo(ChronoUnit.MILLIS), content, crc32c(content), md5(content));
        objects.get(bucket).put(name, o);
        return o;
    }

    private static ObjectNode resource(StoredObject o, String base) {
        String path = "/storage/v1/b/" + encode(o.bucket()) + "/o/" + encode(o.name());
        return FakeGcs.JSON.createObjectNode()
                .put("kind", "storage#object")
                .put("id", o.bucket() + "/" + o.name() + "/" + o.generation())
                .put("selfLink", base + path)
                .put("mediaLink", base + "/download" + path + "?generation=" + o.generation() + "&alt=media")
                .put("name", o.name())
                .put("bucket", o.bucket())
                .put("generation", Long.toString(o.generation()))
                .put("metageneration", "1")
                .put("contentType", o.contentType())
                .put("storageClass", "STANDARD")
                .put("size", Long.toString(o.size()))
                .put("md5Hash", o.md5Hash())
                .put("crc32c", o.crc32c())
                .put("etag", etag(o))
                .put("timeCreated", o.created().toString())
                .put("updated", o.created().toString())
                .put("timeStorageClassUpdated", o.created().toString());
    }

    private static String etag(StoredObject o) {
        return Base64.getEncoder().encodeToString(Long.toString(o.generation()).getBytes(StandardCharsets.UTF_8));
    }

    static Answer noSuchBucket() {
        return Answer.error(404, "notFound", "The specified bucket does not exist.");
    }

    private static Answer noSuchObject(Call c) {
        return Answer.error(404, "notFound", "No such object: " + c.bucket() + "/" + c.object());
    }

    /** Base64 of the big-endian CRC32C, as the API writes it (in JSON and in {@code x-goog-hash}). */
    static String crc32c(byte[] content) {
        CRC32C crc = new CRC32C();
        crc.update(content);
        long v = crc.getValue();
        return Base64.getEncoder().encodeToString(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8),
                (byte) v});
    }

    static String md5(byte[] content) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
