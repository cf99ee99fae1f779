package dev.cryptopipeline.cli;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.PipelineConfig;
import dev.cryptopipeline.sink.EmbeddedDatabase;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code db}: keeps the embedded PostgreSQL running so it can be queried with psql or any client. */
@Command(name = "db", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Start the embedded PostgreSQL and keep it running until Ctrl-C (or --seconds), printing how to"
                + " connect, so the loaded rows can be queried with psql or any client.")
final class DbCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--seconds", paramLabel = "N", description = "Stop after N seconds instead of waiting for Ctrl-C.")
    Long seconds;

    @Override
    public Integer call() throws InterruptedException {
        PipelineConfig config = common.config();
        if (!config.database().embeddedServer()) {
            throw new PipelineException.BadInput("db runs the embedded PostgreSQL; with --jdbc-url, connect to that"
                    + " server directly");
        }
        PrintWriter out = common.out();
        try (EmbeddedDatabase db = EmbeddedDatabase.open(config.dataDir())) {
            String pgpass = config.dataDir().resolve(EmbeddedDatabase.PGPASS_FILE).toString();
            out.println("PGPASSFILE=" + CronLine.quote(pgpass) + " psql -h 127.0.0.1 -p " + db.port()
                    + " -U postgres postgres");
            out.println("JDBC URL: " + db.jdbcUrl() + "?user=postgres   (schema " + config.pgSchema()
                    + "; the password is the last field of " + pgpass + ")");
            out.println(seconds == null ? "Running; press Ctrl-C to stop." : "Running for " + seconds + " s.");
            out.flush();
            Thread.sleep(seconds == null ? Long.MAX_VALUE : seconds * 1000);
        }
        return 0;
    }
}
