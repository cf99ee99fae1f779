package dev.cryptopipeline.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.TestPostgres;
import dev.cryptopipeline.lake.TransferColumn;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/**
 * What {@link BinaryCopy} converts, PostgreSQL reads as the very rows its own CSV reader makes of the same text: the
 * same CSV is copied both ways into two tables, whose rows must match as text (so the scale of a number and every
 * microsecond count), on a server far from UTC.
 */
class BinaryCopyIT {
    private static final String MAX_UINT256 =
            "115792089237316195423570985008687907853269984665640564039457584007913129639935";

    private String schema;
    private Connection c;

    @BeforeEach
    void setUp() throws Exception {
        schema = TestPostgres.newSchema("binarycopy");
        c = TestPostgres.superuser();
        try (Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA " + schema);
            for (String t : List.of("csv", "bin")) {
                st.execute("CREATE TABLE " + schema + "." + t + " (\n" + TransferColumn.ddl() + ")");
            }
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        try (Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA " + schema + " CASCADE");
        }
        c.close();
    }

    /** Copies {@code csv} both ways; returns the rows read. */
    private long bothWays(String csv) throws Exception {
        byte[] bytes = csv.getBytes(StandardCharsets.UTF_8);
        var copy = c.unwrap(PGConnection.class).getCopyAPI();
        String columns = " (" + TransferColumn.columnList() + ") FROM STDIN ";
        long read = copy.copyIn("COPY " + schema + ".csv" + columns + "(FORMAT csv)", new ByteArrayInputStream(bytes));
        long converted;
        try (InputStream in = new BinaryCopy(new ByteArrayInputStream(bytes))) {
            converted = copy.copyIn("COPY " + schema + ".bin" + columns + "(" + BinaryCopy.FORMAT + ")", in);
        }
        assertThat(converted).isEqualTo(read);
        return read;
    }

    private long differing() throws Exception {
        return TestPostgres.queryLong(c, "SELECT count(*) FROM ((SELECT t::text FROM " + schema + ".csv t EXCEPT ALL"
                + " SELECT t::text FROM " + schema + ".bin t) UNION ALL (SELECT t::text FROM " + schema + ".bin t"
                + " EXCEPT ALL SELECT t::text FROM " + schema + ".csv t)) d");
    }

    @Test
    void hard_cases_read_the_same_both_ways() throws Exception {
        String hash = "\\x" + "ab".repeat(32);
        String csv = String.join("\n",
                // Both timestamp forms, fractions, before 2000, a leap day; 78 digits; zero; leading zeros.
                "2024-01-01T00:00:00Z,1," + hash + "," + hash + ",0,\\x" + "c2".repeat(20) + ",,," + MAX_UINT256
                        + ",\"Q|\"\"Q\"\",\",\"Ünïcödé 🚀 line1\nline2\",0," + MAX_UINT256,
                "2024-01-01 00:00:00.5 UTC,9223372036854775,\\x,\\x00FFaB,-2147483,\\x,\\x11,\\x22,0,\"\",,255,0007",
                "1999-12-31T23:59:59.999999Z,0,\\xAB,\\xab,2147483,\\xab,\\xab,\\xab,10000,,\"\",,100000000",
                "2024-02-29 12:34:56.000001+00,18,\\x01,\\x02,3,\\x03,\\x04,\\x05,9999,\\N,back\\slash,-18,1",
                "1970-01-01T00:00:00+00:00,19,\\x01,\\x02,4,\\x03,,,00000000,\"a,b\",\"\"\"\",32767,99990000",
                "2262-04-11T23:47:16.854775Z,20,\\x01,\\x02,5,\\x03,,,1,\"日本円トークン\",\"\r\n\",-32768,"
                        + "1".repeat(78));
        assertThat(bothWays(csv)).isEqualTo(6);
        assertThat(differing()).isZero();
    }

    @Test
    void random_rows_read_the_same_both_ways() throws Exception {
        Random r = new Random(42);
        List<String> rows = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            StringBuilder row = new StringBuilder();
            row.append(String.format("%04d-%02d-%02d", 1990 + r.nextInt(60), 1 + r.nextInt(12), 1 + r.nextInt(28)));
            row.append(r.nextBoolean() ? 'T' : ' ');
            row.append(String.format("%02d:%02d:%02d", r.nextInt(24), r.nextInt(60), r.nextInt(60)));
            if (r.nextInt(3) == 0) {
                row.append('.').append(String.format("%06d", r.nextInt(1_000_000)), 0, 1 + r.nextInt(6));
            }
            row.append(List.of("Z", " UTC", "+00", "+00:00").get(r.nextInt(4)));
            row.append(',').append(r.nextLong() % 1_000_000_000_000_000_000L);
            row.append(',').append(hex(r, 32)).append(',').append(hex(r, 32));
            row.append(',').append(r.nextInt(2_000_000) - 1_000_000);
            row.append(',').append(hex(r, 20)).append(',').append(r.nextInt(5) == 0 ? "" : hex(r, 20));
            row.append(',').append(r.nextInt(5) == 0 ? "" : hex(r, 20));
            row.append(',').append(r.nextInt(5) == 0 ? "" : digits(r, 1 + r.nextInt(78)));
            row.append(',').append(text(r)).append(',').append(text(r));
            row.append(',').append(r.nextInt(5) == 0 ? "" : Integer.toString(r.nextInt(65536) - 32768));
            row.append(',').append(r.nextInt(5) == 0 ? "" : digits(r, 1 + r.nextInt(78)));
            rows.add(row.toString());
        }
        assertThat(bothWays(String.join("\n", rows) + "\n")).isEqualTo(3000);
        assertThat(differing()).isZero();
    }

    private static String hex(Random r, int bytes) {
        StringBuilder s = new StringBuilder("\\x");
        for (int i = 0; i < bytes; i++) {
            s.append(String.format(r.nextBoolean() ? "%02x" : "%02X", r.nextInt(256)));
        }
        return s.toString();
    }

    private static String digits(Random r, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            s.append((char) ('0' + r.nextInt(10)));
        }
        return s.toString();
    }

    /** NULL, an empty string, a plain text or a quoted one with quotes, commas, newlines and non-ASCII. */
    private static String text(Random r) {
        String alphabet = "abcXYZ 0123,\"\n\\é€😀";
        return switch (r.nextInt(4)) {
            case 0 -> "";
            case 1 -> "\"\"";
            case 2 -> "plain" + r.nextInt(1000);
            default -> {
                StringBuilder s = new StringBuilder("\"");
                int n = r.nextInt(30);
                for (int i = 0; i < n; i++) {
                    int cp = alphabet.codePointAt(alphabet.offsetByCodePoints(0, r.nextInt(alphabet.codePointCount(0,
                            alphabet.length()))));
                    s.append(cp == '"' ? "\"\"" : new String(Character.toChars(cp)));
                }
                yield s.append('"').toString();
            }
        };
    }
}
