package dev.cryptopipeline.sink;

import dev.cryptopipeline.config.Identifier;
import dev.cryptopipeline.lake.TransferColumn;
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

    /** One migration: a version, a description and its SQL, with {@code ${schema}} standing for the quoted schema. */
    public record Migration(int version, String description, String sql) {
    }

    static final List<Migration> ALL = List.of(
            new Migration(1, "token_transfers partitioned by UTC day, ledger of loaded days and runs", """
                    CREATE TABLE ${schema}.token_transfers (
                    ${columns},
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
     * Creates the schema if absent and applies every migration not yet applied.
     *
     * @return the migrations applied by this call (empty when the schema was up to date)
     */
    public static List<Migration> migrate(Connection c, Identifier schema) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS " + schema.quoted());
            st.execute("CREATE TABLE IF NOT EXISTS " + schema.quoted() + ".schema_migrations ("
                    + " version integer PRIMARY KEY, description text NOT NULL,"
                    + " applied_at timestamptz NOT NULL DEFAULT now())");
            c.commit();
            int current;
            try (ResultSet rs = st.executeQuery("SELECT coalesce(max(version), 0) FROM " + schema.quoted()
                    + ".schema_migrations")) {
                rs.next();
                current = rs.getInt(1);
            }
            List<Migration> applied = new ArrayList<>();
            for (Migration m : ALL) {
                if (m.version() <= current) {
                    continue;
                }
                st.execute(m.sql().replace("${schema}", schema.quoted()).replace("${columns}", TransferColumn.ddl()));
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + schema.quoted()
                        + ".schema_migrations (version, description) VALUES (?, ?)")) {
                    ps.setInt(1, m.version());
                    ps.setString(2, m.description());
                    ps.executeUpdate();
                }
                c.commit();
                applied.add(m);
            }
            return applied;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /** The highest version this build knows. */
    public static int latestVersion() {
        return ALL.get(ALL.size() - 1).version();
    }
}
