package dev.cryptopipeline.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The binary rows {@link BinaryCopy} writes, byte for byte, and the inputs it leaves to the server's CSV reader
 * (BinaryCopyIT loads both ways into PostgreSQL and compares).
 */
class BinaryCopyTest {
    /** A valid row; tests replace one field of it. */
    static final String ROW = "2024-01-01T02:00:00Z,22155000,\\x33ff,\\x94AB,2,\\xd0,\\xb3,\\x2a,10000,\"TK\","
            + "\"a \"\"b\"\", c\",18,7";

    private static byte[] convert(String csv) throws IOException {
        try (InputStream in = new BinaryCopy(new ByteArrayInputStream(csv.getBytes(StandardCharsets.UTF_8)))) {
            return in.readAllBytes();
        }
    }

    @Test
    void writes_the_header_the_rows_and_the_trailer() throws IOException {
        ByteBuffer b = ByteBuffer.wrap(convert(ROW + "\n"));
        byte[] signature = new byte[11];
        b.get(signature);
        assertThat(signature).isEqualTo(new byte[] {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0});
        assertThat(b.getInt()).isZero(); // flags
        assertThat(b.getInt()).isZero(); // header extension
        assertThat(b.getShort()).isEqualTo((short) 13);
        assertThat(b.getInt()).isEqualTo(8);
        // 2024-01-01T02:00:00Z in microseconds since 2000-01-01.
        assertThat(b.getLong()).isEqualTo((8766L * 86_400 + 7_200) * 1_000_000);
        assertThat(b.getInt()).isEqualTo(8);
        assertThat(b.getLong()).isEqualTo(22155000L);
        assertThat(b.getInt()).isEqualTo(2);
        assertThat(new byte[] {b.get(), b.get()}).isEqualTo(new byte[] {0x33, (byte) 0xff});
        assertThat(b.getInt()).isEqualTo(2);
        assertThat(new byte[] {b.get(), b.get()}).isEqualTo(new byte[] {(byte) 0x94, (byte) 0xab});
        assertThat(b.getInt()).isEqualTo(4);
        assertThat(b.getInt()).isEqualTo(2);
        for (int i = 0; i < 3; i++) {
            assertThat(b.getInt()).isEqualTo(1);
            b.get();
        }
        // 10000 in base 10000: two digits, weight 1.
        assertThat(b.getInt()).isEqualTo(12);
        assertThat(new short[] {b.getShort(), b.getShort(), b.getShort(), b.getShort(), b.getShort(), b.getShort()})
                .containsExactly(2, 1, 0, 0, 1, 0);
        assertThat(b.getInt()).isEqualTo(2);
        b.getShort();
        byte[] name = new byte[b.getInt()];
        b.get(name);
        assertThat(new String(name, StandardCharsets.UTF_8)).isEqualTo("a \"b\", c");
        assertThat(b.getInt()).isEqualTo(2);
        assertThat(b.getShort()).isEqualTo((short) 18);
        assertThat(b.getInt()).isEqualTo(10);
        b.position(b.position() + 10);
        assertThat(b.getShort()).isEqualTo((short) -1);
        assertThat(b.hasRemaining()).isFalse();
    }

    @Test
    void an_empty_field_is_null_and_an_empty_quoted_text_is_empty() throws IOException {
        ByteBuffer b = ByteBuffer.wrap(convert("2024-01-01T02:00:00Z,1,\\x,\\x,0,\\x,,,,\"\",,,\n"));
        b.position(11 + 8 + 2 + 12 + 12);
        assertThat(b.getInt()).isZero(); // block_hash: \x, no bytes
        assertThat(b.getInt()).isZero();
        assertThat(b.getInt()).isEqualTo(4);
        b.getInt();
        assertThat(b.getInt()).isZero();
        for (int i = 0; i < 3; i++) {
            assertThat(b.getInt()).isEqualTo(-1);
        }
        assertThat(b.getInt()).isZero(); // symbol ""
        for (int i = 0; i < 3; i++) {
            assertThat(b.getInt()).isEqualTo(-1);
        }
        assertThat(b.getShort()).isEqualTo((short) -1);
    }

