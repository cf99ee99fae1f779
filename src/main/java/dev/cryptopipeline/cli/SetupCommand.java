package dev.cryptopipeline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.PipelineConfig;
import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.RunReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code setup}: creates what the pipeline needs, saves the configuration, and with --chain backfills. */
@Command(name = "setup", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Create, if absent, the lake, the BigQuery staging dataset and the PostgreSQL schema, and save"
                + " the configuration in the data dir, where every later command reads it. Safe to run again. With"
                + " --chain, then backfill from --start-date and print the crontab line for daily as the last line"
                + " of output.")
final class SetupCommand implements Callable<Integer> {
    @Mixin CommonOptions common;
    @Mixin SourceOptions source;
    @Mixin RunOptions run;

    @Option(names = "--chain", description = "Then run backfill and print the crontab line for daily.")
    boolean chain;

    @Option(names = "--start-date", paramLabel = "YYYY-MM-DD", description = "With --chain: the first day to load.")
    LocalDate startDate;

    @Option(names = "--end-date", paramLabel = "YYYY-MM-DD",
            description = "With --chain: the last day to load (default: yesterday, UTC).")
    LocalDate endDate;

    @Option(names = "--systemd", description = "Also print a systemd service and timer that run daily at 09:30 UTC"
            + " with the saved configuration, as this user, and how to install them.")
    boolean systemd;

    @Override
    public Integer call() {
        if (chain && startDate == null) {
            throw new PipelineException.BadInput("setup --chain needs --start-date YYYY-MM-DD, the first day to"
                    + " backfill");
        }
        if (!chain && (startDate != null || endDate != null)) {
            throw new PipelineException.BadInput("--start-date and --end-date are used only with setup --chain");
        }
        PrintWriter out = common.out();
        try (Pipeline pipeline = common.openPipeline(source, run, false, true)) {
            PipelineConfig config = pipeline.config();
            List<String> lines = new ArrayList<>(pipeline.setup());
            Path saved = config.dataDir().resolve(ConfigDefaults.SAVED);
            if (!config.dryRun()) {
                saved = ConfigDefaults.save(config.dataDir(), Wiring.savedSettings(config), Instant.now());
                lines.add("configuration saved to " + saved + " (later commands read it; flags still win)");
            }
            String units = systemd ? SystemdUnits.of(launcher(), System.getProperty("user.name"), config)
                    .instructions() : null;
            if (!run.json) {
                lines.forEach(line -> out.println("setup: " + line));
                if (units != null) {
                    // Before the backfill's summary: the cron line stays the last line of the output.
                    out.print(units);
                }
                out.flush();
            }
            RunReport report = null;
            if (chain) {
                report = Reports.run(pipeline, run.json, out, () -> pipeline.backfill(startDate, endDate, false));
            }
            String cron = CronLine.of(launcher(), saved, config.dataDir(), config.queryLimit(),
                    ZoneId.systemDefault(), Instant.now());
            if (run.json) {
                ObjectNode root = new ObjectMapper().createObjectNode();
                root.put("command", "setup");
                root.put("outcome", "ok");
                root.put("exit_code", 0);
                lines.forEach(root.putArray("resources")::add);
                root.put("config_file", saved.toString());
                if (units != null) {
                    root.put("systemd", units);
                }
                if (report != null) {
                    root.set("backfill", readTree(report.toJson()));
                    root.put("cron_line", cron);
                } else {
                    root.putNull("backfill");
                }
                out.println(root);
            } else if (report != null) {
                out.println(report.summaryLine());
                out.println("# Load each new day from cron: add the next line with 'crontab -e'.");
                out.println(cron);
            }
            return 0;
        }
    }

    private static com.fasterxml.jackson.databind.JsonNode readTree(String json) {
        try {
            return new ObjectMapper().readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The JVM options for a streaming command-line run: a small heap that starts small and a simple collector, so the
     * process stays near 150 MB whatever the volume of a day (the JVM's defaults on a large machine let it grow to
     * several hundred). The same as {@code bin/crypto-pipeline}'s default (a test keeps them equal).
     */
    static final List<String> JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-Xms16m", "-Xmx160m",
            "-XX:MaxMetaspaceSize=128m", "-Xss512k");

    /**
     * The command a scheduler should run: the bin script that started us (it sets the JVM options), or this jar with
     * them.
     */
    List<String> launcher() {
        String script = common.env().get("CRYPTO_PIPELINE_LAUNCHER");
        if (script != null && !script.isEmpty()) {
            return List.of(Path.of(script).toAbsolutePath().normalize().toString());
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(JVM_OPTIONS);
        try {
            Path jar = Path.of(SetupCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            command.addAll(List.of("-jar", jar.toAbsolutePath().toString()));
        } catch (java.net.URISyntaxException | RuntimeException e) {
            command.addAll(List.of("-jar", "crypto-pipeline.jar"));
        }
        return command;
    }
}
