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
    BLOCK_TIMESTAMP("block_timestamp", "timestamptz", true),
    BLOCK_NUMBER("block_number", "bigint", true),
    BLOCK_HASH("block_hash", "bytea", true),
    TRANSACTION_HASH("transaction_hash", "bytea", true),
    LOG_INDEX("log_index", "integer", true),
    TOKEN_ADDRESS("token_address", "bytea", true),
    FROM_ADDRESS("from_address", "bytea", false),
    TO_ADDRESS("to_address", "bytea", false),
    VALUE("value", "numeric(78,0)", false),
    SYMBOL("symbol", "text", false),
    NAME("name", "text", false),
    DECIMALS("decimals", "smallint", false),
    TOTAL_SUPPLY("total_supply", "numeric(78,0)", false);

    /** Longest symbol kept, in characters; longer ones are cut (DATA.md trap 5). */
    public static final int MAX_SYMBOL_LENGTH = 64;
    /** Longest name kept, in characters; longer ones are cut (DATA.md trap 5). */
    public static final int MAX_NAME_LENGTH = 256;

    private final String columnName;
    private final String pgType;
    private final boolean required;

    TransferColumn(String columnName, String pgType, boolean required) {
        this.columnName = columnName;
        this.pgType = pgType;
        this.required = required;
    }

    /** The column's name, the same in the lake manifest, BigQuery and PostgreSQL. */
    public String columnName() {
        return columnName;
    }

    /** The PostgreSQL type. */
    public String pgType() {
        return pgType;
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
