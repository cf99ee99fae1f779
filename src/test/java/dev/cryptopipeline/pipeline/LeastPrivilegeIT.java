package dev.cryptopipeline.pipeline;

import static dev.cryptopipeline.TestPostgres.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.CliRun;
import dev.cryptopipeline.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tool asks PostgreSQL for no privilege it does not need: a role that owns an existing schema but may not create
 * schemas in the database runs setup, backfill and daily; a fresh role allowed to create schemas sets one up itself.
 */
class LeastPrivilegeIT {
    private static final LocalDate YESTERDAY = LocalDate.now(ZoneOffset.UTC).minusDays(1);
    private static final AtomicInteger ROLES = new AtomicInteger();

    @TempDir
    Path dataDir;

    /** Creates a login role with a password, not a superuser, not allowed to create databases. */
    private static String role(String prefix, String password) throws Exception {
        String name = prefix + "_" + ProcessHandle.current().pid() + "_" + ROLES.incrementAndGet();
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE " + name + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '" + password + "'");
        }
        return name;
    }

    /** A login role allowed to create schemas, then altered by each of {@code alterations} ("CONNECTION LIMIT 3"). */
    private static String schemaCreator(String prefix, String password, String... alterations) throws Exception {
        String role = role(prefix, password);
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement()) {
            st.execute("GRANT CREATE ON DATABASE postgres TO " + role);
            for (String alteration : alterations) {
                st.execute("ALTER ROLE " + role + " " + alteration);
            }
        }
        return role;
    }

    private CliRun cli(String role, String password, String schema, String... args) {
        String[] all = new String[args.length + 10];
        System.arraycopy(args, 0, all, 0, args.length);
        String[] common = {"--source", "synthetic", "--rows-per-day", "300", "--data-dir", dataDir.toString(),
            "--pg-schema", schema, "--jdbc-url", "jdbc:postgresql://127.0.0.1:" + TestPostgres.server().getPort()
                + "/postgres?user=" + role};
        System.arraycopy(common, 0, all, args.length, common.length);
        return CliRun.runWithEnv(Map.of("PGPASSWORD", password), all);
    }

    @Test
    void a_role_that_owns_its_schema_but_cannot_create_schemas_runs_every_command() throws Exception {
        // given: a schema created by an administrator and owned by a role without CREATE on the database
        String role = role("owner", "Owner-pw-1");
        String schema = TestPostgres.newSchema("owned");
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA " + schema + " AUTHORIZATION " + role);
            assertThat(queryLong(c, "SELECT count(*) FROM pg_database WHERE datname = current_database()"
                    + " AND has_database_privilege('" + role + "', oid, 'CREATE')")).isZero();
        }
        // when
        CliRun setup = cli(role, "Owner-pw-1", schema, "setup");
        CliRun backfill = cli(role, "Owner-pw-1", schema, "backfill", "--start-date",
                YESTERDAY.minusDays(2).toString(), "--end-date", YESTERDAY.minusDays(1).toString());
        CliRun daily = cli(role, "Owner-pw-1", schema, "daily");
        // then
        assertThat(setup.exitCode()).as(setup.toString()).isZero();
        assertThat(backfill.exitCode()).as(backfill.toString()).isZero();
        assertThat(daily.exitCode()).as(daily.toString()).isZero();
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days")).isEqualTo(3);
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".token_transfers")).isEqualTo(900);
        }
    }

    @Test
    void a_statement_timeout_set_for_the_role_does_not_cancel_a_load() throws Exception {
        // given: a DBA's limits for interactive users, far below a day's COPY
        String role = schemaCreator("limited", "Limited-pw-3", "SET statement_timeout = '100ms'",
                "SET idle_in_transaction_session_timeout = '100ms'");
        String schema = TestPostgres.newSchema("limited");
        String[] args = {"backfill", "--start-date", YESTERDAY.toString(), "--source", "synthetic", "--rows-per-day",
            "200000", "--data-dir", dataDir.toString(), "--pg-schema", schema, "--jdbc-url",
            "jdbc:postgresql://127.0.0.1:" + TestPostgres.server().getPort() + "/postgres?user=" + role};
        // when
        CliRun backfill = CliRun.runWithEnv(Map.of("PGPASSWORD", "Limited-pw-3"), args);
        // then
        assertThat(backfill.exitCode()).as(backfill.toString()).isZero();
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".token_transfers")).isEqualTo(200_000);
        }
    }

    @Test
    void a_role_allowed_fewer_connections_than_jobs_loads_every_day_with_those_it_gets() throws Exception {
        // given: room for the lock's session and two loads, and --jobs 4
        String role = schemaCreator("few", "Few-pw-4", "CONNECTION LIMIT 3");
        String schema = TestPostgres.newSchema("few");
        // when
        CliRun backfill = cli(role, "Few-pw-4", schema, "backfill", "--start-date", YESTERDAY.minusDays(7).toString(),
                "--end-date", YESTERDAY.toString(), "--jobs", "4");
        // then: no load waits for a connection that only a later day's commit would free
        assertThat(backfill.exitCode()).as(backfill.toString()).isZero();
        assertThat(backfill.out()).contains("loaded 8 days (2400 rows)");
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days")).isEqualTo(8);
        }
    }

    @Test
    void a_fresh_role_allowed_to_create_schemas_sets_one_up_itself() throws Exception {
        // given
        String role = schemaCreator("creator", "Creator-pw-2");
        String schema = TestPostgres.newSchema("created");
        // when
        CliRun chain = cli(role, "Creator-pw-2", schema, "setup", "--chain", "--start-date",
                YESTERDAY.minusDays(1).toString());
        // then
        assertThat(chain.exitCode()).as(chain.toString()).isZero();
        try (Connection c = TestPostgres.superuser()) {
            assertThat(queryLong(c, "SELECT count(*) FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner"
                    + " WHERE n.nspname = '" + schema + "' AND r.rolname = '" + role + "'")).isEqualTo(1);
            assertThat(queryLong(c, "SELECT count(*) FROM " + schema + ".loaded_days")).isEqualTo(2);
        }
    }

    @Test
    void a_role_that_may_neither_create_nor_own_the_schema_is_told_what_it_needs() throws Exception {
        String role = role("nobody", "Nobody-pw-3");
        CliRun setup = cli(role, "Nobody-pw-3", TestPostgres.newSchema("denied"), "setup");
        assertThat(setup.exitCode()).as(setup.toString()).isEqualTo(1);
        assertThat(setup.err()).contains("refused a privilege").contains("own the schema").doesNotContain("\tat ");
    }
}
