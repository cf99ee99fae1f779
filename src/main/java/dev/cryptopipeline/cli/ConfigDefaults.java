package dev.cryptopipeline.cli;

import dev.cryptopipeline.PipelineException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Supplies the value of an option not given on the command line: the environment first, then the config file, then
 * (by returning null) the option's own default. This is the precedence flags > environment > file > defaults.
 */
final class ConfigDefaults implements CommandLine.IDefaultValueProvider {
    /** Options that an environment variable can set. */
    static final Map<String, String> ENV = Map.ofEntries(
            Map.entry("--source", "CRYPTO_PIPELINE_SOURCE"),
            Map.entry("--lake", "CRYPTO_PIPELINE_LAKE"),
            Map.entry("--jdbc-url", "CRYPTO_PIPELINE_JDBC_URL"),
            Map.entry("--data-dir", "CRYPTO_PIPELINE_HOME"),
            Map.entry("--config", "CRYPTO_PIPELINE_CONFIG"),
            Map.entry("--gcp-project", "GOOGLE_CLOUD_PROJECT"),
            Map.entry("--bigquery-endpoint", "CRYPTO_PIPELINE_BIGQUERY_ENDPOINT"),
            Map.entry("--gcs-endpoint", "STORAGE_EMULATOR_HOST"));

    /** Keys a config file may hold: the common options, without their dashes. */
    static final Set<String> FILE_KEYS = Set.of("source", "lake", "jdbc-url", "pg-schema", "data-dir",
            "query-limit", "rows-per-day", "gcp-project", "bq-dataset", "bq-location", "lake-retention-days",
            "max-bytes-billed", "bigquery-endpoint", "gcs-endpoint");

    private final Map<String, String> env;
    private final Properties file;

    private ConfigDefaults(Map<String, String> env, Properties file) {
        this.env = env;
        this.file = file;
    }

    /**
     * Reads the config file named by {@code --config} in {@code args} or by the environment, if any.
     *
     * @throws PipelineException.BadInput if the file is missing, unreadable or has an unknown key
     */
    static ConfigDefaults load(Map<String, String> env, String[] args) {
        String path = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                path = args[i + 1];
            } else if (args[i].startsWith("--config=")) {
                path = args[i].substring("--config=".length());
            }
        }
        if (path == null) {
            path = env.get("CRYPTO_PIPELINE_CONFIG");
        }
        Properties props = new Properties();
        if (path != null && !path.isEmpty()) {
            Path p = Path.of(path);
            try (Reader r = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
                props.load(r);
            } catch (NoSuchFileException e) {
                throw new PipelineException.BadInput("The config file " + p + " does not exist: fix --config or"
                        + " CRYPTO_PIPELINE_CONFIG");
            } catch (AccessDeniedException e) {
                throw new PipelineException.BadInput("The config file " + p + " is not readable: fix its"
                        + " permissions");
            } catch (IOException | IllegalArgumentException e) {
                throw new PipelineException.BadInput("Cannot read the config file " + p + " (" + e.getMessage()
                        + "): it must be a properties file of key=value lines");
            }
            Set<String> unknown = new TreeSet<>(props.stringPropertyNames());
            unknown.removeAll(FILE_KEYS);
            if (!unknown.isEmpty()) {
                throw new PipelineException.BadInput("Unknown key" + (unknown.size() > 1 ? "s " : " ") + unknown
                        + " in the config file " + p + ": the known keys are " + new TreeSet<>(FILE_KEYS));
            }
        }
        return new ConfigDefaults(env, props);
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option)) {
            return null;
        }
        String name = option.longestName();
        String var = ENV.get(name);
        if (var != null) {
            String v = env.get(var);
            if (v != null && !v.isEmpty()) {
                return v;
            }
        }
        return file.getProperty(name.replaceFirst("^--", ""));
    }
}
