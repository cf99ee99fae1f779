package dev.cryptopipeline.lake;

import com.google.api.gax.paging.Page;
import com.google.cloud.WriteChannel;
import com.google.cloud.storage.Blob;
import com.google.cloud.storage.BlobId;
import com.google.cloud.storage.BlobInfo;
import com.google.cloud.storage.Bucket;
import com.google.cloud.storage.BucketInfo;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageException;
import dev.cryptopipeline.PipelineException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A lake under {@code gs://bucket[/prefix]}. Writes are streamed (resumable uploads in chunks) with a
 * does-not-exist precondition, so an object is created once and never rewritten; reads are streamed; listing is by
 * prefix. The bucket, when this lake creates it, gets a lifecycle rule deleting lake objects after the retention.
 * Thread safe.
 */
public final class GcsLake implements Lake {
    private static final int CHUNK = 8 << 20;

    private final Storage storage;
    private final String bucket;
    private final String prefix;
    private final String bucketLocation;
    private final int retentionDays;

    /**
     * @param storage        the client
     * @param uri            {@code gs://bucket[/prefix]}
     * @param bucketLocation where to create the bucket if absent (match the BigQuery dataset's location)
     * @param retentionDays  age in days after which the bucket's lifecycle rule deletes lake objects
     */
    public GcsLake(Storage storage, String uri, String bucketLocation, int retentionDays) {
        String[] parts = checkUri(uri);
        this.bucket = parts[0];
        this.prefix = parts[1];
        this.storage = storage;
        this.bucketLocation = bucketLocation;
        this.retentionDays = retentionDays;
    }

    /**
     * Checks a lake URI without any client: {@code gs://bucket[/prefix]} with a valid bucket name.
     *
     * @return the bucket and the prefix (empty, or ending with '/')
     * @throws PipelineException.BadInput naming what is wrong
     */
    public static String[] checkUri(String uri) {
        if (!uri.startsWith("gs://") || uri.length() <= 5) {
            throw new PipelineException.BadInput("Not a GCS lake URI: " + uri + " (expected gs://bucket[/prefix])");
        }
        String rest = uri.substring(5).replaceAll("/+$", "");
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String prefix = slash < 0 ? "" : rest.substring(slash + 1) + "/";
        if (!bucket.matches("[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")) {
            throw new PipelineException.BadInput("Invalid bucket name '" + bucket + "' in --lake " + uri
                    + ": use lowercase letters, digits, dots, dashes and underscores");
        }
        return new String[] {bucket, prefix};
    }

    @Override
    public String location() {
        return "gs://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix.substring(0, prefix.length() - 1));
    }

    /** The bucket's name. */
    public String bucket() {
        return bucket;
    }

    @Override
    public boolean prepare() {
        try {
            Bucket existing = storage.get(bucket);
            if (existing != null) {
                return false;
            }
            BucketInfo.LifecycleRule rule = new BucketInfo.LifecycleRule(
                    BucketInfo.LifecycleRule.LifecycleAction.newDeleteAction(),
                    BucketInfo.LifecycleRule.LifecycleCondition.newBuilder()
                            .setAge(retentionDays)
                            .setMatchesPrefix(List.of(prefix + LakeLayout.ROOT))
                            .build());
            storage.create(BucketInfo.newBuilder(bucket)
                    .setLocation(bucketLocation)
                    .setLifecycleRules(List.of(rule))
                    .build());
            return true;
        } catch (StorageException e) {
            if (e.getCode() == 409) {
                return false; // created meanwhile, or owned by someone else: the next write will tell
            }
            throw new PipelineException.Failed("Cannot use the lake bucket gs://" + bucket + " (HTTP " + e.getCode()
                    + ": " + e.getMessage() + "): check the project, the bucket name and your permissions", e);
        }
    }

    @Override
    public String retention() {
        Bucket b = storage.get(bucket);
        if (b == null || b.getLifecycleRules() == null || b.getLifecycleRules().isEmpty()) {
            return "no lifecycle rule: lake objects are kept until deleted";
        }
        return b.getLifecycleRules().stream()
                .filter(r -> r.getCondition() != null && r.getCondition().getAge() != null)
                .map(r -> "objects deleted after " + r.getCondition().getAge() + " days")
                .findFirst().orElse("lifecycle rules present");
    }

    @Override
    public OutputStream create(String key) throws IOException {
        BlobInfo info = BlobInfo.newBuilder(BlobId.of(bucket, prefix + key)).build();
        try {
            WriteChannel channel = storage.writer(info, Storage.BlobWriteOption.doesNotExist());
            channel.setChunkSize(CHUNK);
            // Cloud Storage checks the does-not-exist precondition when the upload is finished, in close(), and the
            // client reports it unchecked: turn that, and any other failure, into this interface's IOException.
            return new java.io.FilterOutputStream(Channels.newOutputStream(channel)) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    try {
                        out.write(b, off, len);
                    } catch (StorageException e) {
                        throw failure(key, e);
                    }
                }

                @Override
                public void close() throws IOException {
                    try {
                        super.close();
                    } catch (StorageException e) {
                        throw failure(key, e);
                    }
                }
            };
        } catch (StorageException e) {
            throw failure(key, e);
        }
    }

    private IOException failure(String key, StorageException e) {
        if (e.getCode() == 412) {
            return new java.nio.file.FileAlreadyExistsException(location() + "/" + key, null,
                    "lake objects are never rewritten");
        }
        if (e.getCode() == 404) {
            return new IOException("the bucket gs://" + bucket + " does not exist: run 'crypto-pipeline setup' to"
                    + " create it, or fix --lake", e);
        }
        return new IOException("cannot create " + location() + "/" + key + ": " + e.getMessage(), e);
    }

    @Override
    public InputStream open(String key) throws IOException {
        try {
            BlobId id = BlobId.of(bucket, prefix + key);
            Blob blob = storage.get(id);
            if (blob == null) {
                throw new java.io.FileNotFoundException(location() + "/" + key);
            }
            // Read the generation that was listed: an object is never rewritten, and this makes sure of it.
            return Channels.newInputStream(storage.reader(BlobId.of(bucket, prefix + key, blob.getGeneration())));
        } catch (StorageException e) {
            if (e.getCode() == 404) {
                throw new java.io.FileNotFoundException(location() + "/" + key);
            }
            throw new IOException("cannot read " + location() + "/" + key + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<LakeObject> list(String keyPrefix) throws IOException {
        try {
            List<LakeObject> objects = new ArrayList<>();
            Page<Blob> page = storage.list(bucket, Storage.BlobListOption.prefix(prefix + keyPrefix));
            for (Blob b : page.iterateAll()) {
                if (!b.getName().endsWith("/")) {
                    objects.add(new LakeObject(b.getName().substring(prefix.length()), b.getSize()));
                }
            }
            objects.sort(Comparator.comparing(LakeObject::key));
            return objects;
        } catch (StorageException e) {
            if (e.getCode() == 404) {
                throw new IOException("the bucket gs://" + bucket + " does not exist: run 'crypto-pipeline setup' to"
                        + " create it, or fix --lake", e);
            }
            throw new IOException("cannot list " + location() + "/" + keyPrefix + ": " + e.getMessage(), e);
        }
    }
}
