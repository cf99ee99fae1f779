package dev.cryptopipeline.lake;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The one column spec of a token transfer. Its order is the lake's CSV column order and the COPY column list; its
 * PostgreSQL types make the DDL; its BigQuery expressions make the export SELECT. Add a column here and every
 * place follows.
 *
 * <p>Hashes and addresses are {@code bytea} (half the bytes of {@code 0x} text); in the lake they are written as
 * {@code \x<hex>}, which is what COPY reads for bytea. Timestamps are {@code YYYY-MM-DDTHH:MM:SSZ}, numbers plain
 * digits, texts always quoted (so an empty string differs from NULL, which is an empty field).
 */
public enum TransferColumn {
    // The BigQuery expressions read the de-duplicated transfer `t`, its token `k` (one row per address) and the
    // amended token `a` (fallback for proxy tokens missing from `tokens`). Bad values become NULL, never errors.
    BLOCK_TIMESTAMP("block_timestamp", "timestamptz", true, "t.block_timestamp"),
    BLOCK_NUMBER("block_number", "bigint", true, "t.block_number"),
    BLOCK_HASH("block_hash", "bytea", true, hex("t.block_hash", 64)),
    TRANSACTION_HASH("transaction_hash", "bytea", true, hex("t.transaction_hash", 64)),
    LOG_INDEX("log_index", "integer", true, "t.log_index"),
    TOKEN_ADDRESS("token_address", "bytea", true, hex("t.token_address", 40)),
    FROM_ADDRESS("from_address", "bytea", false, hex("t.from_address", 40)),
    TO_ADDRESS("to_address", "bytea", false, hex("t.to_address", 40)),
    VALUE("value", "numeric(78,0)", false, uint256("t.value")),
    SYMBOL("symbol", "text", false, text("COALESCE(k.symbol, a.symbol)", 64)),
    NAME("name", "text", false, text("COALESCE(k.name, a.name)", 256)),
    DECIMALS("decimals", "smallint", false,
            "CASE WHEN SAFE_CAST(COALESCE(k.decimals, a.decimals) AS INT64) BETWEEN 0 AND 255"
                    + " THEN SAFE_CAST(COALESCE(k.decimals, a.decimals) AS INT64) END"),
    TOTAL_SUPPLY("total_supply", "numeric(78,0)", false, uint256("k.total_supply"));

    private final String columnName;
    private final String pgType;
    private final boolean required;
    private final String bigQueryExpression;

    TransferColumn(String columnName, String pgType, boolean required, String bigQueryExpression) {
        this.columnName = columnName;
        this.pgType = pgType;
        this.required = required;
        this.bigQueryExpression = bigQueryExpression;
    }

    /** {@code 0x}-hex of {@code digits} hex digits as COPY's bytea input {@code \x<hex>}, lowercase; else NULL. */
    private static String hex(String column, int digits) {
        return "IF(REGEXP_CONTAINS(" + column + ", r'^0x[0-9a-fA-F]{" + digits + "}$'), CONCAT('\\\\x', LOWER(SUBSTR("
                + column + ", 3))), NULL)";
    }

    /** A decimal uint256 kept as its digits (BigQuery's NUMERIC types are too small); anything else NULL. */
    private static String uint256(String column) {
        return "IF(REGEXP_CONTAINS(" + column + ", r'^[0-9]{1,78}$'), " + column + ", NULL)";
    }

    /**
     * Text without control characters (PostgreSQL refuses NUL), at most {@code max} characters. Empty becomes NULL:
     * BigQuery's CSV export writes NULL and an empty string alike, so the lake never relies on the difference.
     */
    private static String text(String column, int max) {
        return "NULLIF(LEFT(REGEXP_REPLACE(" + column + ", r'\\p{Cc}', ''), " + max + "), '')";
    }

    /** The column's name, the same in the lake manifest, BigQuery and PostgreSQL. */
    public String columnName() {
        return columnName;
    }

    /** The PostgreSQL type. */
    public String pgType() {
        return pgType;
    }

    /** The BigQuery expression that produces the column's lake value (see the class comment for the aliases). */
    public String bigQueryExpression() {
        return bigQueryExpression;
    }

    /** True if the column is NOT NULL. */
    public boolean required() {
        return required;
    }

    /** All column names in lake order. */
    public static List<String> names() {
        return Arrays.stream(values()).map(TransferColumn::columnName).toList();
    }

    /** The comma-separated, unquoted column list in lake order (the names are fixed lowercase identifiers). */
    public static String columnList() {
        return String.join(", ", names());
    }

    /** The column definitions for CREATE TABLE, one per line. */
    public static String ddl() {
        return Arrays.stream(values())
                .map(c -> "    " + c.columnName + " " + c.pgType + (c.required ? " NOT NULL" : ""))
                .collect(Collectors.joining(",\n"));
    }
}
