package dev.cryptopipeline.sink;

import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.lake.Fingerprint;
import dev.cryptopipeline.lake.TransferColumn;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The {@link Fingerprint} of a loaded day, computed by PostgreSQL over the day's partition (the rows as they are now,
 * whoever wrote them). Reads only; any transaction isolation gives a consistent answer (one statement, one snapshot:
 * never a day half swapped). Stateless: thread safe.
 */
public final class PostgresFingerprint {
    private PostgresFingerprint() {
    }

    /** The canonical text of one row, in PostgreSQL: what {@link Fingerprint} describes. */
    static String rowText() {
        return Arrays.stream(TransferColumn.values())
                .map(c -> "coalesce(" + canonical(c) + ", E'\\\\N')")
                .collect(Collectors.joining(" || '" + Fingerprint.SEPARATOR + "'\n       || "));
    }

    private static String canonical(TransferColumn c) {
        String col = c.columnName();
        return switch (Fingerprint.Kind.of(c)) {
            // extract(epoch) is exact (numeric) from PostgreSQL 14; before, a double whose error is far below a
            // microsecond at today's epochs, so the rounding cast gives the same integer.
            case TIMESTAMP -> "(extract(epoch FROM " + col + ") * 1000000)::bigint::text";
            case INTEGER, UINT256 -> col + "::text";
            case BYTES -> "E'\\\\x' || encode(" + col + ", 'hex')";
            // Characters counted in the UTF-8 bytes: length(text) counts bytes in a SQL_ASCII database.
            case TEXT -> "length(convert_to(" + col + ", 'UTF8'), 'UTF8') || ':' || " + col;
        };
    }

    /** The SQL of a day's row count and fingerprint, for the half-open UTC range of the day. */
    public static String sql(Identifier schema, LocalDate day) {
        return "SELECT count(*), coalesce(sum(h), 0) FROM (\n"
                + "  SELECT ('x' || substr(md5(convert_to(\n       " + rowText() + ", 'UTF8')), 1, "
                + Fingerprint.HEX_DIGITS + "))::bit(" + Fingerprint.HEX_DIGITS * 4 + ")::bigint AS h\n"
                + "    FROM " + schema.quoted() + ".token_transfers\n"
                // Literal bounds (from a LocalDate) so the planner prunes to the day's partition.
                + "   WHERE block_timestamp >= '" + day + " 00:00:00+00' AND block_timestamp < '" + day.plusDays(1)
                + " 00:00:00+00') AS t";
    }

    /** The row count and fingerprint of {@code day} as loaded now (an unloaded day has none: zero rows). */
    public static Fingerprint.Day of(Connection c, Identifier schema, LocalDate day) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql(schema, day))) {
            rs.next();
            BigDecimal sum = rs.getBigDecimal(2);
            return new Fingerprint.Day(rs.getLong(1), sum.toBigIntegerExact());
        }
    }
}
