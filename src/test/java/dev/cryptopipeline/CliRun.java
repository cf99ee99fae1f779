package dev.cryptopipeline;

import dev.cryptopipeline.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Runs the CLI in-process, as a user would from a shell, and keeps what it printed. */
public record CliRun(int exitCode, String out, String err) {

    public static CliRun run(String... args) {
        return runWithEnv(Map.of(), args);
    }

    public static CliRun runWithEnv(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Map<String, String> e = new HashMap<>(env);
        int code = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), e, args);
        return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /**
     * Runs a command of the local path against the tests' PostgreSQL, in {@code schema} with its lake and state
     * under {@code dataDir}, from the synthetic source with {@code rowsPerDay} rows a day ({@code status} takes no
     * source options).
     */
    public static CliRun local(Path dataDir, String schema, int rowsPerDay, String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.addAll(List.of("--jdbc-url", TestPostgres.jdbcUrl(), "--pg-schema", schema, "--data-dir",
                dataDir.toString()));
        if (!args[0].equals("status")) {
            all.addAll(List.of("--source", "synthetic", "--rows-per-day", Integer.toString(rowsPerDay)));
        }
        return run(all.toArray(String[]::new));
    }

    /** stdout's lines. */
    public List<String> lines() {
        return Arrays.asList(out.split("\n"));
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
