package dev.cryptopipeline.state;

import dev.cryptopipeline.config.Identifier;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger: one row per loaded day ({@code loaded_days}), written in the same transaction as the day's data, and
 * one row per run ({@code runs}). All times are UTC instants; days are UTC days. Values are always bound. Stateless
 * apart from the schema: thread safe.
 */
public final class Ledger {
    private static final Logger log = LoggerFactory.getLogger(Ledger.class);
    private final Identifier schema;

    public Ledger(Identifier schema) {
        this.schema = schema;
    }

    /**
     * A loaded day.
     *
     * @param day        the UTC day
     * @param rows       rows in its partition
     * @param source     the source that exported it
     * @param lakeRun    the lake run folder it was loaded from
     * @param sourceJobs the source's job ids
     * @param queryLimit the per-day row cap it was exported with (a trial load), or null
     * @param loadedAt   when its load committed
     * @param runId      the run that loaded it
     * @param reason     why it was (last) loaded: {@code new}, {@code reload}, {@code replaces a trial load},
     *                   {@code source changed}; null for loads recorded before reasons were
     * @param fingerprint  the loaded rows' fingerprint, recorded at the day's first verification since its load;
     *                     null before
     * @param verifiedAt   when the day was last compared with the source since its load; null if never
     * @param verification how: {@code match}, {@code rows differ} or {@code content differs}; null if never
     */
    public record LoadedDay(LocalDate day, long rows, String source, String lakeRun, List<String> sourceJobs,
                            Integer queryLimit, Instant loadedAt, String runId, String reason,
                            java.math.BigInteger fingerprint, Instant verifiedAt, String verification) {
        /** A day just loaded: not verified yet. */
        public LoadedDay(LocalDate day, long rows, String source, String lakeRun, List<String> sourceJobs,
                         Integer queryLimit, Instant loadedAt, String runId, String reason) {
            this(day, rows, source, lakeRun, sourceJobs, queryLimit, loadedAt, runId, reason, null, null, null);
        }

        /** True if the day was loaded with a {@code --query-limit}: a partial trial load. */
        public boolean trial() {
            return queryLimit != null;
        }
    }

    /**
     * A run of a command.
     *
     * @param outcome    {@code running}, {@code ok}, {@code failed}, {@code bad-input}, {@code data-check},
     *                   {@code try-later}, {@code interrupted} or {@code abandoned} (ended without recording an end)
     * @param exitCode   the process's exit code, or null while running or when unknown
     * @param daysPlanned days it set out to load, or null
     * @param daysLoaded days it loaded, or null
     */
    public record Run(String runId, String command, String arguments, String host, long pid, Instant startedAt,
                      Instant finishedAt, String outcome, String error, Integer exitCode, Integer daysPlanned,
                      Integer daysLoaded) {
    }

