package dev.cryptopipeline.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringWriter;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class CopyCsvTest {
    @Test
    void fields_are_written_as_copy_csv_reads_them() throws Exception {
        StringWriter w = new StringWriter();
        new CopyCsv(w).timestamp(Instant.parse("2024-01-01T00:00:05Z")).number(0L).bytes(new byte[] {0, (byte) 0xab})
                .bytes(null).number(SyntheticSource.MAX_UINT256).number((Integer) null)
                .text(null).text("").text("a \"quoted\", multi\nline ☃").endRow();
        assertThat(w.toString()).isEqualTo("2024-01-01T00:00:05Z,0,\\x00ab,,"
                + "115792089237316195423570985008687907853269984665640564039457584007913129639935,,,\"\","
                + "\"a \"\"quoted\"\", multi\nline ☃\"\n");
        assertThat(SyntheticSource.MAX_UINT256.toString()).hasSize(78);
    }
}
