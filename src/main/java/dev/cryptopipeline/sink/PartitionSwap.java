package dev.cryptopipeline.sink;

import dev.cryptopipeline.Backoff;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.Identifier;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Swaps a checked stage table in as a day's partition, inside the caller's transaction: detach the old partition
 * and set it aside under its retired name ({@link #retiredName}), rename the stage, attach it, and run the ledger
 * write. The caller drops the retired table after the commit, as a DBA reloading by hand would: removing a day's
 * files at the commit would hold the table's lock, and every reader queued behind it, for that long too. Detaching
 * takes an ACCESS EXCLUSIVE lock on the parent table, which waits for every reader of the table, and every reader
 * that arrives meanwhile queues behind that wait. So the swap runs under a SAVEPOINT with a short
 * {@code lock_timeout}: when a long reader holds the table, the swap gives up its place in the queue after
 * {@link PostgresSink.SwapTiming#lockTimeout()}, rolls back to the savepoint (keeping the COPYed and checked stage
 * table), lets the queued readers through, waits with backoff and tries the swap again, never the COPY. Not thread
 * safe: one per load.
 */
final class PartitionSwap {
    private static final Logger log = LoggerFactory.getLogger(PartitionSwap.class);
    private static final String LOCK_NOT_AVAILABLE = "55P03";

    /**
     * What the swap did.
     *
     * @param replaced     true if an older load of the day was detached, to be dropped after the commit
     * @param attempts     tries of the swap, the successful one included
     * @param waitedMillis time spent in tries that timed out on a lock, and in the backoff between them
     */
    record Outcome(boolean replaced, int attempts, long waitedMillis) {
    }

    /** The name of a replaced day's table between the swap's commit and its drop: {@code token_transfers_r20240101}. */
    static String retiredName(LocalDate day) {
        return "token_transfers_r" + java.time.format.DateTimeFormatter.BASIC_ISO_DATE.format(day);
    }

    /** A PostgreSQL regular expression matching every {@link #retiredName}. */
    static final String RETIRED_REGEX = "^token_transfers_r[0-9]{8}$";

    private final Connection connection;
    private final Identifier schema;
    private final PostgresSink.SwapTiming timing;

    PartitionSwap(Connection connection, Identifier schema, PostgresSink.SwapTiming timing) {
        this.connection = connection;
        this.schema = schema;
        this.timing = timing;
    }

    /**
     * Swaps {@code stage} in as {@code day}'s partition and runs {@code beforeCommit}, all inside the current
     * transaction, which the caller commits (or rolls back on any exception).
     *
     * @throws PipelineException.TryLater if other sessions kept the table locked for longer than
     *                                    {@link PostgresSink.SwapTiming#giveUpAfter()}
     */
    Outcome run(LocalDate day, String stage, String partition, PostgresSink.BeforeCommit beforeCommit, long rows)
            throws SQLException {
        long start = System.nanoTime();
        long deadline = start + timing.giveUpAfter().toNanos();
        Backoff backoff = new Backoff(timing.firstRetryDelay(), timing.maxRetryDelay());
        try (Statement st = connection.createStatement()) {
            for (int attempt = 1; ; attempt++) {
                long tryStart = System.nanoTime();
                st.execute("SAVEPOINT day_swap");
                try {
                    st.execute("SET LOCAL lock_timeout = '" + timing.lockTimeout().toMillis() + "ms'");
                    boolean replaced = swap(st, day, stage, partition);
                    beforeCommit.run(connection, rows);
                    st.execute("RELEASE SAVEPOINT day_swap");
                    return new Outcome(replaced, attempt, (tryStart - start) / 1_000_000);
                } catch (SQLException e) {
                    if (!LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
                        throw e;
                    }
                    st.execute("ROLLBACK TO SAVEPOINT day_swap");
                    String holder = holder(partition);
                    long wait = backoff.next();
                    long now = System.nanoTime();
                    if (now + wait * 1_000_000 > deadline) {
                        throw new PipelineException.TryLater("Day " + day + ": the new load is ready but could not"
                                + " be swapped in: for " + seconds(now - start) + " s other sessions kept " + schema
                                + ".token_transfers locked (" + holder + "); the old data of the day is intact: end"
                                + " that session or run again later", e);
                    }
                    log.warn("Swapping in day {} waited {} ms for a lock on {}.token_transfers held by {}; the COPYed"
                                    + " day is kept and the swap tried again in {} ms (try {}, giving up after {} s)",
                            day, (now - tryStart) / 1_000_000, schema, holder, wait, attempt + 1,
                            timing.giveUpAfter().toSeconds());
                    Backoff.sleep(wait);
                }
            }
        }
    }

    /** The statements of the swap; a lock they cannot get within the lock timeout throws SQLState 55P03. */
    private boolean swap(Statement st, LocalDate day, String stage, String partition) throws SQLException {
        String parent = schema.quoted() + ".token_transfers";
        boolean replaced = isAttached(partition);
        if (replaced) {
            String retired = retiredName(day);
            st.execute("ALTER TABLE " + parent + " DETACH PARTITION " + schema.quoted() + "." + partition);
            // One a run killed between its commit and its drop left behind: it goes with this commit.
            st.execute("DROP TABLE IF EXISTS " + schema.quoted() + "." + retired);
            st.execute("ALTER TABLE " + schema.quoted() + "." + partition + " RENAME TO " + retired);
            st.execute("ALTER INDEX IF EXISTS " + schema.quoted() + "." + partition + "_pkey RENAME TO " + retired
                    + "_pkey");
        }
        st.execute("DROP TABLE IF EXISTS " + schema.quoted() + "." + partition);
        st.execute("ALTER TABLE " + schema.quoted() + "." + stage + " RENAME TO " + partition);
        st.execute("ALTER INDEX " + schema.quoted() + "." + stage + "_pkey RENAME TO " + partition + "_pkey");
        st.execute("ALTER TABLE " + parent + " ATTACH PARTITION " + schema.quoted() + "." + partition
                + " FOR VALUES FROM (" + PostgresSink.dayStart(day) + ") TO (" + PostgresSink.dayStart(day.plusDays(1))
                + ")");
        return replaced;
    }

    private boolean isAttached(String partition) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("""
                SELECT 1 FROM pg_inherits i
                  JOIN pg_class c ON c.oid = i.inhrelid
                  JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = ? AND c.relname = ?""")) {
            ps.setString(1, schema.name());
            ps.setString(2, partition);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * The session that has held a lock on the table or the day's partition the longest, as an operator can find it:
     * application name, backend pid, user, state and since when. Never its query text, which may hold secrets.
     */
    private String holder(String partition) throws SQLException {
        try (Statement st = connection.createStatement()) {
            // pg_stat_activity is read once per transaction unless told otherwise; the holder may be new.
            st.execute("SELECT pg_stat_clear_snapshot()");
        }
        try (PreparedStatement ps = connection.prepareStatement("""
                SELECT a.application_name, a.pid, a.usename, a.state, a.xact_start
                  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.granted AND l.pid <> pg_backend_pid()
                   AND l.relation IN (to_regclass(?), to_regclass(?))
                 ORDER BY a.xact_start NULLS LAST
                 LIMIT 1""")) {
            ps.setString(1, schema.quoted() + ".token_transfers");
            ps.setString(2, schema.quoted() + "." + partition);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return "a session that has let go of it since";
                }
                String app = rs.getString(1);
                String user = rs.getString(3);
                String state = rs.getString(4);
                OffsetDateTime since = rs.getObject(5, OffsetDateTime.class);
                return (app == null || app.isBlank() ? "an unnamed session" : "'" + app + "'")
                        + " (backend pid " + rs.getLong(2)
                        + (user == null ? "" : ", user " + user)
                        + (state == null ? "" : ", " + state)
                        + (since == null ? "" : ", in a transaction since "
                                + since.withOffsetSameInstant(ZoneOffset.UTC).truncatedTo(ChronoUnit.SECONDS))
                        + ")";
            }
        }
    }

    private static long seconds(long nanos) {
        return Math.round(nanos / 1e9);
    }
}
