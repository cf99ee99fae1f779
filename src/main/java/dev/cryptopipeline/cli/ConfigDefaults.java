package dev.cryptopipeline.cli;

import dev.cryptopipeline.PipelineException;
import java.io.IOException;
import java.io.StringReader;
import java.io.Writer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Supplies the value of an option not given on the command line: the environment first, then the config file, then
 * (by returning null) the option's own default. This is the precedence flags > environment > file > defaults.
 *
 * <p>The config file is the one named by {@code --config} (or {@code CRYPTO_PIPELINE_CONFIG}); without one, the
 * configuration {@code setup} saved in the data directory ({@code <data-dir>/crypto-pipeline.properties}), if any, so
 * that after setup a bare {@code crypto-pipeline daily} runs with setup's settings.
 */
final class ConfigDefaults implements CommandLine.IDefaultValueProvider {
    /** The file name of the configuration saved by {@code setup} in the data directory. */
    static final String SAVED = "crypto-pipeline.properties";

    /** Options that environment variables can set; the first variable set wins. */
    static final Map<String, List<String>> ENV = Map.ofEntries(
            Map.entry("--source", List.of("CRYPTO_PIPELINE_SOURCE")),
            Map.entry("--lake", List.of("CRYPTO_PIPELINE_LAKE")),
            Map.entry("--jdbc-url", List.of("CRYPTO_PIPELINE_JDBC_URL")),
            Map.entry("--data-dir", List.of("CRYPTO_PIPELINE_HOME")),
            Map.entry("--config", List.of("CRYPTO_PIPELINE_CONFIG")),
            Map.entry("--gcp-project", List.of("GOOGLE_CLOUD_PROJECT")),
            Map.entry("--google-credentials", List.of("GOOGLE_APPLICATION_CREDENTIALS")),
            // The second is the emulators' convention, as STORAGE_EMULATOR_HOST is Cloud Storage's.
            Map.entry("--bigquery-endpoint", List.of("CRYPTO_PIPELINE_BIGQUERY_ENDPOINT", "BIGQUERY_EMULATOR_HOST")),
            Map.entry("--gcs-endpoint", List.of("STORAGE_EMULATOR_HOST")));

    /** Keys a config file may hold: the settings options, without their dashes. */
    static final Set<String> FILE_KEYS = Set.of("source", "lake", "jdbc-url", "pg-schema", "data-dir",
            "query-limit", "rows-per-day", "gcp-project", "bq-dataset", "bq-location", "lake-retention-days",
            "max-bytes-billed", "bigquery-endpoint", "gcs-endpoint", "jobs", "verify-days", "google-credentials");

    private final Map<String, String> env;
    private final Properties file;
    private final Optional<Path> path;
    private final boolean saved;

    private ConfigDefaults(Map<String, String> env, Properties file, Optional<Path> path, boolean saved) {
        this.env = env;
        this.file = file;
        this.path = path;
        this.saved = saved;
    }

    /**
     * Reads the config file named by {@code --config} in {@code args} or by the environment, else the one saved by
     * setup in the data directory, if any.
     *
     * @throws PipelineException.BadInput if a named file is missing, or a file is unreadable or has an unknown key
     */
    static ConfigDefaults load(Map<String, String> env, String[] args) {
        String named = argument(args, "--config");
        if (named == null) {
            named = env.get("CRYPTO_PIPELINE_CONFIG");
        }
        if (named != null && !named.isEmpty()) {
            Path p = Path.of(named).toAbsolutePath().normalize();
            return new ConfigDefaults(env, read(p), Optional.of(p), false);
        }
        String dir = argument(args, "--data-dir");
        if (dir == null || dir.isEmpty()) {
            dir = env.get("CRYPTO_PIPELINE_HOME");
        }
        Path dataDir = dir == null || dir.isEmpty() ? Wiring.defaultDataDir(env) : Path.of(dir);
        Path savedFile = dataDir.resolve(SAVED).toAbsolutePath().normalize();
        if (Files.isRegularFile(savedFile)) {
            return new ConfigDefaults(env, read(savedFile), Optional.of(savedFile), true);
        }
        return new ConfigDefaults(env, new Properties(), Optional.empty(), false);
    }

