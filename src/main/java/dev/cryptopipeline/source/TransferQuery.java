package dev.cryptopipeline.source;

import dev.cryptopipeline.lake.Fingerprint;
import dev.cryptopipeline.lake.TransferColumn;
import java.util.Arrays;
import java.util.OptionalInt;
import java.util.stream.Collectors;

/**
 * The BigQuery SQL that cleans, de-duplicates and enriches the token transfers of a range of UTC days (DATA.md traps
 * 1–10), selecting exactly the lake columns of {@link TransferColumn}. Its parameters are {@code @first_day} and
 * {@code @last_day} (DATE) and, with a limit, {@code @row_limit} (INT64). Golden-file tests pin the text.
 */
public final class TransferQuery {
    /** The public dataset. */
    public static final String DATASET = "bigquery-public-data.crypto_ethereum";

    private TransferQuery() {
    }

    /**
     * The completeness check: the last modification of one day partition of {@code token_transfers}, from the
     * dataset's {@code INFORMATION_SCHEMA.PARTITIONS} view. Parameter {@code @partition} (STRING, {@code YYYYMMDD}).
     * Columns {@code partition_id} (STRING) and {@code last_modified_time} (TIMESTAMP); no row if the partition does
     * not exist.
     */
    public static String completenessSql() {
        return "SELECT partition_id, last_modified_time FROM `" + DATASET
                + ".INFORMATION_SCHEMA.PARTITIONS` WHERE table_name = 'token_transfers' AND partition_id = @partition";
    }

    /**
     * The other completeness evidence: the rows of {@code load_metadata}, which the dataset's daily load writes when it
     * has finished a day (DATA.md trap 8). Parameter {@code @day} (DATE). Columns {@code ds} (DATE) and
     * {@code complete_at} (TIMESTAMP); no row until the day's load finished.
     */
    public static String loadMetadataSql() {
        return "SELECT ds, complete_at FROM `" + DATASET + ".load_metadata` WHERE ds = @day";
    }

    /**
     * The row count of each UTC day in a staging table, counted over the table itself (it reads only
     * {@code block_timestamp}, 8 bytes a row). Columns {@code day} (DATE) and {@code row_count} (INT64), ordered by
     * day; a day without rows has no row.
     */
    public static String stagingCountsSql(String project, dev.cryptopipeline.config.Identifier dataset,
                                          String table) {
        if (!project.matches("[a-z][a-z0-9.:-]{0,62}[a-z0-9]")) {
            throw new dev.cryptopipeline.PipelineException.BadInput("Invalid Google Cloud project id '" + project
                    + "': use lowercase letters, digits and hyphens");
        }
        if (!table.matches("[A-Za-z0-9_]{1,1024}")) {
            throw new IllegalArgumentException("Not a staging table name: " + table);
        }
        return "SELECT DATE(block_timestamp) AS day, COUNT(*) AS row_count FROM `" + project + "." + dataset.name()
                + "." + table + "` GROUP BY day ORDER BY day";
    }

    /** The query for {@code [@first_day, @last_day]}, with a per-day row limit when {@code queryLimit} is present. */
    public static String sql(OptionalInt queryLimit) {
        return """
                -- crypto-pipeline: Ethereum token transfers of the UTC days [@first_day, @last_day], cleaned,
                -- de-duplicated and enriched, one row per (transaction_hash, log_index), each value already in the
                -- text form PostgreSQL's COPY (FORMAT csv) reads.
                """ + withClause(queryLimit) + select(queryLimit);
    }

    /**
     * The verify query: the row count and {@link Fingerprint} of each UTC day of {@code [@first_day, @last_day]} that
     * has rows, over exactly the rows {@link #sql} exports (its WITH clause and SELECT, unchanged, as the CTE
     * {@code export}), so the cleaning and de-duplication are the export's own. Same parameters as {@link #sql}; same
     * tables and columns, so it scans the same bytes. Columns {@code day} (DATE), {@code row_count} (INT64) and
     * {@code fingerprint} (STRING: the exact NUMERIC sum in decimal), ordered by day.
     */
    public static String fingerprintSql(OptionalInt queryLimit) {
        String canonical = Arrays.stream(TransferColumn.values())
                .map(c -> "        IFNULL(" + canonical(c) + ", '" + Fingerprint.NULL.replace("\\", "\\\\") + "')")
                .collect(Collectors.joining(", '" + Fingerprint.SEPARATOR + "',\n"));
        return """
                -- crypto-pipeline verify: the row count and content fingerprint of each UTC day in
                -- [@first_day, @last_day] of the rows the export query would load now (its WITH clause and SELECT,
                -- unchanged), computed as PostgreSQL computes it over the loaded rows: per row, the MD5 of the
                -- row's canonical text, its first 15 hex digits as an integer, summed exactly (NUMERIC) per day.
                """ + withClause(queryLimit) + """
                ,
                export AS (
                """ + select(queryLimit).substring(1).indent(2) + """
                ),
                hashed AS (
                  SELECT DATE(block_timestamp, 'UTC') AS day,
                    CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(CONCAT(
                %s
                    ))), 1, %s)) AS INT64) AS h
                  FROM export
                )
                SELECT day, COUNT(*) AS row_count, CAST(SUM(CAST(h AS NUMERIC)) AS STRING) AS fingerprint
                FROM hashed
                GROUP BY day
                ORDER BY day
                """.formatted(canonical, Integer.toString(Fingerprint.HEX_DIGITS)); // %d would use the locale's digits
    }

