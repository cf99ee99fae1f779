package dev.cryptopipeline.lake;

import com.google.cloud.storage.BlobInfo;
import com.google.cloud.storage.Bucket;
import com.google.cloud.storage.BucketInfo;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.contrib.nio.testing.LocalStorageHelper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPOutputStream;

/**
 * An in-process Cloud Storage: google-cloud-nio's {@link LocalStorageHelper} for objects, plus the bucket get/create
 * it lacks (buckets are remembered with their settings, so tests can check location and lifecycle rules).
 */
public final class TestStorage {
    public final Map<String, BucketInfo> buckets = new ConcurrentHashMap<>();
    public final Storage storage;

    public TestStorage() {
        Storage objects = LocalStorageHelper.getOptions().getService();
        this.storage = (Storage) Proxy.newProxyInstance(Storage.class.getClassLoader(), new Class<?>[] {Storage.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("get") && args != null && args[0] instanceof String name) {
                        BucketInfo info = buckets.get(name);
                        return info == null ? null : bucket(proxy, info);
                    }
                    if (method.getName().equals("create") && args != null && args[0] instanceof BucketInfo info) {
                        buckets.put(info.getName(), info);
                        return bucket(proxy, info);
                    }
                    try {
                        return method.invoke(objects, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static Bucket bucket(Object storage, BucketInfo info) throws Exception {
        // Bucket's constructor is package-private: build it the way the library does.
        java.lang.reflect.Constructor<Bucket> c = Bucket.class.getDeclaredConstructor(Storage.class,
                Class.forName("com.google.cloud.storage.BucketInfo$BuilderImpl"));
        c.setAccessible(true);
        java.lang.reflect.Constructor<?> b = Class.forName("com.google.cloud.storage.BucketInfo$BuilderImpl")
                .getDeclaredConstructor(BucketInfo.class);
        b.setAccessible(true);
        return c.newInstance(storage, b.newInstance(info));
    }

    /** Writes one gzip object, as BigQuery's extract does. */
    public void writeGzip(String bucket, String name, String content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(content.getBytes(StandardCharsets.UTF_8));
        }
        try (OutputStream out = Channels.newOutputStream(storage.writer(BlobInfo.newBuilder(bucket, name).build(),
                Storage.BlobWriteOption.doesNotExist()))) {
            out.write(bytes.toByteArray());
        }
    }
}
