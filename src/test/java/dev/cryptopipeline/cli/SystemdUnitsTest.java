package dev.cryptopipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cryptopipeline.PipelineException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The units {@code setup --systemd} writes. The examples shipped beside the wrapper ({@code bin/systemd/}) are the
 * generator's output for an install in /opt/crypto-pipeline run as user crypto; {@code -Dgolden.update=true}
 * rewrites them after a deliberate change. {@code SystemdUnitsIT} has systemd check them.
 */
class SystemdUnitsTest {
    static final SystemdUnits EXAMPLE = new SystemdUnits(List.of("/opt/crypto-pipeline/bin/crypto-pipeline"), "crypto",
            Path.of("/var/lib/crypto-pipeline"), Path.of("/var/lib/crypto-pipeline/crypto-pipeline.properties"),
            List.of());

    private static void assertExample(String name, String generated) throws IOException {
        Path file = Path.of("bin/systemd", name);
        if (Boolean.getBoolean("golden.update")) {
            Files.writeString(file, generated, StandardCharsets.UTF_8);
        }
        assertThat(generated).as(file + " is what setup --systemd generates for its install")
                .isEqualTo(Files.readString(file, StandardCharsets.UTF_8));
    }

    @Test
    void the_example_units_beside_the_wrapper_are_what_setup_generates() throws IOException {
        assertExample(SystemdUnits.SERVICE, EXAMPLE.service());
        assertExample(SystemdUnits.TIMER, EXAMPLE.timer());
    }

    @Test
    void the_service_runs_daily_once_with_the_saved_configuration_as_its_user() {
        // when
        String service = EXAMPLE.service();
        // then
        assertThat(service.lines()).contains("Type=oneshot", "User=crypto",
                "ExecStart=/opt/crypto-pipeline/bin/crypto-pipeline daily --config"
                        + " /var/lib/crypto-pipeline/crypto-pipeline.properties",
                "Environment=CRYPTO_PIPELINE_NO_BUILD=1", "SuccessExitStatus=75",
                "ReadWritePaths=/var/lib/crypto-pipeline", "ProtectSystem=strict", "ProtectHome=read-only",
                "Documentation=file:///opt/crypto-pipeline/README.md");
        assertThat(service).doesNotContain("MemoryDenyWriteExecute=yes", "[Install]");
    }

    @Test
    void a_service_whose_paths_go_beyond_ascii_sets_a_utf_8_locale_for_java() {
        SystemdUnits units = new SystemdUnits(List.of("/usr/bin/java", "-jar", "/opt/cp/crypto-pipeline.jar"),
                "crypto", Path.of("/srv/données"), Path.of("/srv/données/crypto-pipeline.properties"), List.of());
        assertThat(units.service().lines()).contains("Environment=CRYPTO_PIPELINE_NO_BUILD=1 LC_ALL=C.UTF-8");
    }

    @Test
    void the_timer_fires_at_09_30_utc_and_catches_up_after_downtime() {
        assertThat(EXAMPLE.timer().lines()).contains("OnCalendar=*-*-* 09:30:00 UTC", "Persistent=true",
                "WantedBy=timers.target");
    }

    @Test
    void setup_prints_each_unit_under_its_path_then_how_to_enable_and_watch_it() {
        // when
        List<String> lines = EXAMPLE.instructions().lines().toList();
        // then
        assertThat(lines.get(0)).isEqualTo("# /etc/systemd/system/crypto-pipeline-daily.service");
        assertThat(String.join("\n", lines) + "\n").contains("# /etc/systemd/system/crypto-pipeline-daily.service\n"
                + EXAMPLE.service() + "# /etc/systemd/system/crypto-pipeline-daily.timer\n" + EXAMPLE.timer());
        assertThat(lines).contains("sudo systemctl daemon-reload && sudo systemctl enable --now"
                + " crypto-pipeline-daily.timer");
        assertThat(lines).anyMatch(l -> l.contains("journalctl -u crypto-pipeline-daily.service"));
    }

    @Test
    void a_java_launcher_runs_the_jar_and_points_at_the_readme_of_its_checkout() {
        SystemdUnits units = new SystemdUnits(List.of("/usr/lib/jvm/java-17/bin/java", "-jar",
                "/srv/crypto-pipeline/target/crypto-pipeline.jar"), "loader", Path.of("/srv/data"),
                Path.of("/srv/data/crypto-pipeline.properties"), List.of(Path.of("/srv/lake")));
        assertThat(units.service().lines()).contains("ExecStart=/usr/lib/jvm/java-17/bin/java -jar"
                        + " /srv/crypto-pipeline/target/crypto-pipeline.jar daily --config"
                        + " /srv/data/crypto-pipeline.properties",
                "Documentation=file:///srv/crypto-pipeline/README.md", "ReadWritePaths=/srv/data /srv/lake");
    }

    @Test
    void spaces_quotes_percent_and_dollar_are_escaped_for_systemd() {
        assertThat(SystemdUnits.arg("/opt/my tools/it's \"x\" 100% $HOME"))
                .isEqualTo("\"/opt/my tools/it's \\\"x\\\" 100%% $$HOME\"");
        assertThat(SystemdUnits.arg("--config")).isEqualTo("--config");
    }

    @Test
    void a_user_name_systemd_cannot_take_is_refused() {
        assertThatThrownBy(() -> new SystemdUnits(List.of("/x"), "bad user", Path.of("/d"), Path.of("/d/c"),
                List.of())).isInstanceOf(PipelineException.BadInput.class).hasMessageContaining("'bad user'");
    }
}
