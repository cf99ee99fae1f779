package dev.cryptopipeline.sink;

import dev.cryptopipeline.config.Identifier;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Versioned schema migrations, recorded in {@code <schema>.schema_migrations}. Each migration runs in its own
 * transaction together with its record, so a crash leaves it wholly applied or not at all. Callers hold the run lock,
 * so two runs never migrate at once. Idempotent: applied versions are skipped.
 */
public final class Migrations {

    /**
     * One migration: a version, a description and its SQL, with {@code ${schema}} standing for the quoted schema. The
     * SQL is frozen once released: never computed from today's code (a column spec that changes later must not change
     * what version 1 meant), and its checksum is recorded when applied and checked on every start.
     */
    public record Migration(int version, String description, String sql) {
        /** The SHA-256 of the SQL text (line endings normalized), in hex: what is recorded and checked. */
        public String checksum() {
            try {
                java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
                return java.util.HexFormat.of().formatHex(sha.digest(sql.replace("\r\n", "\n")
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    static final List<Migration> ALL = List.of(
            new Migration(1, "token_transfers partitioned by UTC day, ledger of loaded days and runs", """
                    CREATE TABLE ${schema}.token_transfers (
                        block_timestamp timestamptz NOT NULL,
                        block_number bigint NOT NULL,
                        block_hash bytea NOT NULL,
                        transaction_hash bytea NOT NULL,
                        log_index integer NOT NULL,
                        token_address bytea NOT NULL,
                        from_address bytea,
                        to_address bytea,
                        value numeric(78,0),
                        symbol text,
                        name text,
                        decimals smallint,
                        total_supply numeric(78,0),
                        PRIMARY KEY (transaction_hash, log_index, block_timestamp)
                    ) PARTITION BY RANGE (block_timestamp);

                    COMMENT ON TABLE ${schema}.token_transfers IS
                        'Ethereum token transfers, one partition per UTC day, loaded by crypto-pipeline';

                    CREATE TABLE ${schema}.loaded_days (
                        day          date PRIMARY KEY,
                        rows         bigint NOT NULL,
                        source       text NOT NULL,
                        lake_run     text NOT NULL,
                        source_jobs  text[] NOT NULL DEFAULT '{}',
                        query_limit  integer,
                        loaded_at    timestamptz NOT NULL,
                        run_id       text NOT NULL
                    );

                    CREATE TABLE ${schema}.runs (
                        run_id       text PRIMARY KEY,
                        command      text NOT NULL,
                        arguments    text NOT NULL,
                        host         text NOT NULL,
                        pid          bigint NOT NULL,
                        started_at   timestamptz NOT NULL,
                        finished_at  timestamptz,
                        outcome      text NOT NULL,
                        error        text
                    );
                    CREATE INDEX runs_started_at ON ${schema}.runs (started_at);
                    """),
            new Migration(2, "token_transfers_hex: the same rows with 0x-hex hashes and addresses", """
                    CREATE VIEW ${schema}.token_transfers_hex AS
                    SELECT block_timestamp, block_number,
                           '0x' || encode(block_hash, 'hex')       AS block_hash,
                           '0x' || encode(transaction_hash, 'hex') AS transaction_hash,
                           log_index,
                           '0x' || encode(token_address, 'hex')    AS token_address,
                           '0x' || encode(from_address, 'hex')     AS from_address,
                           '0x' || encode(to_address, 'hex')       AS to_address,
                           value, symbol, name, decimals, total_supply
                      FROM ${schema}.token_transfers;
                    """),
            new Migration(3, "ledger: why each day was loaded; each run's exit code and days", """
                    ALTER TABLE ${schema}.loaded_days ADD COLUMN reason text;
                    ALTER TABLE ${schema}.runs ADD COLUMN exit_code integer;
                    ALTER TABLE ${schema}.runs ADD COLUMN days_planned integer;
                    ALTER TABLE ${schema}.runs ADD COLUMN days_loaded integer;
                    """),
            new Migration(4, "ledger: each day's content fingerprint and its last verification against the source", """
                    -- The loaded rows' fingerprint (row hashes summed), recorded at the day's first verification
                    -- after its load: computing it inside the load would cost about half the load's time.
                    ALTER TABLE ${schema}.loaded_days ADD COLUMN fingerprint numeric;
                    -- When the day was last compared with the source, and how: match, rows differ, content differs.
                    ALTER TABLE ${schema}.loaded_days ADD COLUMN verified_at timestamptz;
                    ALTER TABLE ${schema}.loaded_days ADD COLUMN verification text;
                    """));

    private Migrations() {
    }

    /** True if the schema has been set up (its migration table exists). Writes nothing. */
    public static boolean isInstalled(Connection c, Identifier schema) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, schema.quoted() + ".schema_migrations");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * Creates the schema if absent, checks the recorded checksum of every applied migration, and applies every
     * migration not yet applied. Asks for no privilege it does not need: an existing schema is never created again
     * (so a role that owns the schema but may not create schemas in the database works).
     *
     * @return the migrations applied by this call (empty when the schema was up to date)
     * @throws dev.cryptopipeline.PipelineException.Failed if an applied migration differs from this build's, or the
     *                                                    schema is newer than this build
     */
    public static List<Migration> migrate(Connection c, Identifier schema) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            if (!exists(c, "SELECT 1 FROM pg_namespace WHERE nspname = ?", schema.name())) {
                st.execute("CREATE SCHEMA " + schema.quoted());
            }
            String table = schema.quoted() + ".schema_migrations";
            if (!isInstalled(c, schema)) {
                st.execute("CREATE TABLE " + table + " (version integer PRIMARY KEY, description text NOT NULL,"
                        + " applied_at timestamptz NOT NULL DEFAULT now(), checksum text)");
            } else if (!exists(c, "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(?) AND attname = 'checksum'"
                    + " AND NOT attisdropped", table)) {
                // Installed by a version that recorded no checksums.
                st.execute("ALTER TABLE " + table + " ADD COLUMN checksum text");
            }
            c.commit();
            java.util.Map<Integer, String> applied = new java.util.TreeMap<>();
            try (ResultSet rs = st.executeQuery("SELECT version, checksum FROM " + table)) {
                while (rs.next()) {
                    applied.put(rs.getInt(1), rs.getString(2));
                }
            }
            check(c, schema, applied);
            List<Migration> done = new ArrayList<>();
            for (Migration m : ALL) {
                if (applied.containsKey(m.version())) {
                    continue;
                }
                st.execute(m.sql().replace("${schema}", schema.quoted()));
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table
                        + " (version, description, checksum) VALUES (?, ?, ?)")) {
                    ps.setInt(1, m.version());
                    ps.setString(2, m.description());
                    ps.setString(3, m.checksum());
                    ps.executeUpdate();
                }
                c.commit();
                done.add(m);
            }
            return done;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /** Refuses a schema whose applied migrations differ from this build's; records checksums missing from old ones. */
    private static void check(Connection c, Identifier schema, java.util.Map<Integer, String> applied)
            throws SQLException {
        int newest = applied.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
        if (newest > latestVersion()) {
            throw new dev.cryptopipeline.PipelineException.Failed("The schema " + schema + " is at version " + newest
                    + " but this build of crypto-pipeline knows versions up to " + latestVersion()
                    + ": run a newer build; nothing was changed");
        }
        for (Migration m : ALL) {
            if (!applied.containsKey(m.version())) {
                continue;
            }
            String recorded = applied.get(m.version());
            if (recorded == null) {
                try (PreparedStatement ps = c.prepareStatement("UPDATE " + schema.quoted()
                        + ".schema_migrations SET checksum = ? WHERE version = ?")) {
                    ps.setString(1, m.checksum());
                    ps.setInt(2, m.version());
                    ps.executeUpdate();
                }
                c.commit();
            } else if (!recorded.equals(m.checksum())) {
                throw new dev.cryptopipeline.PipelineException.Failed("Migration " + m.version() + " of schema "
                        + schema + " (" + m.description() + ") was applied with checksum " + recorded.substring(0, 12)
                        + "… but this build's is " + m.checksum().substring(0, 12) + "…: the schema was made by an"
                        + " incompatible build; use that build, or load into a new --pg-schema; nothing was changed");
            }
        }
    }

    private static boolean exists(Connection c, String sql, String param) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** The highest version this build knows. */
    public static int latestVersion() {
        return ALL.get(ALL.size() - 1).version();
    }
}
