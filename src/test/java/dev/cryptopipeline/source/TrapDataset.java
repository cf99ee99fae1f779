package dev.cryptopipeline.source;

import dev.cryptopipeline.source.GoogleSqlEngine.Column;
import dev.cryptopipeline.source.GoogleSqlEngine.SqlType;
import dev.cryptopipeline.source.GoogleSqlEngine.Table;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Small copies of {@code bigquery-public-data.crypto_ethereum}'s {@code token_transfers}, {@code tokens} and
 * {@code amended_tokens} (schemas of DATA.md), of the dataset's {@code INFORMATION_SCHEMA.PARTITIONS} and
 * {@code load_metadata}, and of two staging tables, holding every
 * trap of DATA.md, and the rows the transfer query must return for them, written by hand from the traps (never read
 * back from the SQL).
 *
 * <p>The days are {@link #FIRST_DAY}..{@link #LAST_DAY}: 2024-03-01 has seven transfers (after de-duplication),
 * 2024-03-02 none, 2024-03-03 four; one transfer lies just before the range and one just after.
 *
 * <p>Expected rows are in {@link #COLUMNS} order as text: timestamps {@code YYYY-MM-DD HH:MM:SS.ffffff} in UTC,
 * hashes and addresses {@code \x<hex>} as the lake and PostgreSQL's bytea text show them, numbers as digits,
 * {@code null} for NULL.
 */
public final class TrapDataset {
    public static final LocalDate FIRST_DAY = LocalDate.of(2024, 3, 1);
    public static final LocalDate EMPTY_DAY = LocalDate.of(2024, 3, 2);
    public static final LocalDate LAST_DAY = LocalDate.of(2024, 3, 3);

    public static final String TOKEN_TRANSFERS = TransferQuery.DATASET + ".token_transfers";
    public static final String TOKENS = TransferQuery.DATASET + ".tokens";
    public static final String AMENDED_TOKENS = TransferQuery.DATASET + ".amended_tokens";
    public static final String PARTITIONS = TransferQuery.DATASET + ".INFORMATION_SCHEMA.PARTITIONS";
    public static final String LOAD_METADATA = TransferQuery.DATASET + ".load_metadata";
    /** A run's staging table, as {@link TransferQuery#stagingCountsSql} names it. */
    public static final String STAGING_PROJECT = "test-project";
    public static final String STAGING_TABLE = STAGING_PROJECT + ".staging.token_transfers_20240304_a1_1";

    /** The transfer query's columns, in lake order (TransferColumn's, written out so a drift shows). */
    public static final List<String> COLUMNS = List.of("block_timestamp", "block_number", "block_hash",
            "transaction_hash", "log_index", "token_address", "from_address", "to_address", "value", "symbol", "name",
            "decimals", "total_supply");

    // uint256: the largest value has 78 digits; one digit more fits neither uint256 nor numeric(78,0).
    static final String UINT256_MAX =
            "115792089237316195423570985008687907853269984665640564039457584007913129639935";
    static final String DIGITS_79 = "1" + "0".repeat(78);
    static final String DIGITS_78 = "9".repeat(78);

    // Tokens, one per trap. USDC and DAI are the real proxy tokens' addresses.
    static final String DUPLICATED = "0x00000000000000000000000000000000000000d1";
    static final String USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";
    static final String DAI = "0x6b175474e89094c44da98b954eedeac495271d0f";
    static final String CONTROL = "0x00000000000000000000000000000000000000c1";
    static final String QUOTES = "0x00000000000000000000000000000000000000c2";
    static final String LONG = "0x00000000000000000000000000000000000000c3";
    static final String DECIMALS_NULL = "0x00000000000000000000000000000000000000e0";
    static final String DECIMALS_TEXT = "0x00000000000000000000000000000000000000e1";
    static final String DECIMALS_300 = "0x00000000000000000000000000000000000000e2";
    static final String DECIMALS_NEGATIVE = "0x00000000000000000000000000000000000000e3";
    static final String UNKNOWN = "0x00000000000000000000000000000000000000f0";

    static final String MINT = "0x0000000000000000000000000000000000000000";
    static final String ALICE = "0x1000000000000000000000000000000000000001";
    static final String BOB = "0x2000000000000000000000000000000000000002";

    private TrapDataset() {
    }

    /** A 32-byte hash, {@code 0x} and 64 hex digits, that shows {@code n} in its last digits. */
    static String hash(long n) {
        return String.format("0x%064x", n);
    }

    /** Block hashes: one per block number. */
    static String block(long number) {
        return hash(0xb000000L + number);
    }

    /** The four tables, as the dataset holds them. */
    public static List<Table> tables() {
        List<Table> tables = new ArrayList<>(List.of(tokenTransfers(), tokens(), amendedTokens(), partitions(),
                loadMetadata()));
        tables.addAll(stagingTables());
        return tables;
    }

    /** The four tables, each passed through {@code edit}: the dataset after the source changed it. */
    public static List<Table> tables(java.util.function.UnaryOperator<Table> edit) {
        return tables().stream().map(edit).toList();
    }

    private static Table tokenTransfers() {
        List<Column> columns = columns("token_address", SqlType.STRING, "from_address", SqlType.STRING,
                "to_address", SqlType.STRING, "value", SqlType.STRING, "transaction_hash", SqlType.STRING,
                "log_index", SqlType.INT64, "block_timestamp", SqlType.TIMESTAMP, "block_number", SqlType.INT64,
                "block_hash", SqlType.STRING);
        List<List<Object>> rows = new ArrayList<>();
        // token_address, from, to, value, transaction_hash, log_index, block_timestamp, block_number, block_hash
        // The last second of the day before the range: not in it.
        rows.add(row(DUPLICATED, ALICE, BOB, "1", hash(0x7f01), 5L, at("2024-02-29T23:59:59Z"), 999L, block(999)));
        // 2024-03-01, at exactly 00:00:00, log_index 0, the largest uint256.
        rows.add(row(DUPLICATED, MINT, ALICE, UINT256_MAX, hash(0x7101), 0L, at("2024-03-01T00:00:00Z"), 1001L,
                block(1001)));
        // USDC, missing from tokens; the streaming insert delivered the row twice.
        rows.add(row(USDC, ALICE, BOB, "1000000", hash(0x7102), 0L, at("2024-03-01T00:00:12Z"), 1002L,
                block(1002)));
        rows.add(row(USDC, ALICE, BOB, "1000000", hash(0x7102), 0L, at("2024-03-01T00:00:12Z"), 1002L,
                block(1002)));
        // 79 digits; a smaller transaction hash than the row above, so ordering by hash would differ.
        rows.add(row(CONTROL, BOB, ALICE, DIGITS_79, hash(0x7002), 1L, at("2024-03-01T00:00:12Z"), 1002L,
                block(1002)));
        // Not a number; no recipient.
        rows.add(row(DECIMALS_NULL, ALICE, null, "12a", hash(0x7104), 3L, at("2024-03-01T06:00:00Z"), 1100L,
                block(1100)));
        rows.add(row(DECIMALS_TEXT, ALICE, BOB, "0", hash(0x7001), 7L, at("2024-03-01T12:00:00Z"), 1200L,
                block(1200)));
        // A reorg: the same (transaction_hash, log_index) in two blocks; the later block's row is the one to keep.
        rows.add(row(DECIMALS_NEGATIVE, ALICE, BOB, "42", hash(0x7106), 4L, at("2024-03-01T18:00:00Z"), 1250L,
                block(1250)));
        rows.add(row(DECIMALS_NEGATIVE, ALICE, BOB, "42", hash(0x7106), 4L, at("2024-03-01T18:00:12Z"), 1251L,
                block(1251)));
        // The last microsecond of the day; an empty value.
        rows.add(row(DECIMALS_300, ALICE, BOB, "", hash(0x7000), 2L, at("2024-03-01T23:59:59.999999Z"), 1300L,
                block(1300)));
        // 2024-03-02: nothing. 2024-03-03, a fraction of a second after midnight:
        rows.add(row(QUOTES, BOB, ALICE, "5", hash(0x7301), 0L, at("2024-03-03T00:00:00.250Z"), 1400L, block(1400)));
        rows.add(row(LONG, BOB, ALICE, "7", hash(0x7302), 1L, at("2024-03-03T08:30:00Z"), 1500L, block(1500)));
        rows.add(row(UNKNOWN, BOB, ALICE, "1", hash(0x7303), 0L, at("2024-03-03T09:00:00Z"), 1501L, block(1501)));
        rows.add(row(DAI, BOB, ALICE, "250000000000000000000", hash(0x7304), 2L, at("2024-03-03T10:00:00Z"), 1502L,
                block(1502)));
        // The first second of the day after the range: not in it.
        rows.add(row(DUPLICATED, ALICE, BOB, "2", hash(0x7f02), 0L, at("2024-03-04T00:00:00Z"), 1600L, block(1600)));
        return new Table(TOKEN_TRANSFERS, columns, rows);
    }

    private static Table tokens() {
        List<Column> columns = columns("address", SqlType.STRING, "symbol", SqlType.STRING, "name", SqlType.STRING,
                "decimals", SqlType.STRING, "total_supply", SqlType.STRING, "block_timestamp", SqlType.TIMESTAMP,
                "block_number", SqlType.INT64, "block_hash", SqlType.STRING);
        List<List<Object>> rows = new ArrayList<>();
        // address, symbol, name, decimals, total_supply, block_timestamp, block_number, block_hash
        // Three rows that differ for one address: the latest block wins, then the smallest symbol.
        rows.add(row(DUPLICATED, "OLD", "Duplicated v1", "6", "1", at("2020-01-01T00:00:00Z"), 100L, block(100)));
        rows.add(row(DUPLICATED, "DUP2", "Duplicated v2b", "9", "2", at("2021-01-01T00:00:00Z"), 200L, block(200)));
        rows.add(row(DUPLICATED, "DUP1", "Duplicated v2", "18", "1000000000000000000000000",
                at("2021-01-01T00:00:00Z"), 200L, block(200)));
        // DAI's metadata could not be read as strings: NULLs here, amended_tokens has them.
        rows.add(row(DAI, null, null, null, "5000000000000000000000", at("2019-11-13T00:00:00Z"), 300L, block(300)));
        // NUL, SOH, DEL, CR, LF, TAB: control characters to strip.
        rows.add(row(CONTROL, "C\u0000T\u0001K\u007f", "Ctrl\u0000Name\r\n\tEnd", "0", "N/A",
                at("2022-01-01T00:00:00Z"), 400L, block(400)));
        // Quotes, commas, non-ASCII, an emoji (outside the BMP) and a newline; decimals and supply at their maxima.
        rows.add(row(QUOTES, "Q,\"Q\"", "Quote \"Q\", Ünïcödé 🚀 line1\nline2", "255", DIGITS_78,
                at("2022-01-02T00:00:00Z"), 401L, block(401)));
        // Too long: 70 emoji (64 kept) and 300 two-byte letters (256 kept); a 79-digit supply.
        rows.add(row(LONG, "🚀".repeat(70), "é".repeat(300), "8", DIGITS_79, at("2022-01-03T00:00:00Z"), 402L,
                block(402)));
        rows.add(row(DECIMALS_NULL, "DN", "Decimals NULL", null, "100", at("2022-01-04T00:00:00Z"), 403L,
                block(403)));
        // An empty symbol and a name of nothing but a NUL: both NULL.
        rows.add(row(DECIMALS_TEXT, "", "\u0000", "abc", "7", at("2022-01-05T00:00:00Z"), 404L, block(404)));
        rows.add(row(DECIMALS_300, "D300", "Decimals 300", "300", null, at("2022-01-06T00:00:00Z"), 405L,
                block(405)));
        rows.add(row(DECIMALS_NEGATIVE, "DNEG", "Decimals -1", "-1", "-5", at("2022-01-07T00:00:00Z"), 406L,
                block(406)));
        return new Table(TOKENS, columns, rows);
    }

    private static Table amendedTokens() {
        List<Column> columns = columns("address", SqlType.STRING, "symbol", SqlType.STRING, "name", SqlType.STRING,
                "decimals", SqlType.STRING);
        List<List<Object>> rows = new ArrayList<>();
        rows.add(row(USDC, "USDC", "USD Coin", "6"));
        rows.add(row(DAI, "DAI", "Dai Stablecoin", "18"));
        // The view covers tokens' addresses too; tokens' own row comes first.
        rows.add(row(DUPLICATED, "AMD", "Amended", "7"));
        return new Table(AMENDED_TOKENS, columns, rows);
    }

    private static Table partitions() {
        List<Column> columns = columns("table_catalog", SqlType.STRING, "table_schema", SqlType.STRING,
                "table_name", SqlType.STRING, "partition_id", SqlType.STRING, "total_rows", SqlType.INT64,
                "last_modified_time", SqlType.TIMESTAMP);
        List<List<Object>> rows = new ArrayList<>();
        rows.add(row("bigquery-public-data", "crypto_ethereum", "token_transfers", "20240301", 1_800_000L,
                at("2024-03-02T08:12:00Z")));
        rows.add(row("bigquery-public-data", "crypto_ethereum", "token_transfers", "20240302", 1_700_000L,
                at("2024-03-03T08:15:30.5Z")));
        // Another table's partition of the same day.
        rows.add(row("bigquery-public-data", "crypto_ethereum", "tokens", "20240302", 300L,
                at("2024-03-02T23:00:00Z")));
        rows.add(row("bigquery-public-data", "crypto_ethereum", "token_transfers", "__UNPARTITIONED__", 10L,
                at("2024-03-03T09:00:00Z")));
        return new Table(PARTITIONS, columns, rows);
    }

    /** A run's staging table (its timestamps: all the count reads), and another run's. */
    private static List<Table> stagingTables() {
        List<Column> columns = columns("block_timestamp", SqlType.TIMESTAMP);
        List<List<Object>> rows = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            rows.add(row(at("2024-03-01T00:00:00Z").plusSeconds(i * 12_345L)));
        }
        for (int i = 0; i < 4; i++) {
            rows.add(row(at("2024-03-03T23:59:59.999999Z").minusSeconds(i * 3_600L)));
        }
        List<List<Object>> other = new ArrayList<>();
        other.add(row(at("2024-03-02T12:00:00Z")));
        return List.of(new Table(STAGING_TABLE, columns, rows), new Table(STAGING_PROJECT
                + ".staging.token_transfers_20240304_b2_1", columns, other));
    }

    /** {@code load_metadata}: rows of the day before the range and of its first day. */
    private static Table loadMetadata() {
        List<Column> columns = columns("chain", SqlType.STRING, "load_all_partitions", SqlType.BOOL, "ds", SqlType.DATE,
                "run_id", SqlType.STRING, "complete_at", SqlType.TIMESTAMP);
        List<List<Object>> rows = new ArrayList<>();
        rows.add(row("ethereum", false, FIRST_DAY.minusDays(1), "scheduled__2024-02-29", at("2024-03-01T08:10:00Z")));
        rows.add(row("ethereum", false, FIRST_DAY, "scheduled__2024-03-01", at("2024-03-02T08:12:30Z")));
        return new Table(LOAD_METADATA, columns, rows);
    }

    /**
     * The rows of {@link #FIRST_DAY}..{@link #LAST_DAY}, by hand: one per (transaction_hash, log_index), metadata
     * from one token row per address or else amended_tokens, cleaned.
     */
    public static List<List<String>> expectedRows() {
        return List.of(
                // 00:00:00 of the first day and log_index 0 are in; 78 digits kept; of three differing token rows the
                // one of block 200 with the smaller symbol, once (no fan-out), before amended_tokens' row.
                expected("2024-03-01 00:00:00.000000", 1001, hash(0x7101), 0, DUPLICATED, MINT, ALICE, UINT256_MAX,
                        "DUP1", "Duplicated v2", "18", "1000000000000000000000000"),
                // USDC, not in tokens: amended_tokens' metadata; no total supply there. The duplicate row is gone.
                expected("2024-03-01 00:00:12.000000", 1002, hash(0x7102), 0, USDC, ALICE, BOB, "1000000",
                        "USDC", "USD Coin", "6", null),
                // 79 digits: NULL. Control characters stripped; decimals 0 kept; supply "N/A": NULL.
                expected("2024-03-01 00:00:12.000000", 1002, hash(0x7002), 1, CONTROL, BOB, ALICE, null,
                        "CTK", "CtrlNameEnd", "0", null),
                // "12a": NULL; no recipient; decimals NULL.
                expected("2024-03-01 06:00:00.000000", 1100, hash(0x7104), 3, DECIMALS_NULL, ALICE, null, null,
                        "DN", "Decimals NULL", null, "100"),
                // Empty symbol and a NUL-only name: NULL; decimals "abc": NULL.
                expected("2024-03-01 12:00:00.000000", 1200, hash(0x7001), 7, DECIMALS_TEXT, ALICE, BOB, "0",
                        null, null, null, "7"),
                // The reorg: the row of the later block 1251; decimals -1 and supply -5: NULL.
                expected("2024-03-01 18:00:12.000000", 1251, hash(0x7106), 4, DECIMALS_NEGATIVE, ALICE, BOB, "42",
                        "DNEG", "Decimals -1", null, null),
                // The last microsecond of the day is in; an empty value: NULL; decimals 300: NULL.
                expected("2024-03-01 23:59:59.999999", 1300, hash(0x7000), 2, DECIMALS_300, ALICE, BOB, null,
                        "D300", "Decimals 300", null, null),
                // A fractional second; quotes and commas kept, the newline stripped; decimals 255 kept.
                expected("2024-03-03 00:00:00.250000", 1400, hash(0x7301), 0, QUOTES, BOB, ALICE, "5",
                        "Q,\"Q\"", "Quote \"Q\", Ünïcödé 🚀 line1line2", "255", DIGITS_78),
                // Capped at 64 and 256 characters (not bytes); supply of 79 digits: NULL.
                expected("2024-03-03 08:30:00.000000", 1500, hash(0x7302), 1, LONG, BOB, ALICE, "7",
                        "🚀".repeat(64), "é".repeat(256), "8", null),
                // Unknown everywhere: kept, with NULL metadata.
                expected("2024-03-03 09:00:00.000000", 1501, hash(0x7303), 0, UNKNOWN, BOB, ALICE, "1",
                        null, null, null, null),
                // DAI: tokens' NULLs filled from amended_tokens column by column; tokens' supply kept.
                expected("2024-03-03 10:00:00.000000", 1502, hash(0x7304), 2, DAI, BOB, ALICE,
                        "250000000000000000000", "DAI", "Dai Stablecoin", "18", "5000000000000000000000"));
    }

    /**
     * The rows with {@code --query-limit 4}: per day the first four by (block_number, log_index), after
     * de-duplication. 2024-03-01 is cut after block 1100; 2024-03-03 has exactly four.
     */
    public static List<List<String>> expectedRowsLimitedTo4() {
        List<List<String>> all = expectedRows();
        return List.of(all.get(0), all.get(1), all.get(2), all.get(3), all.get(7), all.get(8), all.get(9),
                all.get(10));
    }

    private static List<String> expected(String utc, long blockNumber, String transactionHash, int logIndex,
                                         String token, String from, String to, String value, String symbol,
                                         String name, String decimals, String totalSupply) {
        return Arrays.asList(utc, Long.toString(blockNumber), bytea(block(blockNumber)), bytea(transactionHash),
                Integer.toString(logIndex), bytea(token), bytea(from), bytea(to), value, symbol, name, decimals,
                totalSupply);
    }

    /** {@code 0x<hex>} as bytea's text form {@code \x<hex>}; null stays null. */
    static String bytea(String hex) {
        return hex == null ? null : "\\x" + hex.substring(2);
    }

    static Instant at(String iso) {
        return Instant.parse(iso);
    }

    private static List<Object> row(Object... values) {
        return Arrays.asList(values);
    }

    private static List<Column> columns(Object... namesAndTypes) {
        List<Column> columns = new ArrayList<>();
        for (int i = 0; i < namesAndTypes.length; i += 2) {
            columns.add(new Column((String) namesAndTypes[i], (SqlType) namesAndTypes[i + 1]));
        }
        return columns;
    }
}
