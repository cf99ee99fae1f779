package dev.cryptopipeline.cli;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.pipeline.Pipeline;
import dev.cryptopipeline.pipeline.RunReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code setup}: creates what the pipeline needs; with {@code --chain} also backfills and prints the cron line. */
@Command(name = "setup", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Create, if absent, the lake, the BigQuery staging dataset and the PostgreSQL schema. Safe to"
                + " run again. With --chain, then backfill from --start-date and print the crontab line for daily"
                + " as the last line of output.")
final class SetupCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

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
        try (Pipeline pipeline = common.openPipeline()) {
            pipeline.setup().forEach(line -> out.println("setup: " + line));
            if (chain) {
                RunReport report = pipeline.backfill(startDate, endDate, false);
                out.println(report.summaryLine());
                out.println("# Load each new day from cron: add the next line with 'crontab -e'.");
                out.println(CronLine.of(launcher(), pipeline.config(), common.config,
                        ZoneId.systemDefault(), Instant.now()));
            }
            if (systemd) {
                out.print(SystemdUnits.of(launcher(), System.getProperty("user.name"), pipeline.config())
                        .instructions());
            }
            return 0;
        }
    }

    /** The command cron should run: the bin script that started us, or this jar. */
    private List<String> launcher() {
        String script = common.env().get("CRYPTO_PIPELINE_LAUNCHER");
        if (script != null && !script.isEmpty()) {
            return List.of(Path.of(script).toAbsolutePath().normalize().toString());
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        try {
            Path jar = Path.of(SetupCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return List.of(java, "-jar", jar.toAbsolutePath().toString());
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return List.of(java, "-jar", "crypto-pipeline.jar");
        }
    }
}
