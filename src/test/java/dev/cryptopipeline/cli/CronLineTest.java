package dev.cryptopipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class CronLineTest {
    private static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");

    @Test
    void the_daily_run_is_after_09_00_utc_all_year_in_any_time_zone() {
        for (String zone : new String[] {"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata",
                "Australia/Sydney", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu"}) {
            ZoneId z = ZoneId.of(zone);
            LocalTime local = CronLine.localTime(z, NOW);
            for (int day = 0; day < 366; day++) {
                Instant date = NOW.plusSeconds(day * 86400L);
                int offset = z.getRules().getOffset(date).getTotalSeconds();
                LocalTime utc = local.minusSeconds(offset);
                assertThat(utc).as(zone + " day " + day).isBetween(LocalTime.of(9, 0), LocalTime.of(12, 0));
            }
        }
        assertThat(CronLine.localTime(ZoneId.of("UTC"), NOW)).isEqualTo(LocalTime.of(9, 30));
        assertThat(CronLine.localTime(ZoneId.of("Europe/Berlin"), NOW)).isEqualTo(LocalTime.of(11, 30));
    }

    @Test
    void a_line_with_a_path_beyond_ascii_sets_a_utf_8_locale_for_java_and_no_other_line_does() {
        java.time.Instant now = java.time.Instant.parse("2026-11-29T00:00:00Z");
        List<String> java = List.of("/usr/bin/java", "-jar", "/opt/cp/crypto-pipeline.jar");
        String utf8 = CronLine.of(java, Path.of("/srv/données/crypto-pipeline.properties"), Path.of("/srv/données"),
                OptionalInt.empty(), ZoneOffset.UTC, now);
        String ascii = CronLine.of(java, Path.of("/srv/data/crypto-pipeline.properties"), Path.of("/srv/data"),
                OptionalInt.empty(), ZoneOffset.UTC, now);
        assertThat(CronLine.command(utf8)).startsWith("LC_ALL=C.UTF-8 CRYPTO_PIPELINE_NO_BUILD=1 /usr/bin/java ");
        assertThat(CronLine.command(ascii)).startsWith("CRYPTO_PIPELINE_NO_BUILD=1 /usr/bin/java ");
    }

    @Test
    void arguments_are_quoted_for_the_shell_and_percent_is_escaped_for_cron() {
        assertThat(CronLine.quote("/opt/crypto pipeline/bin")).isEqualTo("'/opt/crypto pipeline/bin'");
        assertThat(CronLine.quote("it's")).isEqualTo("'it'\\''s'");
        assertThat(CronLine.quote("jdbc:postgresql://h/db?user=a%20b")).isEqualTo("'jdbc:postgresql://h/db?user=a\\%20b'");
        assertThat(CronLine.quote("--data-dir")).isEqualTo("--data-dir");
    }

    @org.junit.jupiter.api.Test
    void the_wrapper_and_a_jar_launch_use_the_same_jvm_options() throws Exception {
        String wrapper = java.nio.file.Files.readString(java.nio.file.Path.of("bin", "crypto-pipeline"));
        org.assertj.core.api.Assertions.assertThat(wrapper)
                .contains("default_java_opts=\"" + String.join(" ", SetupCommand.JVM_OPTIONS) + "\"");
    }
}
