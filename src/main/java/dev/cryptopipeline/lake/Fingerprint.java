package dev.cryptopipeline.lake;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * The content fingerprint of a day of transfers: computed alike by BigQuery (the source's cleaned rows), PostgreSQL
 * (the loaded rows) and Java (the synthetic source), so a day whose rows differ anywhere in any loaded column shows.
 *
 * <p>The formula, over every column of {@link TransferColumn} in its order:
 * <ol>
 * <li>Each value becomes canonical text by the column's {@link Kind}: {@code \N} for NULL; a timestamp the decimal
 * count of microseconds since 1970-01-01T00:00:00Z; an integer its decimal digits; bytea {@code \x} and lowercase hex;
 * a {@code numeric(78,0)} its digits without leading zeros ({@code 0} for zero); a text its length in characters
 * (Unicode code points), a colon, and the text itself (so a {@code |} inside a text cannot shift a field boundary).
 * <li>A row's canonical text is its values joined by {@code |}.
 * <li>A row's hash is the first 15 hex digits of the MD5 of that text's UTF-8 bytes: an integer in [0, 2<sup>60</sup>).
 * 60 bits, not 64, so that it is a non-negative INT64/bigint in both SQL dialects.
 * <li>The day's fingerprint is the exact sum of its rows' hashes (order-independent), with the row count beside it.
 * It never overflows: BigQuery sums in NUMERIC (29 integer digits: more than 8·10<sup>10</sup> rows a day before
 * overflow), PostgreSQL's {@code sum(bigint)} is {@code numeric} (unbounded), Java carries it exactly.
 * </ol>
 * Only exact integer and string operations are involved, so the engines cannot drift apart (no floating point, no
 * time zone, no locale). A changed value, an added, missing or duplicated row changes the sum unless the hashes
 * cancel exactly, a chance of about 2<sup>-60</sup>.
 *
 * <p>An {@link Accumulator} is not thread safe: one per day.
 */
public final class Fingerprint {
    /** The text of a NULL value. */
    public static final String NULL = "\\N";
    /** Between two values of a row. */
    public static final String SEPARATOR = "|";
    /** Hex digits of the MD5 kept per row: 60 bits. */
    public static final int HEX_DIGITS = 15;

    /** How a column's values become canonical text. */
    public enum Kind {
        /** Microseconds since the epoch, in decimal. */
        TIMESTAMP,
        /** Decimal digits, with a minus sign if negative. */
        INTEGER,
        /** {@code \x} and lowercase hex. */
        BYTES,
        /** Decimal digits without leading zeros. */
        UINT256,
        /** Length in code points, {@code :}, the text. */
        TEXT;

        /** The kind of a column, from its PostgreSQL type. */
        public static Kind of(TransferColumn column) {
            return switch (column.pgType()) {
                case "timestamptz" -> TIMESTAMP;
                case "bigint", "integer", "smallint" -> INTEGER;
                case "bytea" -> BYTES;
                case "numeric(78,0)" -> UINT256;
                case "text" -> TEXT;
                default -> throw new IllegalStateException("Column " + column.columnName() + " of type "
                        + column.pgType() + " has no canonical text for the fingerprint: add its kind to Fingerprint");
            };
        }
    }

    /**
     * What a day holds, by the fingerprint's measure.
     *
     * @param rows the number of rows
     * @param sum  the sum of their hashes; zero for no rows
     */
    public record Day(long rows, BigInteger sum) {
        /** A day without rows. */
        public static final Day EMPTY = new Day(0, BigInteger.ZERO);

        public Day {
            Objects.requireNonNull(sum, "sum");
            if (rows < 0 || sum.signum() < 0) {
                throw new IllegalArgumentException("rows and sum cannot be negative");
            }
        }

        @Override
        public String toString() {
            return rows + " rows, fingerprint " + sum;
        }
    }

    private Fingerprint() {
    }

    /** The canonical text of one row, given as {@link Accumulator#add} takes it. */
    public static String canonicalText(Object... values) {
        StringBuilder text = new StringBuilder(512);
        Accumulator.canonical(values, text);
        return text.toString();
    }

    /** The hash of a row's canonical text: its MD5's first 15 hex digits as an integer in [0, 2^60). */
    public static long hash(String canonicalText) {
        try {
            return Accumulator.hash(MessageDigest.getInstance("MD5"), canonicalText);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sums the hashes of rows given as Java values, in {@link TransferColumn} order. */
    public static final class Accumulator {
        private static final List<Kind> KINDS = java.util.Arrays.stream(TransferColumn.values()).map(Kind::of)
                .toList();
        private static final HexFormat HEX = HexFormat.of();
        private final MessageDigest md5;
        private final StringBuilder text = new StringBuilder(512);
        private long rows;
        // The sum, exactly: the high and low 30 bits of each 60-bit hash summed apart cannot overflow for 2^33 rows.
        private long high;
        private long low;

        public Accumulator() {
            try {
                md5 = MessageDigest.getInstance("MD5");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        /**
         * Adds one row: a value per column in {@link TransferColumn} order, null for NULL. Timestamps are
         * {@link Instant}s, integers {@link Number}s, bytea {@code byte[]}, numeric(78,0) {@link BigInteger}s (or
         * strings of digits), texts {@link String}s.
         */
        public Accumulator add(Object... values) {
            text.setLength(0);
            canonical(values, text);
            long h = hash(md5, text);
            high += h >>> 30;
            low += h & ((1L << 30) - 1);
            rows++;
            return this;
        }

        /** The day so far. */
        public Day day() {
            return new Day(rows, BigInteger.valueOf(high).shiftLeft(30).add(BigInteger.valueOf(low)));
        }

        static void canonical(Object[] values, StringBuilder text) {
            if (values.length != KINDS.size()) {
                throw new IllegalArgumentException("a row has " + KINDS.size() + " values, not " + values.length);
            }
            for (int i = 0; i < values.length; i++) {
                if (i > 0) {
                    text.append(SEPARATOR);
                }
                canonical(KINDS.get(i), values[i], text);
            }
        }

        static long hash(MessageDigest md5, CharSequence canonical) {
            byte[] digest = md5.digest(canonical.toString().getBytes(StandardCharsets.UTF_8));
            // The first 15 hex digits: the first 60 bits of the digest.
            long first8 = 0;
            for (int i = 0; i < 8; i++) {
                first8 = (first8 << 8) | (digest[i] & 0xff);
            }
            return first8 >>> 4;
        }

        private static void canonical(Kind kind, Object v, StringBuilder out) {
            if (v == null) {
                out.append(NULL);
                return;
            }
            switch (kind) {
                case TIMESTAMP -> {
                    Instant t = (Instant) v;
                    out.append(Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L),
                            t.getNano() / 1000));
                }
                case INTEGER -> out.append(((Number) v).longValue());
                case BYTES -> out.append("\\x").append(HEX.formatHex((byte[]) v));
                case UINT256 -> out.append(v instanceof BigInteger b ? b.toString()
                        : new BigInteger((String) v).toString());
                case TEXT -> {
                    String s = (String) v;
                    out.append(s.codePointCount(0, s.length())).append(':').append(s);
                }
            }
        }
    }
}