    /** The config file read, if any. */
    Optional<Path> path() {
        return path;
    }

    /** A line saying which configuration file was read, for status. */
    String describe() {
        return path.map(p -> p + (saved ? " (saved by setup)" : "")).orElse("none (flags, environment, defaults)");
    }

    private static String argument(String[] args, String option) {
        String value = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(option) && i + 1 < args.length) {
                value = args[i + 1];
            } else if (args[i].startsWith(option + "=")) {
                value = args[i].substring(option.length() + 1);
            }
        }
        return value;
    }

    private static Properties read(Path p) {
        Properties props = new Properties();
        try {
            // A byte order mark (Windows editors write one) is not part of the first key.
            String text = Files.readString(p, StandardCharsets.UTF_8);
            props.load(new StringReader(text.startsWith("\uFEFF") ? text.substring(1) : text));
        } catch (NoSuchFileException e) {
            throw new PipelineException.BadInput("The config file " + p + " does not exist: fix --config or"
                    + " CRYPTO_PIPELINE_CONFIG");
        } catch (AccessDeniedException e) {
            throw new PipelineException.BadInput("The config file " + p + " is not readable: fix its permissions");
        } catch (CharacterCodingException e) {
            throw new PipelineException.BadInput("The config file " + p + " is not UTF-8 text: save it as UTF-8");
        } catch (IOException | IllegalArgumentException e) {
            throw new PipelineException.BadInput("Cannot read the config file " + p + " (" + e.getMessage()
                    + "): it must be a properties file of key=value lines");
        }
        // Properties keeps the spaces a line ends with; an editor leaves them unseen, and they are never meant.
        props.replaceAll((k, v) -> ((String) v).stripTrailing());
        Set<String> unknown = new TreeSet<>(props.stringPropertyNames());
        unknown.removeAll(FILE_KEYS);
        if (!unknown.isEmpty()) {
            throw new PipelineException.BadInput("Unknown key" + (unknown.size() > 1 ? "s " : " ") + unknown
                    + " in the config file " + p + ": the known keys are " + new TreeSet<>(FILE_KEYS));
        }
        return props;
    }

    /**
     * Saves settings as the data directory's configuration, atomically, readable by the owner only.
     *
     * @param settings keys of {@link #FILE_KEYS} with their values, in the order to write them
     * @return the file written
     */
    static Path save(Path dataDir, Map<String, String> settings, Instant now) {
        Path target = dataDir.resolve(SAVED);
        Path temp = dataDir.resolve(SAVED + ".tmp");
        try {
            Files.createDirectories(dataDir);
            Files.deleteIfExists(temp);
            Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (Writer w = Files.newBufferedWriter(temp, StandardCharsets.UTF_8)) {
                w.write("# crypto-pipeline configuration, saved by 'setup' on " + now + ".\n"
                        + "# Every later command reads it when no --config is given; flags and environment variables"
                        + " still win.\n# No secret is kept here: the database password comes from PGPASSWORD or"
                        + " ~/.pgpass.\n");
                for (Map.Entry<String, String> e : settings.entrySet()) {
                    w.write(escape(e.getKey()) + "=" + escape(e.getValue()) + "\n");
                }
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new PipelineException.Failed("Cannot save the configuration to " + target + " ("
                    + e.getMessage() + "): check that the data directory is writable", e);
        }
    }

    /**
     * Escapes a key or value the way {@link Properties#load} reads it back, leaving the characters of URLs and paths
     * readable (':' and '=' need no escape after the first separator, nor '#' and '!' after the start of a line).
     */
    private static String escape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case ' ' -> b.append(i == 0 ? "\\ " : " ");
                default -> b.append(c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return b.toString();
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option)) {
            return null;
        }
        String name = option.longestName();
        for (String var : ENV.getOrDefault(name, List.of())) {
            String v = env.get(var);
            if (v != null && !v.isEmpty()) {
                return v;
            }
        }
        return file.getProperty(name.replaceFirst("^--", ""));
    }
}
