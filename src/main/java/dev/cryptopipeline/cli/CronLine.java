package dev.cryptopipeline.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The crontab line for {@code daily}. Cron runs in the machine's time zone, so the line is placed at the local time
 * that is at or after 09:30 UTC all year round (DST included): the source finishes day D by about 08:30 UTC on D+1.
 * The line names the saved configuration (so cron, with no environment, runs with setup's settings), never builds
 * the jar, and appends to a log in the data directory, which setup has created.
 */
final class CronLine {
    /** The earliest UTC time the daily run should start. */
    static final LocalTime NOT_BEFORE_UTC = LocalTime.of(9, 30);

    private CronLine() {
    }

    /**
     * @param launcher   the command that runs the tool (the bin script, or {@code java -jar <jar>})
     * @param configFile the saved configuration
     * @param dataDir    where the log goes
     * @param queryLimit a trial's per-day limit, repeated on the line (it is not saved)
     * @param zone       the machine's time zone
     */
    static String of(List<String> launcher, Path configFile, Path dataDir, OptionalInt queryLimit, ZoneId zone,
                     Instant now) {
        LocalTime local = localTime(zone, now);
        List<String> args = new ArrayList<>(launcher);
        args.add("daily");
        args.add("--config");
        args.add(configFile.toAbsolutePath().toString());
        queryLimit.ifPresent(n -> {
            args.add("--query-limit");
            args.add(Integer.toString(n));
        });
        StringBuilder b = new StringBuilder();
        b.append(local.getMinute()).append(' ').append(local.getHour()).append(" * * * ");
        if (nonAscii(String.join(" ", args))) {
            b.append(UTF8_LOCALE).append(' ');
        }
        b.append("CRYPTO_PIPELINE_NO_BUILD=1 ");
        for (String a : args) {
            b.append(quote(a)).append(' ');
        }
        b.append(">> ").append(quote(dataDir.resolve("daily.log").toAbsolutePath().toString())).append(" 2>&1");
        return b.toString();
    }

    /**
     * Set for a scheduled command whose paths are not all ASCII. Cron and systemd give no locale, in which Java names
     * files in ASCII: such a path fails (bin/crypto-pipeline sets it too, but {@code java -jar} cannot).
     */
    static final String UTF8_LOCALE = "LC_ALL=C.UTF-8";

    /** True if {@code s} has a character outside ASCII. */
    static boolean nonAscii(String s) {
        return s.chars().anyMatch(c -> c > 0x7f);
    }

    /** The command part of a crontab line (what cron hands to /bin/sh), with cron's {@code \%} unescaped. */
    static String command(String line) {
        String[] fields = line.split(" ", 6);
        return fields[5].replace("\\%", "%");
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
