package dev.cryptopipeline.sink;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LakeLayout;
import dev.cryptopipeline.lake.Manifest;
import dev.cryptopipeline.lake.TransferColumn;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.zip.ZipException;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a day's lake export into {@code <schema>.token_transfers}. In one transaction: COPY the files (streamed,
 * gunzipped and rewritten as binary rows on the fly, see {@link BinaryCopy}; as the CSV they are whenever that cannot
 * be done) into a fresh table that carries the day's CHECK constraint (so every row is checked as it arrives and the
 * attach needs no validation scan), check the row count against the manifest, add the primary key (one sorted
 * build, which also refuses duplicates), swap the table in as the day's partition (see {@link PartitionSwap}) and
 * run the caller's ledger write. A day is therefore always wholly old or wholly new, and a
 * crash at any point rolls back to the old.
 *
 * <p>Fast the way a careful DBA would load by hand: the table is created in the load's own transaction, so COPY
 * FREEZE writes its rows already frozen and visible (no later vacuum has to rewrite the day), and on a server with
 * {@code wal_level=minimal} neither the COPY nor the key build writes WAL. The session's settings are left alone
 * ({@code maintenance_work_mem} from 64 MB to 1 GB made no difference to a day's key build). Not thread safe: one
 * per connection.
 */
public final class PostgresSink {
    private static final Logger log = LoggerFactory.getLogger(PostgresSink.class);
    private static final DateTimeFormatter PARTITION_SUFFIX = DateTimeFormatter.BASIC_ISO_DATE;

    /** Runs inside the load's transaction, just before it commits: the ledger write. */
    @FunctionalInterface
    public interface BeforeCommit {
        void run(Connection connection, long rows) throws SQLException;
    }

    /**
     * Runs inside the load's transaction once the day is copied and checked, just before the swap takes any lock on
     * the target table: a caller that must order its commits waits here, holding no lock a reader or another load
     * could wait on. It may throw to abandon the load (rolled back).
     */
    @FunctionalInterface
    public interface BeforeSwap {
        void run() throws SQLException;
    }

    /**
     * What one load did.
     *
     * @param day           the UTC day
     * @param rows          the rows now in the day's partition
     * @param bytes         compressed bytes read from the lake
     * @param millis        wall time
     * @param replaced      true if an older load of the day was replaced
     * @param swapAttempts  tries of the swap (more than 1 when other sessions held the table's lock)
     * @param swapWaitMillis time the swap spent waiting for locks before its successful try
     */
    public record LoadResult(LocalDate day, long rows, long bytes, long millis, boolean replaced,
                             int swapAttempts, long swapWaitMillis) {
    }

    /**
     * How the swap waits for the table's lock.
     *
     * @param lockTimeout     the longest one try waits for a lock, and so the longest a reader arriving meanwhile
     *                        waits behind the swap
     * @param giveUpAfter     the total time after which the swap gives up (the old day kept, exit 75)
     * @param firstRetryDelay the first pause between tries, doubled (with jitter) up to {@code maxRetryDelay}
     * @param maxRetryDelay   the longest pause between tries
     */
    public record SwapTiming(Duration lockTimeout, Duration giveUpAfter, Duration firstRetryDelay,
                             Duration maxRetryDelay) {
        public SwapTiming {
            for (Duration d : List.of(lockTimeout, giveUpAfter, firstRetryDelay, maxRetryDelay)) {
                if (d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("swap timings must be positive: " + d);
                }
            }
        }

        /** Readers wait at most about 2 s behind a swap; the swap tries for 5 minutes before giving up. */
        public static SwapTiming defaults() {
            return new SwapTiming(Duration.ofSeconds(2), Duration.ofMinutes(5), Duration.ofMillis(500),
                    Duration.ofSeconds(6));
        }
    }

    private final Connection connection;
    private final Identifier schema;
    private final SwapTiming swapTiming;

    public PostgresSink(Connection connection, Identifier schema) {
        this(connection, schema, SwapTiming.defaults());
    }

    public PostgresSink(Connection connection, Identifier schema, SwapTiming swapTiming) {
        this.connection = connection;
        this.schema = schema;
        this.swapTiming = swapTiming;
    }

    /** The partition table name of a day, e.g. {@code token_transfers_p20240101}. */
    public static String partitionName(LocalDate day) {
        return "token_transfers_p" + PARTITION_SUFFIX.format(day);
    }

    /**
     * The days whose partition is attached to {@code schema.token_transfers} now, in one catalog query; empty if the
     * table itself does not exist.
     */
    public static Optional<Set<LocalDate>> partitionDays(Connection c, Identifier schema) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT to_regclass(?) IS NOT NULL,
                       ARRAY(SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                              WHERE i.inhparent = to_regclass(?))""")) {
            String table = schema.quoted() + ".token_transfers";
            ps.setString(1, table);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return Optional.empty();
                }
                Set<LocalDate> days = new HashSet<>();
                for (String name : (String[]) rs.getArray(2).getArray()) {
                    if (name.matches("token_transfers_p\\d{8}")) {
                        days.add(LocalDate.parse(name.substring(name.length() - 8), PARTITION_SUFFIX));
                    }
                }
                return Optional.of(days);
            }
        }
    }

    /** The first instant of a UTC day as a SQL literal. */
    static String dayStart(LocalDate day) {
        return "'" + day + " 00:00:00+00'";
    }

    /**
     * Loads the export described by {@code manifest} as day {@code manifest.day()}, replacing any older load of it.
     * Idempotent: loading the same export again leaves the same day.
     *
     * @throws PipelineException.DataCheck if the files disagree with the manifest or break a constraint; the old day
     *                                     is kept
     * @throws PipelineException.TryLater  if other sessions kept the table locked past the swap's patience; the old
     *                                     day is kept
     */
    public LoadResult load(Lake lake, Manifest manifest, BeforeCommit beforeCommit) throws SQLException {
        return load(lake, manifest, () -> { }, beforeCommit);
    }

    /**
     * Like {@link #load(Lake, Manifest, BeforeCommit)}, running {@code beforeSwap} between the checks and the swap.
     */
    public LoadResult load(Lake lake, Manifest manifest, BeforeSwap beforeSwap, BeforeCommit beforeCommit)
            throws SQLException {
        long t0 = System.nanoTime();
        LocalDate day = manifest.day();
        List<String> files;
        try {
            files = LakeLayout.verifiedFiles(lake, manifest);
        } catch (PipelineException.DataCheck e) {
            throw damaged(lake, manifest, e.getMessage(), e);
        } catch (IOException e) {
            throw new PipelineException.Failed("Day " + day + ": cannot list the lake " + lake.location() + " ("
                    + e.getMessage() + ")", e);
        }
        String stage = "token_transfers_load_" + PARTITION_SUFFIX.format(day);
        String partition = partitionName(day);

        boolean auto = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try (Statement st = connection.createStatement()) {
            checkColumns(day);
            String create = stageDdl(stage, day);
            long tCopy = System.nanoTime();
            // The table is created in the savepoint that copies into it, so COPY FREEZE holds on the second try too.
            Savepoint beforeCopy = connection.setSavepoint();
            st.execute(create);
            LakeFiles input = new LakeFiles(lake, files);
            long copied;
            try {
                copied = copy(stage, input, manifest, true);
            } catch (CsvNeeded e) {
                log.info("Day {}: loading the lake's CSV as it is ({})", day, e.getMessage());
                connection.rollback(beforeCopy);
                st.execute(create);
                input = new LakeFiles(lake, files);
                copied = copy(stage, input, manifest, false);
            }
            connection.releaseSavepoint(beforeCopy);
            if (copied != manifest.rows()) {
                throw damaged(lake, manifest, "Day " + day + ": loaded " + copied + " rows from "
                        + lake.location() + "/" + LakeLayout.runPrefix(day, manifest.runId())
                        + " but its manifest says " + manifest.rows(), null);
            }
            long tKey = System.nanoTime();
            try {
                st.execute("ALTER TABLE " + schema.quoted() + "." + stage + " ADD CONSTRAINT " + stage + "_pkey"
                        + " PRIMARY KEY (transaction_hash, log_index, block_timestamp)");
            } catch (SQLException e) {
                throw dataCheckOr(e, day, "the export breaks a constraint");
            }
            beforeSwap.run();
            long tSwap = System.nanoTime();
            PartitionSwap.Outcome swap = new PartitionSwap(connection, schema, swapTiming)
                    .run(day, stage, partition, beforeCommit, copied);
            long tCommit = System.nanoTime();
            connection.commit();
            long tEnd = System.nanoTime();
            long millis = (tEnd - t0) / 1_000_000;
            String dropped = "";
            if (swap.replaced()) {
                long tDrop = System.nanoTime();
                String retired = PartitionSwap.retiredName(day);
                dropped = dropTables(List.of(retired))
                        ? "; the replaced load dropped after the commit in " + ms(System.nanoTime() - tDrop) + " ms"
                        : "; the replaced load is kept as " + retired + " until the next run";
            }
            log.info("Loaded {} rows ({} bytes) into {}.{} for {} in {} ms{} (copy {} ms, key {} ms, swap {} ms,"
                            + " commit {} ms{}{})", copied, input.bytes, schema, partition, day, millis,
                    swap.replaced() ? " (replaced the previous load)" : "", ms(tKey - tCopy), ms(tSwap - tKey),
                    ms(tCommit - tSwap), ms(tEnd - tCommit), swap.attempts() == 1 ? ""
                            : "; the swap waited " + swap.waitedMillis() + " ms for locks over " + swap.attempts()
                            + " tries, the COPY ran once", dropped);
            return new LoadResult(day, copied, input.bytes, millis, swap.replaced(), swap.attempts(),
                    swap.waitedMillis());
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly();
            throw e;
        } finally {
            restoreAutoCommit(auto);
        }
    }

    /**
     * Drops the tables of replaced loads that a run stopped between a swap's commit and its drop left behind (they
     * are no longer partitions: readers never see them). Run with the run lock held, before any load.
     *
     * @return how many were dropped
     */
    public int dropRetiredLoads() throws SQLException {
        List<String> names = new java.util.ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement("""
                SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = ? AND c.relkind = 'r' AND NOT c.relispartition AND c.relname ~ ?
                 ORDER BY c.relname""")) {
            ps.setString(1, schema.name());
            ps.setString(2, PartitionSwap.RETIRED_REGEX);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
        }
        if (names.isEmpty()) {
            return 0;
        }
        boolean auto = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try {
            if (!dropTables(names)) {
                return 0;
            }
        } finally {
            restoreAutoCommit(auto);
        }
        log.info("Dropped {} replaced load(s) a stopped run left behind: {}", names.size(), names);
        return names.size();
    }

    /**
     * Drops replaced loads' tables in one short transaction (auto-commit off) that waits at most 2 s for their locks.
     * A failure is logged, not thrown: the new data is already committed, and the next run sweeps what is left.
     */
    private boolean dropTables(List<String> tables) {
        try (Statement st = connection.createStatement()) {
            st.execute("SET LOCAL lock_timeout = '2s'");
            for (String t : tables) {
                st.execute("DROP TABLE IF EXISTS " + schema.quoted() + "." + t);
            }
            connection.commit();
            return true;
        } catch (SQLException e) {
            rollbackQuietly();
            log.warn("Could not drop the replaced load(s) {} in {} yet ({}); the next run drops them", tables,
                    schema, e.getMessage());
            return false;
        }
    }

    /** Restores auto-commit; on a connection that died mid-load there is nothing to restore (and no error to add). */
    private void restoreAutoCommit(boolean auto) {
        try {
            if (!connection.isClosed()) {
                connection.setAutoCommit(auto);
            }
        } catch (SQLException e) {
            log.debug("Restoring auto-commit failed (the connection is probably gone): {}", e.getMessage());
        }
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }

    /**
     * The day's table: not {@code (LIKE token_transfers)}, which would hold a lock on the table until commit, so that
     * a reload of another day, which must lock it exclusively, would wait for this whole load; checkColumns vouches
     * for the match. Its CHECK of the day's bounds lets the attach skip its validation scan.
     */
    private String stageDdl(String stage, LocalDate day) throws SQLException {
        return "CREATE TABLE " + schema.quoted() + "." + stage + " (\n" + TransferColumn.ddl() + ",\n"
                + "    CONSTRAINT day_bounds CHECK (block_timestamp >= " + dayStart(day)
                + " AND block_timestamp < " + dayStart(day.plusDays(1)) + ")" + parentChecks() + ")";
    }

    /**
     * Raised by a binary COPY that could not be done (a value {@link BinaryCopy} does not convert, or a row the server
     * refused): the caller rolls it back and copies the CSV as it is, which words any error as it always did.
     */
    private static final class CsvNeeded extends RuntimeException {
        CsvNeeded(String reason) {
            super(reason, null, false, false);
        }
    }

    /**
     * COPYs the day's files into the stage table: rewritten as binary rows on the way (see {@link BinaryCopy}), or
     * as the CSV they are.
     *
     * @throws CsvNeeded in binary only, if the rows could not be copied so; nothing is then kept of the COPY
     */
    private long copy(String stage, LakeFiles input, Manifest manifest, boolean binary) throws SQLException {
        LocalDate day = manifest.day();
        String sql = "COPY " + schema.quoted() + "." + stage + " (" + TransferColumn.columnList()
                + ") FROM STDIN (" + (binary ? BinaryCopy.FORMAT : "FORMAT csv") + ", FREEZE)";
        try (InputStream in = binary ? new BinaryCopy(input.stream()) : input.stream()) {
            return connection.unwrap(PGConnection.class).getCopyAPI().copyIn(sql, in, 1 << 16);
        } catch (BinaryCopy.NotConvertible e) {
            throw new CsvNeeded(e.getMessage() + ", in " + input.current);
        } catch (UncheckedIOException e) {
            throw lakeFileError(e.getCause(), input, manifest);
        } catch (LakeFiles.ReadException e) {
            throw lakeFileError(e.lakeCause(), input, manifest);
        } catch (IOException e) {
            // Not the lake's: the connection to the server (the driver lets a socket error through as is).
            throw new SQLException("the connection failed during COPY: " + e.getMessage(), "08006", e);
        } catch (SQLException e) {
            for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
                if (t instanceof LakeFiles.ReadException lake) {
                    throw lakeFileError(lake.lakeCause(), input, manifest);
                }
            }
            boolean constraint = e.getSQLState() != null && e.getSQLState().startsWith("23");
            if (binary && (refusedData(e) || "08P01".equals(e.getSQLState()))) {
                throw new CsvNeeded("the server refused a binary row: "
                        + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
            }
            throw dataCheckOr(e, day, "a row of " + input.current + (constraint ? " breaks a constraint"
                    : " was refused"));
        }
    }

    private RuntimeException lakeFileError(IOException e, LakeFiles input, Manifest manifest) {
        if (e instanceof ZipException || e instanceof EOFException) {
            return damaged(input.lake, manifest, "Day " + manifest.day() + ": the lake file " + input.lake.location()
                    + "/" + input.current + " is corrupt or truncated (" + e.getMessage() + ")", e);
        }
        return new PipelineException.Failed("Day " + manifest.day() + ": cannot read the lake file "
                + input.lake.location() + "/" + input.current + " (" + e.getMessage() + "); the old data of the day"
                + " was kept", e);
    }

    /**
     * A day's export that no longer holds what its manifest says: marked damaged in the lake, so the next run
     * exports the day anew instead of reusing it.
     */
    private static PipelineException.DataCheck damaged(Lake lake, Manifest manifest, String what, Throwable cause) {
        boolean marked = LakeLayout.markDamaged(lake, manifest.day(), manifest.runId(), what);
        return new PipelineException.DataCheck(what + (marked ? "; the export is marked damaged, so the next run"
                + " exports the day anew" : "; remove " + lake.location() + "/" + LakeLayout.runPrefix(manifest.day(),
                manifest.runId()) + " so the next run exports the day anew") + "; the old data of the day was kept",
                cause);
    }

    /** True for a data error (class 22) or a constraint violation (class 23): the server refused the rows. */
    private static boolean refusedData(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        return state.startsWith("22") || state.startsWith("23");
    }

    /** Data errors (class 22) and constraint violations (class 23) are a failed data check; the rest propagate. */
    private static SQLException dataCheckOr(SQLException e, LocalDate day, String what) {
        if (refusedData(e)) {
            String msg = e.getMessage() == null ? e.getSQLState() : e.getMessage().replace('\n', ' ');
            throw new PipelineException.DataCheck("Day " + day + ": " + what + " (" + msg
                    + "); the old data of the day was kept", e);
        }
        return e;
    }

    /**
     * The CHECK constraints someone added to the table, which a partition must carry to be attached; read from the
     * catalog, which takes no lock on the table.
     */
    private String parentChecks() throws SQLException {
        StringBuilder checks = new StringBuilder();
        try (PreparedStatement ps = connection.prepareStatement("""
                SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint
                 WHERE conrelid = to_regclass(?) AND contype = 'c' ORDER BY conname""")) {
            ps.setString(1, schema.quoted() + ".token_transfers");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    checks.append(",\n    CONSTRAINT ").append(rs.getString(1)).append(' ').append(rs.getString(2));
                }
            }
        }
        return checks.toString();
    }

    /** Refuses a target table altered by hand: its columns must be the ones this version loads, in any order. */
    private void checkColumns(LocalDate day) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("""
                SELECT a.attname, format_type(a.atttypid, a.atttypmod)
                  FROM pg_attribute a
                 WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped""")) {
            ps.setString(1, schema.quoted() + ".token_transfers");
            java.util.Map<String, String> actual = new java.util.TreeMap<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    actual.put(rs.getString(1), rs.getString(2));
                }
            }
            java.util.Map<String, String> expected = new java.util.TreeMap<>();
            for (TransferColumn c : TransferColumn.values()) {
                // format_type spells timestamptz out; the other types read as the spec writes them.
                expected.put(c.columnName(), c.pgType().replace("timestamptz", "timestamp with time zone"));
            }
            if (!actual.equals(expected)) {
                java.util.Set<String> missing = new java.util.TreeSet<>(expected.keySet());
                missing.removeAll(actual.keySet());
                java.util.Set<String> extra = new java.util.TreeSet<>(actual.keySet());
                extra.removeAll(expected.keySet());
                throw new PipelineException.Failed("Day " + day + ": the table " + schema + ".token_transfers was"
                        + " altered (" + (missing.isEmpty() ? "" : "missing " + missing + " ")
                        + (extra.isEmpty() ? "" : "extra " + extra + " ")
                        + (missing.isEmpty() && extra.isEmpty() ? "column types changed " : "")
                        + "): restore its columns, or load into a new --pg-schema; nothing was changed");
            }
        }
    }

    private void rollbackQuietly() {
        try {
            connection.rollback();
        } catch (SQLException e) {
            log.debug("Rollback failed (the connection is probably gone): {}", e.getMessage());
        }
    }
}
