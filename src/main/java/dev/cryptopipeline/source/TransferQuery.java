package dev.cryptopipeline.source;

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
     * The row count of each day partition of a staging table, from its dataset's {@code INFORMATION_SCHEMA.PARTITIONS}
     * (a metadata query). Parameter {@code @table} (STRING). Columns {@code partition_id} (STRING, {@code YYYYMMDD})
     * and {@code total_rows} (INT64).
     */
    public static String stagingPartitionsSql(String project, dev.cryptopipeline.config.Identifier dataset) {
        if (!project.matches("[a-z][a-z0-9.:-]{0,62}[a-z0-9]")) {
            throw new dev.cryptopipeline.PipelineException.BadInput("Invalid Google Cloud project id '" + project
                    + "': use lowercase letters, digits and hyphens");
        }
        return "SELECT partition_id, total_rows FROM `" + project + "." + dataset.name()
                + ".INFORMATION_SCHEMA.PARTITIONS` WHERE table_name = @table";
    }

    /** The query for {@code [@first_day, @last_day]}, with a per-day row limit when {@code queryLimit} is present. */
    public static String sql(OptionalInt queryLimit) {
        String select = Arrays.stream(TransferColumn.values())
                .map(c -> "  " + c.bigQueryExpression() + " AS " + c.columnName())
                .collect(Collectors.joining(",\n"));
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
        String from = queryLimit.isEmpty() ? "transfers" : "limited";
        return """
                -- crypto-pipeline: Ethereum token transfers of the UTC days [@first_day, @last_day], cleaned,
                -- de-duplicated and enriched, one row per (transaction_hash, log_index), each value already in the
                -- text form PostgreSQL's COPY (FORMAT csv) reads.
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
                )
                SELECT
                %4$s
                FROM %3$s AS t
                -- LEFT JOINs: a transfer of an unknown token is kept, with NULL metadata.
                LEFT JOIN tokens AS k ON k.address = t.token_address
                LEFT JOIN amended AS a ON a.address = t.token_address
                """.formatted(DATASET, limited, from, select);
    }
}
