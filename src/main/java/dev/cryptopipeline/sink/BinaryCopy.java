package dev.cryptopipeline.sink;

import dev.cryptopipeline.lake.TransferColumn;
import java.io.IOException;
import java.io.InputStream;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.util.Arrays;

/**
 * The lake's CSV rows rewritten, as they stream by, in PostgreSQL's binary COPY format, which the server reads about
 * 2.5 times faster than CSV: it no longer parses text, decodes hex or reads decimal digits, all of which this does on
 * the client's core instead.
 *
 * <p>It is only a faster road to the same rows. It converts a value only when it is certain the server would read
 * the CSV text as exactly that value: plain digits, {@code \x}-hex of whole bytes, timestamps written in UTC
 * ({@code YYYY-MM-DD HH:MM:SS[.ffffff]} with {@code T} or a space, then {@code Z}, {@code UTC}, {@code +00} or
 * {@code +00:00}), texts as they are (the server still checks their encoding). Anything else (another timestamp form,
 * a sign, a quoted number, a carriage return, a wrong number of fields, a row over 1 MB) ends the stream with
 * {@link NotConvertible}, and the caller loads the day from the CSV as before, so that the server decides, and words
 * any error, exactly as it always did. Not thread safe.
 */
final class BinaryCopy extends InputStream {
    /** The COPY option that reads this stream. */
    static final String FORMAT = "FORMAT binary";