    /** A column's canonical text in GoogleSQL, from the export's value of it (see {@link Fingerprint}). */
    private static String canonical(TransferColumn c) {
        String col = c.columnName();
        return switch (Fingerprint.Kind.of(c)) {
            case TIMESTAMP -> "CAST(UNIX_MICROS(" + col + ") AS STRING)";
            case INTEGER -> "CAST(" + col + " AS STRING)";
            // The export writes bytea as COPY reads it: already \x and lowercase hex.
            case BYTES -> col;
            // PostgreSQL's numeric drops leading zeros; the export keeps the source's digits as they are.
            case UINT256 -> "REGEXP_REPLACE(" + col + ", r'^0+([0-9])', r'\\1')";
            // LENGTH counts characters (code points), as PostgreSQL's length does.
            case TEXT -> "CONCAT(CAST(LENGTH(" + col + ") AS STRING), ':', " + col + ")";
        };
    }

    /** The WITH clause of {@link #sql}: the cleaned, de-duplicated transfers and one token row per address. */
    private static String withClause(OptionalInt queryLimit) {
        String limited = queryLimit.isEmpty() ? "" : """
                ,
                -- --query-limit: the first @row_limit rows of each day in a fixed order, so a re-run loads the same rows.
                limited AS (
                  SELECT * FROM transfers
                  -- GoogleSQL takes QUALIFY only after a WHERE, GROUP BY or HAVING clause.
                  WHERE TRUE
                  QUALIFY ROW_NUMBER() OVER (PARTITION BY DATE(block_timestamp) ORDER BY block_number, log_index)
                          <= @row_limit
                )""";
        return """
                WITH transfers AS (
                  SELECT token_address, from_address, to_address, value, transaction_hash, log_index,
                         block_timestamp, block_number, block_hash
                  FROM `%1$s.token_transfers`
                  -- A half-open range on the bare partition column always prunes (DATE(block_timestamp) may not).
                  -- No log_index filter: 0 is the first log of a block, a real transfer.
                  WHERE block_timestamp >= TIMESTAMP(@first_day)
                    AND block_timestamp < TIMESTAMP(DATE_ADD(@last_day, INTERVAL 1 DAY))
                  -- Streaming inserts are at-least-once: keep one row per (transaction_hash, log_index),
                  -- deterministically (the latest block wins a reorg).
                  QUALIFY ROW_NUMBER() OVER (
                            PARTITION BY transaction_hash, log_index
                            ORDER BY block_number DESC, block_hash, token_address, from_address, to_address, value) = 1
                )%2$s,
                -- tokens has duplicate addresses (redeploys, streaming): exactly one row per address before joining,
                -- or transfers fan out.
                tokens AS (
                  SELECT address, symbol, name, decimals, total_supply
                  FROM `%1$s.tokens`
                  WHERE address IN (SELECT token_address FROM %3$s)
                  QUALIFY ROW_NUMBER() OVER (
                            PARTITION BY address
                            ORDER BY block_number DESC, symbol, name, decimals, total_supply) = 1
                ),
                -- Proxy tokens such as USDC are missing from tokens: amended_tokens fills in their metadata.
                amended AS (
                  SELECT address, symbol, name, SAFE_CAST(decimals AS STRING) AS decimals
                  FROM `%1$s.amended_tokens`
                  WHERE address IN (SELECT token_address FROM %3$s)
                  QUALIFY ROW_NUMBER() OVER (PARTITION BY address ORDER BY symbol, name) = 1
                )""".formatted(DATASET, limited, from(queryLimit));
    }

    /** The SELECT of {@link #sql}: the lake's columns of each transfer, with its token's metadata. */
    private static String select(OptionalInt queryLimit) {
        String columns = Arrays.stream(TransferColumn.values())
                .map(c -> "  " + c.bigQueryExpression() + " AS " + c.columnName())
                .collect(Collectors.joining(",\n"));
        return """

                SELECT
                %s
                FROM %s AS t
                -- LEFT JOINs: a transfer of an unknown token is kept, with NULL metadata.
                LEFT JOIN tokens AS k ON k.address = t.token_address
                LEFT JOIN amended AS a ON a.address = t.token_address
                """.formatted(columns, from(queryLimit));
    }

    private static String from(OptionalInt queryLimit) {
        return queryLimit.isEmpty() ? "transfers" : "limited";
    }
}
