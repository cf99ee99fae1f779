package dev.cryptopipeline.sink;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ServerStartTest {
    @Test
    void the_reason_is_the_server_s_fatal_line_and_its_hint_without_the_log_prefix() {
        String log = """
                waiting for server to start....2026-11-30 05:04:32.662 UTC [23948] FATAL:  lock file "postmaster.pid" \
                already exists
                2026-11-30 05:04:32.662 UTC [23948] HINT:  Is another postmaster (PID 23884) running in data directory \
                "/d/postgres"?
                 stopped waiting
                pg_ctl: could not start server
                Examine the log output.
                """;
        assertThat(ServerStart.reason(log)).isEqualTo("FATAL: lock file \"postmaster.pid\" already exists HINT: Is"
                + " another postmaster (PID 23884) running in data directory \"/d/postgres\"?");
    }

    @Test
    void without_a_fatal_line_the_reason_is_the_first_line_that_is_not_pg_ctl_s_own() {
        String log = """
                waiting for server to start....postgres: could not access the server configuration file \
                "/d/postgres/postgresql.conf": No such file or directory
                 stopped waiting
                pg_ctl: could not start server
                Examine the log output.
                """;
        assertThat(ServerStart.reason(log)).isEqualTo("postgres: could not access the server configuration file"
                + " \"/d/postgres/postgresql.conf\": No such file or directory");
    }
}
