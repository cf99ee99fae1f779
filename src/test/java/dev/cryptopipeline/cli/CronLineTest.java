package dev.cryptopipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
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