    @Test
    void rows_may_straddle_reads_and_the_last_needs_no_newline() throws IOException {
        String csv = (ROW + "\n").repeat(5000) + ROW;
        byte[] whole = convert(csv);
        // Read through a stream that hands out 7 bytes at a time.
        InputStream trickle = new ByteArrayInputStream(csv.getBytes(StandardCharsets.UTF_8)) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 7));
            }
        };
        try (BinaryCopy in = new BinaryCopy(trickle)) {
            assertThat(in.readAllBytes()).isEqualTo(whole);
            assertThat(in.rows()).isEqualTo(5001);
        }
    }

    @Test
    void a_quoted_text_may_hold_newlines_and_commas() throws IOException {
        String csv = ROW.replace("\"TK\"", "\"T,\nK\r\n\"") + "\n";
        assertThat(convert(csv)).hasSizeGreaterThan(100);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "2024-01-01 02:00:00+01", // an offset other than UTC
        "2024-01-01 02:00:00", // no zone: the session's time zone would apply
        "2024-01-01T24:00:00Z", // the server reads it as the next midnight
        "2024-02-30T00:00:00Z",
        "2024-01-01T02:00:00.1234567Z", // more than microseconds: the server rounds
        "January 1 2024 02:00 UTC",
    })
    void leaves_other_timestamps_to_the_server(String timestamp) {
        assertThatThrownBy(() -> convert(ROW.replace("2024-01-01T02:00:00Z", timestamp) + "\n"))
                .isInstanceOf(BinaryCopy.NotConvertible.class).hasMessageContaining("block_timestamp");
    }

    @ParameterizedTest
    @ValueSource(strings = {",+2,", ",\"2\",", ",2 ,", ",9999999999,", ",0x2,"})
    void leaves_other_integers_to_the_server(String logIndex) {
        assertThatThrownBy(() -> convert(ROW.replace(",2,\\xd0", logIndex + "\\xd0") + "\n"))
                .isInstanceOf(BinaryCopy.NotConvertible.class);
    }

    @Test
    void leaves_other_numbers_hex_and_row_shapes_to_the_server() {
        for (String csv : new String[] {
            ROW.replace(",10000,", "," + "9".repeat(79) + ","),
            ROW.replace(",10000,", ",-5,"),
            ROW.replace(",10000,", ",1e5,"),
            ROW.replace(",10000,", ",1.5,"),
            ROW.replace("\\x33ff", "\\x33f"),
            ROW.replace("\\x33ff", "\\x33fg"),
            ROW.replace("\\x33ff", "\\\\x33ff"),
            ROW.replace("\\x33ff", "33ff"),
            ROW.replace(",18,", ",40000,"),
            ROW + ",1", // a field too many
            ROW.substring(0, ROW.lastIndexOf(',')), // a field too few
            ROW + "\r", // CRLF line ends
            ROW.replace("\"TK\"", "\"TK\"x"),
            ROW.replace("\"TK\"", "T\"K"),
            "\\.",
        }) {
            assertThatThrownBy(() -> convert(csv + "\n")).as(csv).isInstanceOf(BinaryCopy.NotConvertible.class);
        }
    }

    @Test
    void refuses_a_row_over_a_megabyte_and_an_unfinished_quote() {
        assertThatThrownBy(() -> convert(ROW.replace("\"TK\"", "\"" + "x".repeat(1 << 21) + "\"") + "\n"))
                .isInstanceOf(BinaryCopy.NotConvertible.class).hasMessageContaining("longer than");
        assertThatThrownBy(() -> convert(ROW.replace("\"TK\"", "\"TK") + "\n"))
                .isInstanceOf(BinaryCopy.NotConvertible.class);
    }

    @Test
    void an_empty_stream_is_a_header_and_a_trailer() throws IOException {
        assertThat(convert("")).hasSize(11 + 8 + 2);
    }
}
