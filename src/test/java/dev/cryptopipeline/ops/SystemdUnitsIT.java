package dev.cryptopipeline.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cryptopipeline.CliRun;
import dev.cryptopipeline.TestPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * systemd itself ({@code systemd-analyze verify}, which needs no running systemd) checks the units: the examples
 * shipped in bin/systemd, and what {@code setup --systemd} prints for an awkward install. Every ExecStart names a real
 * executable, which verify requires.
 */
class SystemdUnitsIT {
    private static final Path WRAPPER = Path.of("bin/crypto-pipeline").toAbsolutePath();

    @TempDir
    Path dir;
    private Path analyze;

    @BeforeEach
    void systemdAnalyze() {
        Optional<Path> found = Stream.of("/usr/bin", "/bin", "/usr/local/bin").map(d -> Path.of(d, "systemd-analyze"))
                .filter(Files::isExecutable).findFirst();
        assumeTrue(found.isPresent(), "systemd-analyze is not installed, so the units cannot be verified here"
                + " (Debian: apt-get install systemd)");
        analyze = found.get();
    }

    /** Runs systemd-analyze verify; returns its exit code and everything it printed. */
    private Map.Entry<Integer, String> verify(List<String> options, List<String> units) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(analyze.toString(), "verify"));
        cmd.addAll(options);
        cmd.addAll(units);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return Map.entry(p.exitValue(), output);
    }

    @Test
    void the_example_units_shipped_beside_the_wrapper_pass_systemd_verify() throws Exception {
        // given: a root holding the system's own units, the wrapper installed in /opt and the examples in /etc
        Path root = dir.resolve("root");
        Path systemUnits = Stream.of("/usr/lib/systemd/system", "/lib/systemd/system").map(Path::of)
                .filter(Files::isDirectory).findFirst().orElseThrow();
        Files.createDirectories(root.resolve(systemUnits.getParent().toString().substring(1)));
        assertThat(new ProcessBuilder("cp", "-r", systemUnits.toString(),
                root.resolve(systemUnits.toString().substring(1)).toString()).start().waitFor()).isZero();
        Path installed = root.resolve("opt/crypto-pipeline/bin/crypto-pipeline");
        Files.createDirectories(installed.getParent());
        Files.copy(WRAPPER, installed);
        Path etc = root.resolve("etc/systemd/system");
        Files.createDirectories(etc);
        for (String unit : List.of("crypto-pipeline-daily.service", "crypto-pipeline-daily.timer")) {
            Files.copy(Path.of("bin/systemd", unit), etc.resolve(unit));
        }
        // when
        var result = verify(List.of("--root=" + root), List.of("/etc/systemd/system/crypto-pipeline-daily.service",
                "/etc/systemd/system/crypto-pipeline-daily.timer"));
        // then
        assertThat(result.getKey()).as(result.getValue()).isZero();
        assertThat(result.getValue()).as("no warning either").isEmpty();
    }

    @Test
    void setup_systemd_prints_units_that_systemd_accepts_even_for_paths_with_spaces_and_percent() throws Exception {
        // given: a data directory and a lake outside it with names systemd must have escaped
        Path dataDir = dir.resolve("data dir 100%");
        Path lake = dir.resolve("lake elsewhere");
        String schema = TestPostgres.newSchema("systemd");
        // when
        CliRun setup = CliRun.runWithEnv(Map.of("CRYPTO_PIPELINE_LAUNCHER", WRAPPER.toString()), "setup", "--systemd",
                "--source", "synthetic", "--jdbc-url", TestPostgres.jdbcUrl(), "--pg-schema", schema,
                "--data-dir", dataDir.toString(), "--lake", lake.toString());
        // then
        assertThat(setup.exitCode()).as(setup.toString()).isZero();
        Map<String, String> units = units(setup.out());
        assertThat(units.keySet()).containsExactly("/etc/systemd/system/crypto-pipeline-daily.service",
                "/etc/systemd/system/crypto-pipeline-daily.timer");
        String service = units.get("/etc/systemd/system/crypto-pipeline-daily.service");
        assertThat(service.lines()).contains("ExecStart=" + WRAPPER + " daily --config \"" + dir
                + "/data dir 100%%/crypto-pipeline.properties\"", "ReadWritePaths=\"" + dir + "/data dir 100%%\" \""
                + lake + "\"", "User=" + System.getProperty("user.name"));
        assertThat(setup.lines()).contains("sudo systemctl daemon-reload && sudo systemctl enable --now"
                + " crypto-pipeline-daily.timer");
        Path saved = dir.resolve("units");
        Files.createDirectories(saved);
        List<String> files = new ArrayList<>();
        for (var unit : units.entrySet()) {
            Path file = saved.resolve(Path.of(unit.getKey()).getFileName());
            Files.writeString(file, unit.getValue());
            files.add(file.toString());
        }
        var result = verify(List.of(), files);
        assertThat(result.getKey()).as(result.getValue()).isZero();
        assertThat(result.getValue()).as("no warning either").isEmpty();
    }

    /** The units in setup's output: each after a line "# /path/of/the.unit", up to the next such line or the end. */
    private static Map<String, String> units(String out) throws IOException {
        Map<String, String> units = new LinkedHashMap<>();
        String current = null;
        StringBuilder text = new StringBuilder();
        for (String line : out.split("\n", -1)) {
            boolean header = line.matches("# /\\S+\\.(service|timer)");
            boolean end = line.startsWith("# To let systemd run daily");
            if ((header || end) && current != null) {
                units.put(current, text.toString());
                current = null;
            }
            if (header) {
                current = line.substring(2);
                text.setLength(0);
            } else if (current != null) {
                text.append(line).append('\n');
            }
        }
        return units;
    }
}
