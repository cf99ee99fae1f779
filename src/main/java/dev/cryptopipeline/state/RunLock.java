package dev.cryptopipeline.state;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.Identifier;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/**
 * One writer at a time per target schema: a session-level PostgreSQL advisory lock held on the run's connection for
 * the whole run. It dies with its session, so a killed run never blocks the next one. The holder is found through
 * {@code pg_stat_activity}, whose {@code application_name} names the command, pid and host of the run. A run releases
 * it explicitly before closing its session; if the run is killed, the lock goes with the session.
 */
public final class RunLock {
    /** The first key of every crypto-pipeline lock: "cryp" in ASCII. */
    static final int LOCK_CLASS = 0x63727970;

    private RunLock() {
    }

    /** The second key for a schema: its name's hash, non-negative so it reads the same in {@code pg_locks}. */
    static int keyOf(Identifier schema) {
        return schema.name().hashCode() & 0x7fffffff;
    }

    /**
     * Takes the lock on {@code connection}'s session without waiting; it lasts until that connection closes.
     *
     * @throws PipelineException.TryLater naming the holder if another session holds it
     */
    public static void acquire(Connection connection, Identifier schema) throws SQLException {
        int key = keyOf(schema);
        // A session that has just ended (a run that finished or was killed a moment ago) still holds the lock until
        // its backend exits: when no live holder is found, try again for a moment before saying "try later".
        for (int attempt = 0; ; attempt++) {
            if (tryLock(connection, key)) {
                return;
            }
            String who = holder(connection, key);
            if (!who.equals(NOBODY) || attempt >= 20) {
                throw new PipelineException.TryLater("Another run holds the lock on schema " + schema + ": " + who
                        + "; try again when it has finished");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PipelineException.Interrupted("Interrupted while taking the run lock");
            }
        }
    }

    private static boolean tryLock(Connection connection, int key) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("SELECT pg_try_advisory_lock(?, ?)")) {
            ps.setInt(1, LOCK_CLASS);
            ps.setInt(2, key);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * Releases the lock explicitly before its session is closed. Closing alone releases it too, but only once the
     * server has processed the end of the session, a moment later: a run started right after would find it held.
     * Best effort: a failure leaves the release to the session's end.
     */
    public static void release(Connection connection, Identifier schema) {
        try (PreparedStatement ps = connection.prepareStatement("SELECT pg_advisory_unlock(?, ?)")) {
            ps.setInt(1, LOCK_CLASS);
            ps.setInt(2, keyOf(schema));
            ps.execute();
        } catch (SQLException e) {
            // the session is gone or going: so is its lock
        }
    }

    /**
     * Who holds the lock on {@code schema} now, if anyone (as the message of a refused run names them). Takes no lock.
     */
    public static java.util.Optional<String> holder(Connection connection, Identifier schema) throws SQLException {
        String who = holder(connection, keyOf(schema));
        return who.equals(NOBODY) ? java.util.Optional.empty() : java.util.Optional.of(who);
    }

    private static final String NOBODY = "a session that has just released it";

    private static String holder(Connection connection, int key) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("""
                SELECT a.application_name, a.pid, a.backend_start, a.client_addr::text
                  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.locktype = 'advisory' AND l.granted
                   AND l.classid = ?::int::oid AND l.objid = ?::int::oid AND l.objsubid = 2""")) {
            ps.setInt(1, LOCK_CLASS);
            ps.setInt(2, key);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return NOBODY;
                }
                String app = rs.getString(1);
                OffsetDateTime since = rs.getObject(3, OffsetDateTime.class);
                String client = rs.getString(4);
                return (app == null || app.isBlank() ? "an unnamed session" : app)
                        + " (database backend pid " + rs.getLong(2)
                        + (client == null ? "" : ", from " + client)
                        + (since == null ? "" : ", since " + since.withOffsetSameInstant(ZoneOffset.UTC)
                                .truncatedTo(ChronoUnit.SECONDS))
                        + ")";
            }
        }
    }

}
