package dev.cryptopipeline.sink;

import dev.cryptopipeline.lake.Lake;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Enumeration;
import java.util.Iterator;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The day's lake files as one stream for COPY: one after another, gunzipped, counting the compressed bytes read and
 * remembering which file is being read (for error messages). Not thread safe.
 */
final class LakeFiles implements Enumeration<InputStream> {
    final Lake lake;
    private final Iterator<String> keys;
    String current = "";
    long bytes;

    LakeFiles(Lake lake, List<String> keys) {
        this.lake = lake;
        this.keys = keys.iterator();
    }

    @Override
    public boolean hasMoreElements() {
        return keys.hasNext();
    }

    @Override
    public InputStream nextElement() {
        current = keys.next();
        try {
            InputStream raw = new FilterInputStream(new BufferedInputStream(lake.open(current), 1 << 16)) {
                @Override
                public int read() throws IOException {
                    int b = super.read();
                    if (b >= 0) {
                        bytes++;
                    }
                    return b;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = super.read(b, off, len);
                    if (n > 0) {
                        bytes += n;
                    }
                    return n;
                }
            };
            return new GZIPInputStream(raw, 1 << 16);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