    /**
     * Records a loaded day; call inside the day's load transaction. Replaces an older record of the day, and with it
     * the older load's fingerprint and verification: the new rows are not verified yet.
     */
    public void markLoaded(Connection c, LoadedDay d) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + schema.quoted() + ".loaded_days"
                + " (day, rows, source, lake_run, source_jobs, query_limit, loaded_at, run_id, reason)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (day) DO UPDATE SET rows = excluded.rows, source = excluded.source,"
                + " lake_run = excluded.lake_run, source_jobs = excluded.source_jobs,"
                + " query_limit = excluded.query_limit, loaded_at = excluded.loaded_at, run_id = excluded.run_id,"
                + " reason = excluded.reason, fingerprint = NULL, verified_at = NULL, verification = NULL")) {
            ps.setObject(1, d.day());
            ps.setLong(2, d.rows());
            ps.setString(3, d.source());
            ps.setString(4, d.lakeRun());
            Array jobs = c.createArrayOf("text", d.sourceJobs().toArray());
            ps.setArray(5, jobs);
            if (d.queryLimit() == null) {
                ps.setNull(6, Types.INTEGER);
            } else {
                ps.setInt(6, d.queryLimit());
            }
            ps.setTimestamp(7, Timestamp.from(d.loadedAt()));
            ps.setString(8, d.runId());
            ps.setString(9, d.reason());
            ps.executeUpdate();
        }
    }

    /** The loaded days, ascending, each with the query limit it was loaded with (empty for a full load). */
    public Map<LocalDate, OptionalInt> loadedDays(Connection c) throws SQLException {
        Map<LocalDate, OptionalInt> days = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT day, query_limit FROM " + schema.quoted()
                + ".loaded_days");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Integer limit = rs.getObject(2, Integer.class);
                days.put(rs.getObject(1, LocalDate.class), limit == null ? OptionalInt.empty() : OptionalInt.of(limit));
            }
        }
        return days;
    }

    /** The rows recorded for a day, if it is loaded. */
    public Optional<Long> rowsOf(Connection c, LocalDate day) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT rows FROM " + schema.quoted()
                + ".loaded_days WHERE day = ?")) {
            ps.setObject(1, day);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getLong(1)) : Optional.empty();
            }
        }
    }

    /** The lake run folders that loaded days were last loaded from (never to be pruned). */
    public List<String> lakeRuns(Connection c) throws SQLException {
        List<String> runs = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT lake_run FROM " + schema.quoted() + ".loaded_days");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                runs.add(rs.getString(1));
            }
        }
        return runs;
    }

    /**
     * Every loaded day with its record, ascending. Reads a schema not yet migrated to the verification columns too
     * ({@code status} migrates nothing): its days read as never verified.
     */
    public List<LoadedDay> days(Connection c) throws SQLException {
        List<LoadedDay> days = new ArrayList<>();
        String verification = hasVerification(c) ? "fingerprint, verified_at, verification"
                : "NULL::numeric, NULL::timestamptz, NULL::text";
        try (PreparedStatement ps = c.prepareStatement("SELECT day, rows, source, lake_run, source_jobs,"
                + " query_limit, loaded_at, run_id, reason, " + verification + " FROM " + schema.quoted()
                + ".loaded_days ORDER BY day");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                String[] jobs = (String[]) rs.getArray(5).getArray();
                Integer limit = rs.getObject(6, Integer.class);
                java.math.BigDecimal fingerprint = rs.getBigDecimal(10);
                OffsetDateTime verifiedAt = rs.getObject(11, OffsetDateTime.class);
                days.add(new LoadedDay(rs.getObject(1, LocalDate.class), rs.getLong(2), rs.getString(3),
                        rs.getString(4), List.of(jobs), limit, rs.getObject(7, OffsetDateTime.class).toInstant(),
                        rs.getString(8), rs.getString(9), fingerprint == null ? null : fingerprint.toBigInteger(),
                        verifiedAt == null ? null : verifiedAt.toInstant(), rs.getString(12)));
            }
        }
        return days;
    }

    private boolean hasVerification(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(?)"
                + " AND attname = 'verified_at' AND NOT attisdropped")) {
            ps.setString(1, schema.quoted() + ".loaded_days");
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * Records that a day was compared with the source: when, how it compared, and, if none is recorded yet for this
     * load, the loaded rows' fingerprint. Touches the record only while it is still of the load {@code loadRunId}
     * (a day loaded again meanwhile is not this verification's).
     *
     * @return true if the record was updated
     */
    public boolean markVerified(Connection c, LocalDate day, String loadRunId, java.math.BigInteger fingerprint,
                                Instant at, String verification) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + schema.quoted() + ".loaded_days"
                + " SET fingerprint = coalesce(fingerprint, ?), verified_at = ?, verification = ?"
                + " WHERE day = ? AND run_id = ?")) {
            ps.setBigDecimal(1, new java.math.BigDecimal(fingerprint));
            ps.setTimestamp(2, Timestamp.from(at));
            ps.setString(3, verification);
            ps.setObject(4, day);
            ps.setString(5, loadRunId);
            return ps.executeUpdate() == 1;
        }
    }

    /**
     * Records the start of a run. Runs left {@code running} are marked {@code abandoned}: the caller holds the run
     * lock, so none of them can still be running.
     */
    public void startRun(Connection c, Run run) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + schema.quoted() + ".runs"
                + " SET outcome = 'abandoned' WHERE outcome = 'running'")) {
            int abandoned = ps.executeUpdate();
            if (abandoned > 0) {
                log.info("Marked {} run(s) that ended without recording"
                        + " an outcome (killed) as abandoned", abandoned);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + schema.quoted() + ".runs"
                + " (run_id, command, arguments, host, pid, started_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, run.runId());
            ps.setString(2, run.command());
            ps.setString(3, run.arguments());
            ps.setString(4, run.host());
            ps.setLong(5, run.pid());
            ps.setTimestamp(6, Timestamp.from(run.startedAt()));
            ps.setString(7, "running");
            ps.executeUpdate();
        }
    }

    /** Records how many days a run set out to load, once it knows. */
    public void planRun(Connection c, String runId, int daysPlanned) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + schema.quoted() + ".runs"
                + " SET days_planned = ? WHERE run_id = ?")) {
            ps.setInt(1, daysPlanned);
            ps.setString(2, runId);
            ps.executeUpdate();
        }
    }

    /** Records the end of a run. */
    public void finishRun(Connection c, String runId, Instant finishedAt, String outcome, String error, int exitCode,
                          int daysLoaded) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + schema.quoted() + ".runs"
                + " SET finished_at = ?, outcome = ?, error = ?, exit_code = ?, days_loaded = ? WHERE run_id = ?")) {
            ps.setTimestamp(1, Timestamp.from(finishedAt));
            ps.setString(2, outcome);
            ps.setString(3, error);
            ps.setInt(4, exitCode);
            ps.setInt(5, daysLoaded);
            ps.setString(6, runId);
            ps.executeUpdate();
        }
    }

    /** The most recent run, if any. */
    public Optional<Run> lastRun(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT run_id, command, arguments, host, pid, started_at,"
                + " finished_at, outcome, error, exit_code, days_planned, days_loaded FROM " + schema.quoted()
                + ".runs ORDER BY started_at DESC, run_id DESC LIMIT 1");
             ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return Optional.empty();
            }
            OffsetDateTime finished = rs.getObject(7, OffsetDateTime.class);
            return Optional.of(new Run(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                    rs.getLong(5), rs.getObject(6, OffsetDateTime.class).toInstant(),
                    finished == null ? null : finished.toInstant(), rs.getString(8), rs.getString(9),
                    rs.getObject(10, Integer.class), rs.getObject(11, Integer.class),
                    rs.getObject(12, Integer.class)));
        }
    }
}
