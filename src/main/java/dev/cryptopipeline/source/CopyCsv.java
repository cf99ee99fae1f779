package dev.cryptopipeline.source;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Writes fields in the text form PostgreSQL's {@code COPY (FORMAT csv)} reads, the form a BigQuery export of the
 * generated SELECT also produces: an empty field is NULL, texts are always quoted, bytea is {@code \x<hex>},
 * timestamps are {@code YYYY-MM-DDTHH:MM:SSZ}. Not thread safe; one per file.
 */
public final class CopyCsv {
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final Writer out;
    private boolean firstField = true;

    public CopyCsv(Writer out) {
        this.out = out;
    }

    public CopyCsv timestamp(Instant t) throws IOException {
        return raw(TIMESTAMP.format(t));
    }

    public CopyCsv number(long n) throws IOException {
        return raw(Long.toString(n));
    }

    /** A number, or NULL when {@code n} is null. */
    public CopyCsv number(Integer n) throws IOException {
        return raw(n == null ? "" : n.toString());
    }

    /** A numeric(78,0) value, or NULL when {@code n} is null. */
    public CopyCsv number(BigInteger n) throws IOException {
        return raw(n == null ? "" : n.toString());
    }

    /** A bytea value as {@code \x<hex>}, or NULL when {@code bytes} is null. */
    public CopyCsv bytes(byte[] bytes) throws IOException {
        if (bytes == null) {
            return raw("");
        }
        char[] c = new char[2 + bytes.length * 2];
        c[0] = '\\';
        c[1] = 'x';
        for (int i = 0; i < bytes.length; i++) {
            c[2 + 2 * i] = HEX[(bytes[i] >> 4) & 0xf];
            c[3 + 2 * i] = HEX[bytes[i] & 0xf];
        }
        return raw(new String(c));
    }

    /** A text value, always quoted so that an empty string is not NULL; NULL when {@code s} is null. */
    public CopyCsv text(String s) throws IOException {
        separator();
        if (s != null) {
            out.write('"');
            out.write(s.replace("\"", "\"\""));
            out.write('"');
        }
        return this;
    }

    /** Ends the row. */
    public void endRow() throws IOException {
        out.write('\n');
        firstField = true;
    }

    private CopyCsv raw(String s) throws IOException {
        separator();
        out.write(s);
        return this;
    }

    private void separator() throws IOException {
        if (!firstField) {
            out.write(',');
        }
        firstField = false;
    }
}
