package dev.cryptopipeline.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** Golden files pin the generated SQL: a change to it shows up in review. */
class TransferQueryTest {

    private static String golden(String name) throws IOException {
        Path p = Path.of("src/test/resources/golden", name);
        if (Boolean.getBoolean("golden.update")) {
            return null;
        }
        return Files.readString(p, StandardCharsets.UTF_8);
    }

    private static void assertGolden(String name, String actual) throws IOException {
        String expected = golden(name);
        if (expected == null) {
            Files.writeString(Path.of("src/test/resources/golden", name), actual, StandardCharsets.UTF_8);
            return;
        }
        assertThat(actual).isEqualTo(expected);
    }

    @Test
    void the_query_without_a_limit_matches_its_golden_file() throws IOException {
        assertGolden("transfers.sql", TransferQuery.sql(OptionalInt.empty()));
    }

    @Test
    void the_query_with_a_limit_matches_its_golden_file() throws IOException {
        assertGolden("transfers-limited.sql", TransferQuery.sql(OptionalInt.of(100)));
    }

    @Test
    void the_verify_query_matches_its_golden_file() throws IOException {
        assertGolden("fingerprint.sql", TransferQuery.fingerprintSql(OptionalInt.empty()));
    }

    @Test
    void the_queries_do_not_depend_on_the_default_locale() throws IOException {
        // given: a locale with digits of its own (the JVM takes it from LANG where it is installed)
        java.util.Locale before = java.util.Locale.getDefault();
        java.util.Locale.setDefault(java.util.Locale.forLanguageTag("ar-EG"));
        try {
            // then
            assertGolden("fingerprint.sql", TransferQuery.fingerprintSql(OptionalInt.empty()));
            assertGolden("transfers-limited.sql", TransferQuery.sql(OptionalInt.of(100)));
            assertThat(dev.cryptopipeline.lake.LakeLayout.partName(12)).isEqualTo("part-00012.csv.gz");
        } finally {
            java.util.Locale.setDefault(before);
        }
    }

    @Test
    void the_verify_query_wraps_the_export_query_unchanged() {
        for (OptionalInt limit : List.of(OptionalInt.empty(), OptionalInt.of(100))) {
            // given: the export's WITH clause and its SELECT
            String export = TransferQuery.sql(limit);
            String with = export.substring(export.indexOf("WITH transfers AS ("), export.indexOf("\nSELECT\n"));
            String select = export.substring(export.indexOf("\nSELECT\n") + 1);
            // when
            String verify = TransferQuery.fingerprintSql(limit);
            // then: both appear verbatim (the SELECT indented as the CTE export), so the cleaning cannot drift
            assertThat(verify).contains(with + ",\nexport AS (\n" + select.indent(2) + "),\nhashed AS (");
            assertThat(verify).contains("GROUP BY day").doesNotContain("LIMIT ");
        }
    }

    @Test
    void every_qualify_follows_a_where_group_by_or_having_clause_as_googlesql_requires() {
        for (OptionalInt limit : List.of(OptionalInt.empty(), OptionalInt.of(100))) {
            // given
            String[] pieces = TransferQuery.sql(limit).split("\n\\s*QUALIFY ");
            // then: between a QUALIFY and the SELECT it belongs to, a WHERE, GROUP BY or HAVING
            for (int i = 0; i < pieces.length - 1; i++) {
                String select = pieces[i].substring(pieces[i].lastIndexOf("\n  SELECT "));
                assertThat(select).as("the SELECT before QUALIFY #%d (limit %s)", i + 1, limit)
                        .containsAnyOf("\n  WHERE ", "\n  GROUP BY ", "\n  HAVING ");
            }
            assertThat(pieces).as("QUALIFY clauses (limit %s)", limit).hasSize(limit.isPresent() ? 5 : 4);
        }
    }

    @Test
    void the_query_handles_the_traps_of_the_source_data() {
        String sql = TransferQuery.sql(OptionalInt.of(100));
        assertThat(sql)
                // 1: log_index 0 is never filtered out
                .doesNotContain("log_index > 0")
                // partition pruning: a half-open range on the bare column
                .contains("WHERE block_timestamp >= TIMESTAMP(@first_day)")
                .contains("AND block_timestamp < TIMESTAMP(DATE_ADD(@last_day, INTERVAL 1 DAY))")
                .doesNotContain("DATE(block_timestamp) =")
                // 2: value stays a string, 78 digits at most
                .contains("IF(REGEXP_CONTAINS(t.value, r'^[0-9]{1,78}$'), t.value, NULL) AS value")
                .doesNotContain("NUMERIC")
                // 3 and 4: one token row per address, LEFT JOINs, amended_tokens as fallback
                .contains("PARTITION BY address").contains("LEFT JOIN tokens AS k").contains("LEFT JOIN amended AS a")
                .contains("COALESCE(k.symbol, a.symbol)").doesNotContain("INNER JOIN")
                // 5: control characters stripped, lengths capped
                .contains("REGEXP_REPLACE(COALESCE(k.name, a.name), r'\\p{Cc}', ''), 256)")
                // 6: decimals checked, bad values NULL
                .contains("SAFE_CAST(COALESCE(k.decimals, a.decimals) AS INT64) BETWEEN 0 AND 255")
                // 7: de-duplication on (transaction_hash, log_index)
                .contains("PARTITION BY transaction_hash, log_index")
                // 9: a deterministic per-day limit, not a plain LIMIT
                .contains("ORDER BY block_number, log_index)").contains("<= @row_limit").doesNotContain("LIMIT ")
                .contains("WHERE TRUE\n  QUALIFY ROW_NUMBER() OVER (PARTITION BY DATE(block_timestamp)")
                // bytea as COPY reads it
                .contains("CONCAT('\\\\x', LOWER(SUBSTR(t.token_address, 3)))");
    }
}
