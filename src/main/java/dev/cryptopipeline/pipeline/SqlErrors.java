package dev.cryptopipeline.pipeline;

import dev.cryptopipeline.PipelineException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/** Translates PostgreSQL errors into the exception family, by SQLState. Stateless. */
final class SqlErrors {
    private SqlErrors() {
    }

    /**
     * Transient database failures, worth a retry on a new connection: connection exceptions (08), operator
     * intervention such as a restart or pg_terminate_backend (57P01-57P03), serialization failure and deadlock (40001,
     * 40P01), lock timeout (55P03), insufficient resources (53), and a pool that could not hand out a connection in
     * time. Authentication (28, and the driver's 08004: no password to give, or the server refused the
     * connection), syntax or privilege (42) and data (22) errors are permanent.
     */
    static boolean transientFailure(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        return (state.startsWith("08") && !state.equals("08004")) || state.startsWith("57P")
                || state.equals("40001") || state.equals("40P01") || state.equals("55P03") || state.startsWith("53")
                || (state.isEmpty() && e instanceof SQLTransientConnectionException);
    }

    /** Maps an SQL error to the exception family: transient ones to try-later, the rest to failed. */
    static PipelineException translate(SQLException e, String doing) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (transientFailure(e)) {
            return new PipelineException.TryLater("PostgreSQL failed while " + doing + " (" + state + ": "
                    + firstLine(e) + "); the old data is intact: run again later", e);
        }
        if (state.equals("42501")) {
            return new PipelineException.Failed("PostgreSQL refused a privilege while " + doing + " (" + firstLine(e)
                    + "): the database user needs to own the schema given by --pg-schema, or to create it", e);
        }
        return new PipelineException.Failed("PostgreSQL failed while " + doing + " (" + state + ": " + firstLine(e)
                + "); the old data is intact", e);
    }

    /** Maps a failed connection attempt to one line naming the fix. */
    static PipelineException connectError(SQLException e, String database) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (state.startsWith("28") || state.equals("08004")) {
            return new PipelineException.Failed("PostgreSQL at " + database + " refused the login (" + firstLine(e)
                    + "): check the user in --jdbc-url and the password in PGPASSWORD or ~/.pgpass", e);
        }
        if (state.equals("3D000")) {
            return new PipelineException.Failed("PostgreSQL at " + database + ": " + firstLine(e)
                    + ": create the database or fix --jdbc-url", e);
        }
        return new PipelineException.Failed("Cannot connect to PostgreSQL at " + database + " (" + firstLine(e)
                + rootCause(e) + "): check --jdbc-url and that the server is running", e);
    }

    /**
     * What the driver's generic connect message hides ("The connection attempt failed."): the innermost cause, such
     * as an unknown host name or a reset, as ": unknown host db.example"; empty when there is none, or when it is a
     * refused connection, which the driver words itself ("Connection to db:5432 refused").
     */
    static String rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root == e || root instanceof java.net.ConnectException) {
            return "";
        }
        if (root instanceof java.net.UnknownHostException) {
            return ": unknown host " + firstLine(root);
        }
        String detail = firstLine(root);
        return detail.equals(firstLine(e)) ? "" : ": " + detail;
    }

    static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
