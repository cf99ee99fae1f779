package dev.cryptopipeline.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The fingerprint's Java side: the canonical text, the hash and the exact sum that BigQuery and PostgreSQL mirror. */
class FingerprintTest {

    private static Object[] row(long blockNumber, String name) {
        return new Object[] {Instant.parse("2024-03-03T00:00:00.250Z"), blockNumber, new byte[] {(byte) 0xab, 1},
                new byte[] {0}, 0, new byte[] {(byte) 0xff}, null, new byte[0], new BigInteger("5"), "Q|\"Q\"", name,
                255, null};
    }

    @Test
    void every_type_has_one_canonical_text() {
        // when
        String text = Fingerprint.canonicalText(row(1400, "Ünï 🚀\nx"));
        // then: microseconds since the epoch, digits, \x + lowercase hex, \N for NULL, texts prefixed by their length
        // in code points (the rocket is one, though two UTF-16 units)
        assertThat(text).isEqualTo("1709424000250000|1400|\\xab01|\\x00|0|\\xff|\\N|\\x|5|5:Q|\"Q\"|7:Ünï 🚀\nx"
                + "|255|\\N");
    }

    @Test
    void a_numeric_has_no_leading_zeros_and_zero_stays_zero() {
        Object[] padded = row(1, "n");
        padded[8] = "000123";
        Object[] zero = row(1, "n");
        zero[8] = "000";
        assertThat(Fingerprint.canonicalText(padded)).contains("|123|");
        assertThat(Fingerprint.canonicalText(zero)).contains("|0|");
    }

    @Test
    void a_separator_inside_a_text_cannot_move_a_field_boundary() {
        // given: the same characters split differently between symbol and name
        Object[] a = row(1, "c");
        a[9] = "a|b";
        Object[] b = row(1, "b|c");
        b[9] = "a";
        // then
        assertThat(Fingerprint.canonicalText(a)).isNotEqualTo(Fingerprint.canonicalText(b));
    }

    @Test
    void the_hash_is_the_first_15_hex_digits_of_the_md5() {
        // MD5("abc") = 900150983cd24fb0d6963f7d28e17f72
        assertThat(Fingerprint.hash("abc")).isEqualTo(0x900150983cd24fbL);
    }

    @Test
    void the_sum_is_exact_past_64_bits_and_independent_of_order() {
        // given: 1000 rows, whose 60-bit hashes add up far beyond a long
        List<Object[]> rows = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            rows.add(row(i, "token " + i));
        }
        BigInteger expected = BigInteger.ZERO;
        for (Object[] r : rows) {
            long h = Fingerprint.hash(Fingerprint.canonicalText(r));
            assertThat(h).isBetween(0L, (1L << 60) - 1);
            expected = expected.add(BigInteger.valueOf(h));
        }
        // when
        Fingerprint.Accumulator forward = new Fingerprint.Accumulator();
        rows.forEach(forward::add);
        Collections.shuffle(rows, new Random(7));
        Fingerprint.Accumulator shuffled = new Fingerprint.Accumulator();
        rows.forEach(shuffled::add);
        // then
        assertThat(forward.day()).isEqualTo(new Fingerprint.Day(1000, expected));
        assertThat(forward.day().sum()).isGreaterThan(BigInteger.valueOf(Long.MAX_VALUE));
        assertThat(shuffled.day()).isEqualTo(forward.day());
    }

    @Test
    void a_changed_value_an_extra_row_or_a_missing_row_changes_the_day() {
        // given
        List<Object[]> rows = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            rows.add(row(i, "t"));
        }
        Fingerprint.Day original = sum(rows);
        // when / then
        List<Object[]> changed = new ArrayList<>(rows);
        Object[] r = Arrays.copyOf(rows.get(7), 13);
        r[8] = new BigInteger("6");
        changed.set(7, r);
        assertThat(sum(changed).rows()).isEqualTo(50);
        assertThat(sum(changed).sum()).isNotEqualTo(original.sum());
        List<Object[]> doubled = new ArrayList<>(rows);
        doubled.add(rows.get(3));
        assertThat(sum(doubled)).isNotEqualTo(original);
        assertThat(sum(rows.subList(1, 50))).isNotEqualTo(original);
    }

    @Test
    void every_column_of_the_spec_has_a_kind_and_a_row_needs_every_column() {
        assertThat(Arrays.stream(TransferColumn.values()).map(Fingerprint.Kind::of)).hasSize(13);
        assertThatThrownBy(() -> new Fingerprint.Accumulator().add(1, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new Fingerprint.Accumulator().day()).isEqualTo(Fingerprint.Day.EMPTY);
    }

    private static Fingerprint.Day sum(List<Object[]> rows) {
        Fingerprint.Accumulator a = new Fingerprint.Accumulator();
        rows.forEach(a::add);
        return a.day();
    }
}
