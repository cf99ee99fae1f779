package dev.cryptopipeline.sink;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LakeLayout;
import dev.cryptopipeline.lake.Manifest;
import dev.cryptopipeline.lake.TransferColumn;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.SequenceInputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.Enumeration;
import java.util.Iterator;
import java.util.List;
import java.util.zip.ZipException;
import java.util.zip.GZIPInputStream;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a day's lake export into {@code <schema>.token_transfers}. In one transaction: COPY the files (streamed,
 * gunzipped on the fly, never parsed in Java) into a fresh table, check the row count against the manifest, add the
 * day's CHECK constraint and primary key (so the attach needs no validation scan and duplicates are refused), detach
 * and drop the old day partition, attach the new one, and run the caller's ledger write. A day is therefore always
 * wholly old or wholly new, and a crash at any point rolls back to the old. Not thread safe: one per connection.
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
     * @param day      the UTC day
     * @param rows     the rows now in the day's partition
     * @param bytes    compressed bytes read from the lake
     * @param millis   wall time
     * @param replaced true if an older load of the day was replaced
     */
    public record LoadResult(LocalDate day, long rows, long bytes, long millis, boolean replaced) {
    }

    private final Connection connection;
    private final Identifier schema;

    public PostgresSink(Connection connection, Identifier schema) {
        this.connection = connection;
        this.schema = schema;
    }

    /** The partition table name of a day, e.g. {@code token_transfers_p20240101}. */
    public static String partitionName(LocalDate day) {
        return "token_transfers_p" + PARTITION_SUFFIX.format(day);
    }

    /**
     * Loads the export described by {@code manifest} as day {@code manifest.day()}, replacing any older load of it.
     *
     * @throws PipelineException.DataCheck if the files disagree with the manifest or break a constraint; the old day
     *                                     is kept
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
        } catch (IOException e) {
            throw new PipelineException.Failed("Day " + day + ": cannot list the lake " + lake.location() + " ("
                    + e.getMessage() + ")", e);
        }
        String parent = schema.quoted() + ".token_transfers";
        String partition = partitionName(day);
        String stage = "token_transfers_load_" + PARTITION_SUFFIX.format(day);
        String lo = "'" + day + " 00:00:00+00'";
        String hi = "'" + day.plusDays(1) + " 00:00:00+00'";

        boolean auto = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try (Statement st = connection.createStatement()) {
            checkColumns(day);
            // Spelled out from the column spec (checked against the table just above) rather than LIKE the parent:
            // LIKE would hold a lock on the parent for the whole COPY, and a reload's swap, or a reader's, would
            // wait on it.
            st.execute("CREATE TABLE " + schema.quoted() + "." + stage + " (\n" + TransferColumn.ddl() + "\n)");
            LakeFiles input = new LakeFiles(lake, files);
            long copied = copy(stage, input, day);
            if (copied != manifest.rows()) {
                throw new PipelineException.DataCheck("Day " + day + ": loaded " + copied + " rows from "
                        + lake.location() + "/" + LakeLayout.runPrefix(day, manifest.runId())
                        + " but its manifest says " + manifest.rows() + "; the old data of the day was kept");
            }
            try {
                st.execute("ALTER TABLE " + schema.quoted() + "." + stage + " ADD CONSTRAINT day_bounds CHECK ("
                        + "block_timestamp >= " + lo + " AND block_timestamp < " + hi + ")");
                st.execute("ALTER TABLE " + schema.quoted() + "." + stage + " ADD CONSTRAINT " + stage + "_pkey"
                        + " PRIMARY KEY (transaction_hash, log_index, block_timestamp)");
            } catch (SQLException e) {
                throw dataCheckOr(e, day, "the export breaks a constraint");
            }

            beforeSwap.run();
            // The swap: from here to the commit, readers of the day wait; they never see it missing or doubled.
            st.execute("SET LOCAL lock_timeout = '60s'");
            boolean replaced = isAttached(partition);
            if (replaced) {
                st.execute("ALTER TABLE " + parent + " DETACH PARTITION " + schema.quoted() + "." + partition);
            }
            st.execute("DROP TABLE IF EXISTS " + schema.quoted() + "." + partition);
            st.execute("ALTER TABLE " + schema.quoted() + "." + stage + " RENAME TO " + partition);
            st.execute("ALTER INDEX " + schema.quoted() + "." + stage + "_pkey RENAME TO " + partition + "_pkey");
            st.execute("ALTER TABLE " + parent + " ATTACH PARTITION " + schema.quoted() + "." + partition
                    + " FOR VALUES FROM (" + lo + ") TO (" + hi + ")");
            beforeCommit.run(connection, copied);
            connection.commit();
            long millis = (System.nanoTime() - t0) / 1_000_000;
            log.info("Loaded {} rows ({} bytes) into {}.{} for {} in {} ms{}", copied, input.bytes, schema, partition,
                    day, millis, replaced ? " (replaced the previous load)" : "");
            return new LoadResult(day, copied, input.bytes, millis, replaced);
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly();
            throw e;
        } finally {
            restoreAutoCommit(auto);
        }
    }

    private long copy(String stage, LakeFiles input, LocalDate day) throws SQLException {
        String sql = "COPY " + schema.quoted() + "." + stage + " (" + TransferColumn.columnList()
                + ") FROM STDIN (FORMAT csv)";
        try (InputStream in = new LakeInput(new SequenceInputStream(input))) {
            return connection.unwrap(PGConnection.class).getCopyAPI().copyIn(sql, in, 1 << 16);
        } catch (UncheckedIOException e) {
            throw lakeFileError(e.getCause(), input, day);
        } catch (LakeReadException e) {
            throw lakeFileError(e.lakeCause(), input, day);
        } catch (IOException e) {
            // Not the lake's: the connection to the server (the driver lets a socket error through as is).
            throw new SQLException("the connection failed during COPY: " + e.getMessage(), "08006", e);
        } catch (SQLException e) {
            for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
                if (t instanceof LakeReadException lake) {
                    throw lakeFileError(lake.lakeCause(), input, day);
                }
            }
            throw dataCheckOr(e, day, "a row of " + input.current + " was refused");
        }
    }

    /** An error reading the lake during COPY, told apart from an error of the connection the bytes go to. */
    private static final class LakeReadException extends IOException {
        LakeReadException(IOException cause) {
            super(cause.getMessage(), cause);
        }

        IOException lakeCause() {
            return (IOException) getCause();
        }
    }

    /** The lake's bytes on their way to COPY: any read error is marked as the lake's. */
    private static final class LakeInput extends FilterInputStream {
        LakeInput(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (UncheckedIOException e) {
                throw new LakeReadException(e.getCause());
            } catch (IOException e) {
                throw new LakeReadException(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (UncheckedIOException e) {
                throw new LakeReadException(e.getCause());
            } catch (IOException e) {
                throw new LakeReadException(e);
            }
        }
    }

    private RuntimeException lakeFileError(IOException e, LakeFiles input, LocalDate day) {
        if (e instanceof ZipException || e instanceof EOFException) {
            return new PipelineException.DataCheck("Day " + day + ": the lake file " + input.lake.location() + "/"
                    + input.current + " is corrupt or truncated (" + e.getMessage() + "); run the day again to"
                    + " export it anew; the old data of the day was kept", e);
        }
        return new PipelineException.Failed("Day " + day + ": cannot read the lake file " + input.lake.location()
                + "/" + input.current + " (" + e.getMessage() + "); the old data of the day was kept", e);
    }

    /** Data errors (class 22) and constraint violations (class 23) are a failed data check; the rest propagate. */
    private static SQLException dataCheckOr(SQLException e, LocalDate day, String what) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (state.startsWith("22") || state.startsWith("23")) {
            String msg = e.getMessage() == null ? state : e.getMessage().replace('\n', ' ');
            throw new PipelineException.DataCheck("Day " + day + ": " + what + " (" + msg
                    + "); the old data of the day was kept", e);
        }
        return e;
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

    private void rollbackQuietly() {
        try {
            connection.rollback();
        } catch (SQLException e) {
            log.debug("Rollback failed (the connection is probably gone): {}", e.getMessage());
        }
    }

    /** Streams the day's files one after another, gunzipped, remembering which one is being read. */
    private static final class LakeFiles implements Enumeration<InputStream> {
        final Lake lake;
        private final Iterator<String> keys;
        String current = "";
        long bytes;

        LakeFiles(Lake lake, List<String> keys) {
            this.lake = lake;
            this.keys = keys.iterator();
        }

        @Override
        public boolean hasMoreElements() {
            return keys.hasNext();
        }

        @Override
        public InputStream nextElement() {
            current = keys.next();
            try {
                InputStream raw = new FilterInputStream(new BufferedInputStream(lake.open(current), 1 << 16)) {
                    @Override
                    public int read() throws IOException {
                        int b = super.read();
                        if (b >= 0) {
                            bytes++;
                        }
                        return b;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        int n = super.read(b, off, len);
                        if (n > 0) {
                            bytes += n;
                        }
                        return n;
                    }
                };
                return new GZIPInputStream(raw, 1 << 16);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
