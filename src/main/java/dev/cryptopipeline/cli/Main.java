package dev.cryptopipeline.cli;

import dev.cryptopipeline.ExitCode;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.pipeline.Progress;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;

/** The command-line entry point. {@link #run} is what tests call. */
public final class Main {
    private Main() {
    }

    /** True in a real process on a terminal: a progress line replaces the INFO log. */
    private static volatile boolean interactive;

    public static void main(String[] args) {
        // The output is English and partly for machines (JSON, the cron line, lake file names): the digits, decimal
        // signs and driver messages of the user's locale (ar_EG's, de_DE's) have no place in it.
        Locale.setDefault(Locale.ROOT);
        boolean verbose = Arrays.asList(args).contains("-v") || Arrays.asList(args).contains("--verbose");
        if (verbose) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "debug");
        } else if (System.console() != null) {
            // On a terminal a live progress line says how far a run is; the step-by-step log stays for logs and -v.
            interactive = true;
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        Signals.enable();
        System.exit(run(System.out, System.err, System.getenv(), args));
    }

    /** The progress display of a loading command: a live line on a terminal, else the log's line per day. */
    static Progress terminalProgress(boolean verbose, boolean json) {
        return interactive && !verbose && !json ? new TerminalProgress(System.err) : Progress.NONE;
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
        args = verboseAfterCommand(args);
        boolean verbose = Arrays.asList(args).contains("-v") || Arrays.asList(args).contains("--verbose");
        PrintWriter o = new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter e = new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        try {
            if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
                // Answered without building the command line: the first thing a user or a script runs is quick.
                for (String line : new TopCommand.Version().getVersion()) {
                    o.println(line);
                }
                return 0;
            }
            String help = args.length == 1 && (args[0].equals("--help") || args[0].equals("-h")) ? topHelp() : null;
            if (help != null) {
                o.print(help);
                return 0;
            }
            CommandLine cl = commandLine(env, args, o, e);
            return cl.execute(args);
        } catch (PipelineException ex) {
            // Raised before parsing, e.g. by an unreadable config file.
            return report(ex, verbose, e);
        } catch (RuntimeException ex) {
            return unexpected(ex, verbose, e);
        } finally {
            o.flush();
            e.flush();
        }
    }

    /**
     * {@code crypto-pipeline -v daily …} as {@code crypto-pipeline daily -v …}: {@code -v} is an option of every
     * command, and users put a flag that means "more output" before the command as often as after it.
     */
    static String[] verboseAfterCommand(String[] args) {
        if (args.length < 2 || !(args[0].equals("-v") || args[0].equals("--verbose")) || args[1].startsWith("-")) {
            return args;
        }
        String[] moved = args.clone();
        moved[0] = args[1];
        moved[1] = args[0];
        return moved;
    }

    static CommandLine commandLine(Map<String, String> env, String[] args, PrintWriter out, PrintWriter err) {
        ConfigDefaults defaults = ConfigDefaults.load(env, args);
        CommandLine cl = new CommandLine(new TopCommand(env, defaults));
        cl.setOut(out);
        cl.setErr(err);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.registerConverter(LocalDate.class, Main::parseDate);
        cl.setDefaultValueProvider(defaults);
        cl.setUsageHelpWidth(100);
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("crypto-pipeline: " + usageError(ex) + " Run '"
                    + c.getCommandSpec().qualifiedName() + " --help' for usage.");
            return ExitCode.USAGE.value();
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            boolean verbose = Arrays.asList(args).contains("-v") || Arrays.asList(args).contains("--verbose");
            if (ex instanceof PipelineException pe) {
                return report(pe, verbose, c.getErr());
            }
            return unexpected(ex, verbose, c.getErr());
        });
        Map<String, String> codes = new LinkedHashMap<>();
        codes.put("0", "Success (including nothing to do).");
        codes.put("1", "Failed: database, lake or cloud unusable; nothing half-loaded.");
        codes.put("2", "Bad usage or input: fix the command line, configuration or input.");
        codes.put("3", "A data check failed (row count, manifest, constraint); the day's old data was kept.");
        codes.put("75", "Another run holds the lock, or an outage outlasted the retries: try again later.");
        codes.put("129", "Hung up (SIGHUP: its terminal closed): the day in flight rolled back; run again to finish.");
        codes.put("130", "Interrupted (SIGINT, Ctrl-C): the day in flight rolled back; run again to finish.");
        codes.put("143", "Terminated (SIGTERM): the day in flight rolled back; run again to finish.");
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

    /** The top command's help as picocli renders it, kept beside the classes (CliTest keeps the two equal). */
    static final String TOP_HELP = "/crypto-pipeline-help.txt";

    /**
     * The top command's help, rendered at build time: building the command line (every command's options, by
     * reflection) is most of a cold start, and {@code --help} should answer at once. Null if the file is missing.
     */
    static String topHelp() {
        try (java.io.InputStream in = Main.class.getResourceAsStream(TOP_HELP)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException ex) {
            return null;
        }
    }

    /** The top command's help as picocli renders it now. */
    static String renderTopHelp() {
        java.io.StringWriter w = new java.io.StringWriter();
        PrintWriter pw = new PrintWriter(w);
        commandLine(Map.of(), new String[0], pw, pw).usage(pw);
        pw.flush();
        return w.toString();
    }

    /**
     * One line for a usage error. An unknown option or command comes first, with the closest valid ones, even when
     * picocli noticed a missing required option first (a typo in a required option's name is the likely cause).
     */
    static String usageError(CommandLine.ParameterException ex) {
        CommandLine c = ex.getCommandLine();
        java.util.List<String> unmatched = c.getParseResult() == null ? java.util.List.of()
                : c.getParseResult().unmatched();
        if (ex instanceof CommandLine.UnmatchedArgumentException u) {
            unmatched = u.getUnmatched();
        }
        if (!unmatched.isEmpty()) {
            String first = unmatched.get(0);
            boolean option = first.startsWith("-");
            java.util.List<String> candidates = new java.util.ArrayList<>();
            if (option) {
                c.getCommandSpec().options().forEach(o -> candidates.addAll(java.util.Arrays.asList(o.names())));
            } else {
                candidates.addAll(c.getSubcommands().keySet());
            }
            String name = option && first.contains("=") ? first.substring(0, first.indexOf('=')) : first;
            java.util.List<String> close = closest(name, candidates);
            return (option ? "Unknown option: '" + name + "'" : "Unknown command: '" + first + "'")
                    + (close.isEmpty() ? "." : ". Did you mean " + String.join(" or ", close) + "?");
        }
        String m = oneLine(ex.getMessage());
        return m.endsWith(".") ? m : m + ".";
    }

    /** The candidates nearest to {@code word} by edit distance (at most a third of its length, at least 2). */
    static java.util.List<String> closest(String word, java.util.List<String> candidates) {
        int best = Integer.MAX_VALUE;
        java.util.List<String> found = new java.util.ArrayList<>();
        for (String c : candidates) {
            int d = distance(word.toLowerCase(java.util.Locale.ROOT), c.toLowerCase(java.util.Locale.ROOT));
            if (c.startsWith(word) && word.length() >= 3) {
                d = Math.min(d, 1);
            }
            if (d < best) {
                best = d;
                found.clear();
            }
            if (d == best && !found.contains(c)) {
                found.add(c);
            }
        }
        return best <= Math.max(2, word.length() / 3) ? found : java.util.List.of();
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1], prev[j]) + 1,
                        prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
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

    /**
     * Anything else that went wrong: one line, and the stack trace only with {@code -v}. A path Java cannot name is
     * exit 2 (the user changes the path or the locale), anything else exit 1.
     */
    static int unexpected(Exception ex, boolean verbose, PrintWriter err) {
        String message = "unexpected error: " + ex;
        ExitCode code = ExitCode.FAILED;
        if (ex instanceof InvalidPathException bad) {
            code = ExitCode.USAGE;
            message = "cannot use the path '" + bad.getInput() + "' (" + bad.getReason() + ")"
                    + (bad.getReason().startsWith("Malformed input") ? ": Java names files in the locale's character"
                    + " set, here not UTF-8; set LC_ALL=C.UTF-8 (bin/crypto-pipeline does when it can), or use a"
                    + " path of ASCII characters" : ": use another path");
        }
        err.println("crypto-pipeline: " + oneLine(message) + (verbose ? "" : " (run with -v for details)"));
        if (verbose) {
            ex.printStackTrace(err);
        }
        return code.value();
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace("\r", "").replace('\n', ' ');
    }
}
