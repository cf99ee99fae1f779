package dev.cryptopipeline.cli;

import dev.cryptopipeline.config.PipelineConfig;
import dev.cryptopipeline.config.SourceKind;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * The crontab line for {@code daily}. Cron runs in the machine's time zone, so the line is placed at the local time
 * that is at or after 09:30 UTC all year round (DST included): the source finishes day D by about 08:30 UTC on D+1.
 */
final class CronLine {
    /** The earliest UTC time the daily run should start. */
    static final LocalTime NOT_BEFORE_UTC = LocalTime.of(9, 30);

    private CronLine() {
    }

    /**
     * @param launcher the command that runs the tool (the bin script, or {@code java -jar <jar>})
     * @param config   the effective configuration, whose non-default settings the line repeats
     * @param zone     the machine's time zone
     */
    static String of(List<String> launcher, PipelineConfig config, Path configFile, ZoneId zone, Instant now) {
        LocalTime local = localTime(zone, now);
        List<String> args = new ArrayList<>(launcher);
        args.add("daily");
        args.add("--source");
        args.add(config.source().optionValue());
        if (!config.lake().isEmpty()) {
            args.add("--lake");
            args.add(config.lake());
        }
        config.database().jdbcUrl().ifPresent(url -> {
            args.add("--jdbc-url");
            args.add(url); // never the password: it was moved out of the URL; cron reads ~/.pgpass
        });
        if (!config.pgSchema().name().equals("crypto_eth")) {
            args.add("--pg-schema");
            args.add(config.pgSchema().name());
        }
        args.add("--data-dir");
        args.add(config.dataDir().toString());
        config.queryLimit().ifPresent(n -> {
            args.add("--query-limit");
            args.add(Integer.toString(n));
        });
        if (config.source() == SourceKind.SYNTHETIC && config.rowsPerDay() != 10000) {
            args.add("--rows-per-day");
            args.add(Integer.toString(config.rowsPerDay()));
        }
        if (configFile != null) {
            args.add("--config");
            args.add(configFile.toAbsolutePath().toString());
        }
        StringBuilder b = new StringBuilder();
        b.append(local.getMinute()).append(' ').append(local.getHour()).append(" * * * ");
        for (String a : args) {
            b.append(quote(a)).append(' ');
        }
        b.append(">> ").append(quote(config.dataDir().resolve("daily.log").toString())).append(" 2>&1");
        return b.toString();
    }

    /** The local time at or after {@link #NOT_BEFORE_UTC} on every day of the coming year. */
    static LocalTime localTime(ZoneId zone, Instant now) {
        int maxOffset = Integer.MIN_VALUE;
        for (Instant t = now; t.isBefore(now.plus(Duration.ofDays(366))); t = t.plus(1, ChronoUnit.DAYS)) {
            maxOffset = Math.max(maxOffset, zone.getRules().getOffset(t).getTotalSeconds());
        }
        return NOT_BEFORE_UTC.plusSeconds(maxOffset);
    }

    /** Single-quotes an argument for the shell that cron runs, and escapes cron's {@code %}. */
    static String quote(String s) {
        String q = s.matches("[A-Za-z0-9_./:=@,+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
        return q.replace("%", "\\%");
    }
}
