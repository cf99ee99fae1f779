package dev.cryptopipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The configuration setup saves is read back exactly, by default, and loses to flags and the environment. */
class ConfigDefaultsTest {
    @TempDir
    Path dir;

    private static CommandLine.Model.OptionSpec option(String name) {
        return CommandLine.Model.OptionSpec.builder(name).type(String.class).build();
    }

    @Test
    void saved_settings_are_read_back_exactly_from_the_data_dir_by_default() throws Exception {
        // given: values with the characters of URLs, paths with spaces and non-ASCII
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("lake", "/srv/lake with space/ünï");
        settings.put("jdbc-url", "jdbc:postgresql://db:5432/crypto?user=loader&ssl=true");
        settings.put("data-dir", dir.toString());
        settings.put("gcp-project", "my-project");
        // when
        Path saved = ConfigDefaults.save(dir, settings, Instant.parse("2026-11-29T00:00:00Z"));
        ConfigDefaults defaults = ConfigDefaults.load(Map.of(), new String[] {"daily", "--data-dir", dir.toString()});
        // then
        assertThat(saved).isEqualTo(dir.resolve("crypto-pipeline.properties"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(saved))).isEqualTo("rw-------");
        assertThat(Files.readString(saved)).contains("jdbc-url=jdbc:postgresql://db:5432/crypto?user=loader&ssl=true");
        assertThat(defaults.path()).contains(saved);
        assertThat(defaults.describe()).endsWith("(saved by setup)");
        for (var e : settings.entrySet()) {
            assertThat(defaults.defaultValue(option("--" + e.getKey()))).isEqualTo(e.getValue());
        }
        assertThat(defaults.defaultValue(option("--source"))).isNull();
    }

    @Test
    void the_environment_beats_the_file_and_a_named_file_beats_the_saved_one() throws Exception {
        ConfigDefaults.save(dir, Map.of("gcp-project", "saved-project"), Instant.now());
        Path named = Files.writeString(dir.resolve("other.properties"), "gcp-project=named-project\n");
        assertThat(ConfigDefaults.load(Map.of("GOOGLE_CLOUD_PROJECT", "env-project", "CRYPTO_PIPELINE_HOME",
                dir.toString()), new String[] {"daily"}).defaultValue(option("--gcp-project"))).isEqualTo("env-project");
        assertThat(ConfigDefaults.load(Map.of("CRYPTO_PIPELINE_HOME", dir.toString()),
                new String[] {"daily", "--config", named.toString()}).defaultValue(option("--gcp-project")))
                .isEqualTo("named-project");
        assertThat(ConfigDefaults.load(Map.of("HOME", dir.resolve("elsewhere").toString()), new String[] {"daily"})
                .path()).isEmpty();
    }

    @Test
    void the_emulators_variable_names_the_bigquery_endpoint_unless_ours_is_set() {
        String[] args = {"daily", "--data-dir", dir.toString()};
        assertThat(ConfigDefaults.load(Map.of(), args).defaultValue(option("--bigquery-endpoint"))).isNull();
        assertThat(ConfigDefaults.load(Map.of("BIGQUERY_EMULATOR_HOST", "localhost:9050"), args)
                .defaultValue(option("--bigquery-endpoint"))).isEqualTo("localhost:9050");
        assertThat(ConfigDefaults.load(Map.of("BIGQUERY_EMULATOR_HOST", "localhost:9050",
                        "CRYPTO_PIPELINE_BIGQUERY_ENDPOINT", "http://127.0.0.1:1234"), args)
                .defaultValue(option("--bigquery-endpoint"))).isEqualTo("http://127.0.0.1:1234");
    }

    @Test
    void a_file_written_by_a_windows_editor_reads_as_meant() throws Exception {
        // given: a byte order mark, CRLF line ends and spaces or a tab left at the ends of values
        Path file = dir.resolve("edited.properties");
        Files.write(file, ("\uFEFFsource=synthetic\r\njobs=2 \r\npg-schema=crypto_eth\t\r\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        // when
        ConfigDefaults defaults = ConfigDefaults.load(Map.of(), new String[] {"daily", "--config", file.toString()});
        // then
        assertThat(defaults.defaultValue(option("--source"))).isEqualTo("synthetic");
        assertThat(defaults.defaultValue(option("--jobs"))).isEqualTo("2");
        assertThat(defaults.defaultValue(option("--pg-schema"))).isEqualTo("crypto_eth");
    }

    @Test
    void a_file_that_is_not_utf_8_is_named_as_such() throws Exception {
        Path file = Files.write(dir.resolve("latin1.properties"), new byte[] {'l', 'a', 'k', 'e', '=', '/', (byte) 0xe9});
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> ConfigDefaults.load(Map.of(), new String[] {"daily", "--config", file.toString()}))
                .isInstanceOf(dev.cryptopipeline.PipelineException.BadInput.class)
                .hasMessage("The config file " + file + " is not UTF-8 text: save it as UTF-8");
    }
}
