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
    private boolean closed;

    LakeFiles(Lake lake, List<String> keys) {
        this.lake = lake;
        this.keys = keys.iterator();
    }

    /**
     * The files as one stream; an error reading the lake comes out as a {@link ReadException}, so a caller can tell
     * it from an error of where the bytes go.
     */
    InputStream stream() {
        return new MarkedInput(new java.io.SequenceInputStream(this));
    }

    /** False once the stream is closed: closing it must not open the files not read yet (nor change current). */
    @Override
    public boolean hasMoreElements() {
        return !closed && keys.hasNext();
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

    /** An error reading the lake during COPY, told apart from an error of the connection the bytes go to. */
    static final class ReadException extends IOException {
        ReadException(IOException cause) {
            super(cause.getMessage(), cause);
        }

        IOException lakeCause() {
            return (IOException) getCause();
        }
    }

    /** The lake's bytes on their way to COPY: any read error is marked as the lake's. */
    private final class MarkedInput extends FilterInputStream {
        MarkedInput(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (UncheckedIOException e) {
                throw new ReadException(e.getCause());
            } catch (IOException e) {
                throw new ReadException(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (UncheckedIOException e) {
                throw new ReadException(e.getCause());
            } catch (IOException e) {
                throw new ReadException(e);
            }
        }

        @Override
        public void close() throws IOException {
            // A SequenceInputStream closes by opening, then closing, every stream left in its enumeration.
            closed = true;
            super.close();
        }
    }
}
