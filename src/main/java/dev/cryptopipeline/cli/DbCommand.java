package dev.cryptopipeline.cli;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.PipelineConfig;
import dev.cryptopipeline.sink.EmbeddedDatabase;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code db}: keeps the embedded PostgreSQL running so it can be queried with psql or any client. Ctrl-C (SIGINT) or
 * SIGTERM ends it through the JVM's shutdown, which ends its use of the server (stopping the server only if no run
 * still uses it); the process then exits 130 or 143, as a command stopped by a signal does.
 */
@Command(name = "db", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Start the embedded PostgreSQL (or use the one already running) and keep it up until Ctrl-C"
                + " (or --seconds), printing how to connect, so the loaded rows can be queried with psql or any"
                + " client. On leaving, db stops the server unless a run is still using it; the run then stops it"
                + " when it ends. Needs a database made by setup. Ctrl-C exits 130, SIGTERM 143, --seconds 0.")
final class DbCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--seconds", paramLabel = "N", description = "Stop after N seconds instead of waiting for Ctrl-C.")
    Long seconds;

    @Override
    public Integer call() throws InterruptedException {
        if (seconds != null && seconds < 0) {
            throw new PipelineException.BadInput("--seconds must be 0 or more (got " + seconds + "); leave it out to"
                    + " run until Ctrl-C");
        }
        PipelineConfig config = common.config();
        if (!config.database().embeddedServer()) {
            throw new PipelineException.BadInput("db runs the embedded PostgreSQL; with --jdbc-url, connect to that"
                    + " server directly");
        }
        PrintWriter out = common.out();
        try (EmbeddedDatabase db = EmbeddedDatabase.open(config.dataDir(), false)) {
            String pgpass = config.dataDir().resolve(EmbeddedDatabase.PGPASS_FILE).toString();
            out.println("PGPASSFILE=" + CronLine.quote(pgpass) + " psql -h 127.0.0.1 -p " + db.port()
                    + " -U postgres postgres");
            out.println("JDBC URL: " + db.jdbcUrl() + "?user=postgres   (schema " + config.pgSchema()
                    + "; the password is the last field of " + pgpass + ")");
            out.println(seconds == null ? "Running; press Ctrl-C to stop." : "Running for " + seconds + " s.");
            out.flush();
            if (seconds == null) {
                Thread.sleep(Long.MAX_VALUE); // until a signal: the shutdown hook ends the use of the server
            } else {
                TimeUnit.SECONDS.sleep(seconds);
            }
        }
        return 0;
    }
}
