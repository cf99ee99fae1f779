package dev.cryptopipeline.cli;

import dev.cryptopipeline.ExitCode;
import dev.cryptopipeline.PipelineException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;

/** The command-line entry point. {@link #run} is what tests call. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        if (Arrays.asList(args).contains("-v") || Arrays.asList(args).contains("--verbose")) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "debug");
        }
        System.exit(run(System.out, System.err, System.getenv(), args));
    }

    /**
     * Runs one command.
     *
     * @param out  results only: summaries, the cron line, {@code --json} output
     * @param err  the one-line error, if any (logs go to the process's stderr)
     * @param env  the environment to read defaults from
     * @return the exit code
     */
    public static int run(PrintStream out, PrintStream err, Map<String, String> env, String... args) {
        boolean verbose = Arrays.asList(args).contains("-v") || Arrays.asList(args).contains("--verbose");
        PrintWriter o = new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter e = new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        try {
            CommandLine cl = commandLine(env, args, o, e);
            return cl.execute(args);
        } catch (PipelineException ex) {
            // Raised before parsing, e.g. by an unreadable config file.
            return report(ex, verbose, e);
        } finally {
            o.flush();
            e.flush();
        }
    }

    static CommandLine commandLine(Map<String, String> env, String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new TopCommand(env));
        cl.setOut(out);
        cl.setErr(err);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.registerConverter(LocalDate.class, Main::parseDate);
        cl.setDefaultValueProvider(ConfigDefaults.load(env, args));
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("crypto-pipeline: " + oneLine(ex.getMessage()) + ". Run '"
                    + c.getCommandSpec().qualifiedName() + " --help' for usage.");
            return ExitCode.USAGE.value();
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            boolean verbose = Arrays.asList(args).contains("-v") || Arrays.asList(args).contains("--verbose");
            if (ex instanceof PipelineException pe) {
                return report(pe, verbose, c.getErr());
            }
            c.getErr().println("crypto-pipeline: unexpected error: " + oneLine(String.valueOf(ex))
                    + (verbose ? "" : " (run with -v for details)"));
            if (verbose) {
                ex.printStackTrace(c.getErr());
            }
            return ExitCode.FAILED.value();
        });
        Map<String, String> codes = new LinkedHashMap<>();
        codes.put("0", "Success (including nothing to do).");
        codes.put("1", "Failed: database, lake or cloud unusable; nothing half-loaded.");
        codes.put("2", "Bad usage or input: fix the command line, configuration or input.");
        codes.put("3", "A data check failed (row count, manifest, constraint); the day's old data was kept.");
        codes.put("75", "Another run holds the lock, or an outage outlasted the retries: try again later.");
        for (CommandLine sub : withSubcommands(cl)) {
            sub.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(codes);
        }
        return cl;
    }

    private static Iterable<CommandLine> withSubcommands(CommandLine cl) {
        java.util.List<CommandLine> all = new java.util.ArrayList<>();
        all.add(cl);
        all.addAll(cl.getSubcommands().values());
        return all;
    }

    private static LocalDate parseDate(String s) {
        try {
            return LocalDate.parse(s);
        } catch (DateTimeParseException ex) {
            String why = ex.getMessage().contains(": ") ? ex.getMessage().substring(ex.getMessage().lastIndexOf(": ") + 2)
                    : "unparseable";
            throw new CommandLine.TypeConversionException("'" + s + "' is not a valid date (" + why
                    + "): use yyyy-MM-dd, e.g. 2024-01-31");
        }
    }

    static int report(PipelineException ex, boolean verbose, PrintWriter err) {
        err.println("crypto-pipeline: " + oneLine(ex.getMessage()));
        if (verbose) {
            ex.printStackTrace(err);
        }
        return ex.exitCode().value();
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace("\r", "").replace('\n', ' ');
    }
}
