package dev.cryptopipeline.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.TestPostgres;
import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.lake.Fingerprint;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL's side of the fingerprint gives, value for value, the canonical text and sum that Java computes, for
 * every column type and its hard cases, whatever the session's time zone (the server runs far from UTC).
 */
class PostgresFingerprintIT {
    private static final LocalDate DAY = LocalDate.of(2024, 3, 3);
    private static final String MAX_UINT256 =
            "115792089237316195423570985008687907853269984665640564039457584007913129639935";

    private static byte[] bytes(int n, int fill) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) fill);
        return b;
    }

    /** Rows in Java values, TransferColumn order. */
    private static List<Object[]> rows() {
        List<Object[]> rows = new ArrayList<>();
        // Microseconds, quotes and the separator in a symbol, a newline, an emoji and combining-free accents in a name,
        // 78 digits, decimals 0.
        rows.add(new Object[] {Instant.parse("2024-03-03T00:00:00.250001Z"), 19_000_001L, bytes(32, 0xab),
                bytes(32, 0x01), 0, bytes(20, 0xc2), bytes(20, 0x10), bytes(20, 0x20), new BigInteger(MAX_UINT256),
                "Q|\"Q\",", "Quote \"Q\", Ünïcödé 🚀 line1\nline2", 0, new BigInteger(MAX_UINT256)});
        // Every nullable column NULL.
        rows.add(new Object[] {Instant.parse("2024-03-03T09:00:00Z"), 19_000_002L, bytes(32, 0x02), bytes(32, 0x03), 1,
                bytes(20, 0xf0), null, null, null, null, null, null, null});
        // An empty symbol (not NULL), CJK, zero, the largest bigint block number, the last microsecond of the day.
        rows.add(new Object[] {Instant.parse("2024-03-03T23:59:59.999999Z"), Long.MAX_VALUE, bytes(32, 0x04),
                bytes(32, 0x05), 2_147_483_647, bytes(20, 0x00), bytes(20, 0x11), bytes(20, 0x22), BigInteger.ZERO, "",
                "日本円トークン", 255, BigInteger.ONE});
        // A text that reads like the NULL marker, and a backslash.
        rows.add(new Object[] {Instant.parse("2024-03-03T12:00:00Z"), 19_000_003L, bytes(32, 0x06), bytes(32, 0x07), 3,
                bytes(20, 0x33), bytes(20, 0x44), bytes(20, 0x55), BigInteger.TEN, "\\N", "back\\slash", 18, null});
        return rows;
    }

    @Test
    void postgresql_computes_the_canonical_text_and_sum_that_java_computes() throws Exception {
        // given: the rows inserted into a day partition of a migrated schema
        String name = TestPostgres.newSchema("fp");
        Identifier schema = new Identifier(name);
        try (Connection c = TestPostgres.superuser()) {
            Migrations.migrate(c, schema);
            try (Statement st = c.createStatement()) {
                st.execute("CREATE TABLE " + name + ".token_transfers_p20240303 PARTITION OF " + name
                        + ".token_transfers FOR VALUES FROM ('2024-03-03 00:00:00+00') TO ('2024-03-04 00:00:00+00')");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + name + ".token_transfers VALUES"
                    + " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (Object[] r : rows()) {
                    ps.setObject(1, OffsetDateTime.ofInstant((Instant) r[0], ZoneOffset.UTC));
                    ps.setLong(2, (Long) r[1]);
                    ps.setBytes(3, (byte[]) r[2]);
                    ps.setBytes(4, (byte[]) r[3]);
                    ps.setInt(5, (Integer) r[4]);
                    ps.setBytes(6, (byte[]) r[5]);
                    ps.setBytes(7, (byte[]) r[6]);
                    ps.setBytes(8, (byte[]) r[7]);
                    ps.setBigDecimal(9, r[8] == null ? null : new BigDecimal((BigInteger) r[8]));
                    ps.setString(10, (String) r[9]);
                    ps.setString(11, (String) r[10]);
                    if (r[11] == null) {
                        ps.setNull(12, Types.SMALLINT);
                    } else {
                        ps.setShort(12, ((Integer) r[11]).shortValue());
                    }
                    ps.setBigDecimal(13, r[12] == null ? null : new BigDecimal((BigInteger) r[12]));
                    ps.executeUpdate();
                }
            }
            // when: in the server's own time zone, not UTC
            List<String> texts = new ArrayList<>();
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT "
                    + PostgresFingerprint.rowText() + " FROM " + name + ".token_transfers ORDER BY block_number")) {
                while (rs.next()) {
                    texts.add(rs.getString(1));
                }
            }
            Fingerprint.Day day = PostgresFingerprint.of(c, schema, DAY);
            // then: the same text for every row, and the same day
            Fingerprint.Accumulator inJava = new Fingerprint.Accumulator();
            List<String> expected = new ArrayList<>();
            rows().stream().sorted(java.util.Comparator.comparingLong(r -> (Long) r[1])).forEach(r -> {
                expected.add(Fingerprint.canonicalText(r));
                inJava.add(r);
            });
            assertThat(texts).containsExactlyElementsOf(expected);
            assertThat(day).isEqualTo(inJava.day());
            assertThat(PostgresFingerprint.of(c, schema, DAY.plusDays(1))).isEqualTo(Fingerprint.Day.EMPTY);
        }
    }
}