    private static final byte[] SIGNATURE = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0};
    private static final int MAX_ROW = 1 << 20;
    /** Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch. */
    private static final long PG_EPOCH_DAY = 10_957;
    /** The bytes that end an unquoted value: the separator, the newline, and a quote or carriage return. */
    private static final boolean[] SPECIAL = new boolean[256];

    static {
        for (char c : new char[] {',', '\n', '"', '\r'}) {
            SPECIAL[c] = true;
        }
    }

    /** The byte of every pair of hex digits (either case), by the pair's two bytes; -1 for any other pair. */
    private static final short[] HEX_PAIR = new short[1 << 16];

    static {
        Arrays.fill(HEX_PAIR, (short) -1);
        String digits = "0123456789abcdefABCDEF";
        for (int i = 0; i < digits.length(); i++) {
            for (int j = 0; j < digits.length(); j++) {
                HEX_PAIR[digits.charAt(i) << 8 | digits.charAt(j)] =
                        (short) (Character.digit(digits.charAt(i), 16) << 4 | Character.digit(digits.charAt(j), 16));
            }
        }
    }

    /** Why a stream could not be converted; the caller then loads the CSV as it is. */
    static final class NotConvertible extends IOException {
        NotConvertible(String reason) {
            super(reason);
        }
    }

    private enum Kind { TIMESTAMPTZ, INT8, INT4, INT2, BYTEA, NUMERIC, TEXT }

    private static final Kind[] KINDS;
    private static final int[] NUMERIC_DIGITS;

    static {
        TransferColumn[] columns = TransferColumn.values();
        KINDS = new Kind[columns.length];
        NUMERIC_DIGITS = new int[columns.length];
        for (int i = 0; i < columns.length; i++) {
            String type = columns[i].pgType();
            if (type.startsWith("numeric(") && type.endsWith(",0)")) {
                KINDS[i] = Kind.NUMERIC;
                NUMERIC_DIGITS[i] = Integer.parseInt(type.substring(8, type.length() - 3));
            } else {
                KINDS[i] = switch (type) {
                    case "timestamptz" -> Kind.TIMESTAMPTZ;
                    case "bigint" -> Kind.INT8;
                    case "integer" -> Kind.INT4;
                    case "smallint" -> Kind.INT2;
                    case "bytea" -> Kind.BYTEA;
                    case "text" -> Kind.TEXT;
                    default -> throw new IllegalStateException("no binary form for column type " + type);
                };
            }
        }
    }

    private final InputStream csv;
    private byte[] in = new byte[1 << 16];
    private int inPos;
    private int inEnd;
    private boolean inEof;
    private byte[] out = new byte[1 << 17];
    private int outPos;
    private int outEnd;
    private boolean started;
    private boolean finished;
    private long rows;

    /** The last date seen and its day number, since a day's timestamps share it. */
    private final byte[] lastDate = new byte[10];
    private long lastEpochDay = Long.MIN_VALUE;

    BinaryCopy(InputStream csv) {
        this.csv = csv;
    }

    /** Rows converted so far. */
    long rows() {
        return rows;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (outPos == outEnd && !fill()) {
            return -1;
        }
        int n = Math.min(len, outEnd - outPos);
        System.arraycopy(out, outPos, b, off, n);
        outPos += n;
        return n;
    }

    @Override
    public void close() throws IOException {
        csv.close();
    }

    /** Converts the next rows into {@code out}; false at the end of the stream. */
    private boolean fill() throws IOException {
        outPos = 0;
        outEnd = 0;
        if (finished) {
            return false;
        }
        if (!started) {
            put(SIGNATURE, 0, SIGNATURE.length);
            putInt(0); // flags
            putInt(0); // header extension length
            started = true;
        }
        // Convert at least one row, then as many as fit in half the buffer (the rest is room for the next row).
        while (outEnd < out.length / 2) {
            if (inPos == inEnd && !refill()) {
                putShort(-1);
                finished = true;
                break;
            }
            int end = convertRow(inPos);
            if (end < 0) {
                if (inEof) {
                    throw new NotConvertible("the last row is incomplete");
                }
                if (!refill()) {
                    throw new NotConvertible("the last row is incomplete");
                }
                continue;
            }
            inPos = end;
            rows++;
        }
        return outEnd > 0;
    }

    /** Moves the unread bytes to the front and reads more; false if nothing is left at all. */
    private boolean refill() throws IOException {
        if (inPos > 0) {
            System.arraycopy(in, inPos, in, 0, inEnd - inPos);
            inEnd -= inPos;
            inPos = 0;
        }
        if (inEnd == in.length) {
            if (in.length >= MAX_ROW) {
                throw new NotConvertible("a row is longer than " + MAX_ROW + " bytes");
            }
            in = Arrays.copyOf(in, in.length * 2);
        }
        if (inEof) {
            return inEnd > 0;
        }
        int n = csv.read(in, inEnd, in.length - inEnd);
        if (n < 0) {
            inEof = true;
        } else {
            inEnd += n;
        }
        return inEnd > 0;
    }

    /**
     * Converts the row starting at {@code p} and appends it to {@code out}; returns where the next row starts, or -1
     * if the row does not end in the bytes read so far (nothing appended then).
     */
    private int convertRow(int p) throws NotConvertible {
        int rowOut = outEnd;
        putShort(KINDS.length);
        for (int col = 0; col < KINDS.length; col++) {
            boolean last = col == KINDS.length - 1;
            if (p >= inEnd) {
                return incomplete(rowOut);
            }
            int end;
            if (in[p] == '"') {
                if (KINDS[col] != Kind.TEXT) {
                    throw new NotConvertible("a quoted value in column " + name(col));
                }
                end = quotedText(p);
                if (end < 0) {
                    return incomplete(rowOut);
                }
            } else {
                end = p;
                while (end < inEnd && !SPECIAL[in[end] & 0xff]) {
                    end++;
                }
                if (end < inEnd && (in[end] == '"' || in[end] == '\r')) {
                    throw new NotConvertible("a quote or carriage return inside a value of column " + name(col));
                }
                if (end == inEnd && !inEof) {
                    return incomplete(rowOut);
                }
                if (end == p) {
                    putInt(-1); // an empty unquoted field is NULL
                } else {
                    value(col, p, end);
                }
            }
            // The field must end with a comma, or the last one with a newline (or the end of the data).
            if (last) {
                if (end < inEnd && in[end] != '\n') {
                    throw new NotConvertible("more than " + KINDS.length + " fields in a row");
                }
                return end < inEnd ? end + 1 : end;
            }
            if (end >= inEnd) {
                if (inEof) {
                    throw new NotConvertible("fewer than " + KINDS.length + " fields in a row");
                }
                return incomplete(rowOut);
            }
            if (in[end] != ',') {
                throw new NotConvertible("fewer than " + KINDS.length + " fields in a row");
            }
            p = end + 1;
        }
        throw new AssertionError("unreachable");
    }

    private int incomplete(int rowOut) {
        outEnd = rowOut;
        return -1;
    }

    /** Appends a quoted text field starting at the quote {@code p}; returns the index after its closing quote. */
    private int quotedText(int p) throws NotConvertible {
        int lengthAt = outEnd;
        putInt(0);
        int start = outEnd;
        int i = p + 1;
        while (true) {
            if (i >= inEnd) {
                outEnd = lengthAt;
                return -1;
            }
            byte c = in[i];
            if (c == '"') {
                if (i + 1 >= inEnd && !inEof) {
                    outEnd = lengthAt;
                    return -1;
                }
                if (i + 1 < inEnd && in[i + 1] == '"') {
                    putByte('"');
                    i += 2;
                    continue;
                }
                i++;
                break;
            }
            putByte(c);
            i++;
        }
        if (i < inEnd && in[i] != ',' && in[i] != '\n') {
            throw new NotConvertible("text after a closing quote");
        }
        setInt(lengthAt, outEnd - start);
        return i;
    }

    /** Appends the unquoted, non-empty value in {@code in[from, to)} of column {@code col}. */
    private void value(int col, int from, int to) throws NotConvertible {
        switch (KINDS[col]) {
            case TIMESTAMPTZ -> {
                putInt(8);
                putLong(timestamp(col, from, to));
            }
            case INT8 -> {
                putInt(8);
                putLong(integer(col, from, to, 18));
            }
            case INT4 -> {
                putInt(4);
                putInt((int) integer(col, from, to, 9));
            }
            case INT2 -> {
                long v = integer(col, from, to, 5);
                if (v < Short.MIN_VALUE || v > Short.MAX_VALUE) {
                    throw notConvertible(col, from, to);
                }
                putInt(2);
                putShort((int) v);
            }
            case BYTEA -> bytea(col, from, to);
            case NUMERIC -> numeric(col, from, to);
            case TEXT -> {
                putInt(to - from);
                put(in, from, to - from);
            }
            default -> throw new AssertionError(KINDS[col]);
        }
    }

    /** An optionally negative integer of at most {@code maxDigits} digits (so it cannot overflow). */
    private long integer(int col, int from, int to, int maxDigits) throws NotConvertible {
        boolean negative = in[from] == '-';
        int i = negative ? from + 1 : from;
        if (i == to || to - i > maxDigits) {
            throw notConvertible(col, from, to);
        }
        long v = 0;
        for (; i < to; i++) {
            int d = in[i] - '0';
            if (d < 0 || d > 9) {
                throw notConvertible(col, from, to);
            }
            v = v * 10 + d;
        }
        return negative ? -v : v;
    }

    /** {@code \x} then hex digits in pairs, as bytes. */
    private void bytea(int col, int from, int to) throws NotConvertible {
        int digits = to - from - 2;
        if (digits < 0 || (digits & 1) != 0 || in[from] != '\\' || in[from + 1] != 'x') {
            throw notConvertible(col, from, to);
        }
        putInt(digits / 2);
        ensureOut(digits / 2);
        for (int i = from + 2; i < to; i += 2) {
            int b = HEX_PAIR[(in[i] & 0xff) << 8 | (in[i + 1] & 0xff)];
            if (b < 0) {
                throw notConvertible(col, from, to);
            }
            out[outEnd++] = (byte) b;
        }
    }

    /**
     * Plain digits, at most the column's precision, as a binary numeric: base-10000 digits, most significant first,
     * with the weight of the first; the server normalises leading and trailing zero digits as it does for text.
     */
    private void numeric(int col, int from, int to) throws NotConvertible {
        int length = to - from;
        if (length > NUMERIC_DIGITS[col]) {
            throw notConvertible(col, from, to);
        }
        int groups = (length + 3) / 4;
        putInt(8 + 2 * groups);
        putShort(groups);
        putShort(groups - 1); // weight
        putShort(0); // sign: positive
        putShort(0); // display scale
        int i = from;
        int first = length - 4 * (groups - 1);
        for (int g = 0; g < groups; g++) {
            int n = g == 0 ? first : 4;
            int v = 0;
            for (int k = 0; k < n; k++, i++) {
                int d = in[i] - '0';
                if (d < 0 || d > 9) {
                    throw notConvertible(col, from, to);
                }
                v = v * 10 + d;
            }
            putShort(v);
        }
    }

    /**
     * {@code YYYY-MM-DD HH:MM:SS[.f…]} ({@code T} or a space between) in UTC ({@code Z}, {@code  UTC}, {@code +00},
     * {@code +00:00}) as microseconds since 2000-01-01 UTC.
     */
    private long timestamp(int col, int from, int to) throws NotConvertible {
        if (to - from < 20 || in[from + 4] != '-' || in[from + 7] != '-'
                || (in[from + 10] != 'T' && in[from + 10] != ' ') || in[from + 13] != ':' || in[from + 16] != ':') {
            throw notConvertible(col, from, to);
        }
        int hour = digits(col, from, to, from + 11, 2);
        int minute = digits(col, from, to, from + 14, 2);
        int second = digits(col, from, to, from + 17, 2);
        if (hour > 23 || minute > 59 || second > 59) {
            throw notConvertible(col, from, to);
        }
        int i = from + 19;
        long micros = 0;
        if (in[i] == '.') {
            int start = ++i;
            while (i < to && in[i] >= '0' && in[i] <= '9') {
                i++;
            }
            int n = i - start;
            if (n == 0 || n > 6) {
                throw notConvertible(col, from, to);
            }
            micros = digits(col, from, to, start, n);
            for (int k = n; k < 6; k++) {
                micros *= 10;
            }
        }
        if (!utc(i, to)) {
            throw notConvertible(col, from, to);
        }
        long day = epochDay(col, from, to);
        return ((day - PG_EPOCH_DAY) * 86_400 + hour * 3_600L + minute * 60L + second) * 1_000_000 + micros;
    }

    private boolean utc(int i, int to) {
        int n = to - i;
        return n == 1 && in[i] == 'Z'
                || n == 4 && in[i] == ' ' && in[i + 1] == 'U' && in[i + 2] == 'T' && in[i + 3] == 'C'
                || n == 3 && in[i] == '+' && in[i + 1] == '0' && in[i + 2] == '0'
                || n == 6 && in[i] == '+' && in[i + 1] == '0' && in[i + 2] == '0' && in[i + 3] == ':'
                && in[i + 4] == '0' && in[i + 5] == '0';
    }

    /** The day number of the date at {@code from}, remembered for the next row (a day's rows share their date). */
    private long epochDay(int col, int from, int to) throws NotConvertible {
        if (lastEpochDay != Long.MIN_VALUE && Arrays.equals(in, from, from + 10, lastDate, 0, 10)) {
            return lastEpochDay;
        }
        int year = digits(col, from, to, from, 4);
        int month = digits(col, from, to, from + 5, 2);
        int dayOfMonth = digits(col, from, to, from + 8, 2);
        if (year < 1000) {
            throw notConvertible(col, from, to);
        }
        try {
            lastEpochDay = LocalDate.of(year, month, dayOfMonth).toEpochDay();
        } catch (DateTimeException e) {
            throw notConvertible(col, from, to);
        }
        System.arraycopy(in, from, lastDate, 0, 10);
        return lastEpochDay;
    }

    private int digits(int col, int from, int to, int at, int n) throws NotConvertible {
        int v = 0;
        for (int i = at; i < at + n; i++) {
            int d = in[i] - '0';
            if (d < 0 || d > 9) {
                throw notConvertible(col, from, to);
            }
            v = v * 10 + d;
        }
        return v;
    }

    private NotConvertible notConvertible(int col, int from, int to) {
        String value = new String(in, from, Math.min(to - from, 100), java.nio.charset.StandardCharsets.UTF_8);
        return new NotConvertible("the value '" + value + "' of column " + name(col) + " is not in a form read"
                + " without the server");
    }

    private static String name(int col) {
        return TransferColumn.values()[col].columnName();
    }

    private void ensureOut(int more) {
        if (outEnd + more > out.length) {
            out = Arrays.copyOf(out, Math.max(out.length * 2, outEnd + more));
        }
    }

    private void put(byte[] b, int off, int len) {
        ensureOut(len);
        System.arraycopy(b, off, out, outEnd, len);
        outEnd += len;
    }

    private void putByte(int b) {
        ensureOut(1);
        out[outEnd++] = (byte) b;
    }

    private void putShort(int v) {
        ensureOut(2);
        out[outEnd++] = (byte) (v >>> 8);
        out[outEnd++] = (byte) v;
    }

    private void putInt(int v) {
        ensureOut(4);
        setInt(outEnd, v);
        outEnd += 4;
    }

    private void setInt(int at, int v) {
        out[at] = (byte) (v >>> 24);
        out[at + 1] = (byte) (v >>> 16);
        out[at + 2] = (byte) (v >>> 8);
        out[at + 3] = (byte) v;
    }

    private void putLong(long v) {
        putInt((int) (v >>> 32));
        putInt((int) v);
    }
}
