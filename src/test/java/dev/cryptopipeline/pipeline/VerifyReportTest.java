package dev.cryptopipeline.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.ExitCode;
import dev.cryptopipeline.lake.Fingerprint;
import java.math.BigInteger;
import java.time.LocalDate;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What verify prints: which days differ and how, which match, and its exit code. */
class VerifyReportTest {
    private static final LocalDate D = LocalDate.of(2024, 3, 1);

    private static DayCheck check(int day, long sourceRows, long loadedRows, long sourceSum, long loadedSum) {
        return new DayCheck(D.plusDays(day), null, new Fingerprint.Day(sourceRows, BigInteger.valueOf(sourceSum)),
                new Fingerprint.Day(loadedRows, BigInteger.valueOf(loadedSum)), false);
    }

    @Test
    void the_outcome_is_rows_before_content() {
        assertThat(check(0, 10, 10, 5, 5).outcome()).isEqualTo(DayCheck.Outcome.MATCH);
        assertThat(check(0, 10, 10, 5, 6).outcome()).isEqualTo(DayCheck.Outcome.CONTENT);
        assertThat(check(0, 11, 10, 5, 6).outcome()).isEqualTo(DayCheck.Outcome.ROWS);
    }

    @Test
    void a_report_with_a_differing_day_exits_3_and_names_it_with_the_fix() {
        // given
        VerifyReport report = new VerifyReport("r", List.of(check(0, 10, 10, 5, 5), check(1, 11, 10, 5, 6),
                check(2, 10, 10, 5, 5), check(3, 10, 10, 5, 5)), List.of(D, D.plusDays(1), D.plusDays(2),
                D.plusDays(3)), 1500, false, List.of(), null, null);
        // then
        assertThat(report.exitCode()).isEqualTo(ExitCode.DATA_CHECK);
        assertThat(report.outcome()).isEqualTo("data-check");
        assertThat(report.toTable()).isEqualTo("""
                day           source_rows   loaded_rows  differs
                2024-03-02             11            10  rows
                match: 3 days: 2024-03-01, 2024-03-03..2024-03-04
                verify: 1 of 4 days differs from the source: 2024-03-02 (rows); reload it with 'crypto-pipeline daily\
                 --date 2024-03-02' in 1.5 s
                """);
    }

    @Test
    void a_report_where_all_match_exits_0() {
        VerifyReport report = new VerifyReport("r", List.of(check(0, 1, 1, 2, 2), check(1, 0, 0, 0, 0)),
                List.of(D, D.plusDays(1)), 100, false, List.of(), null, null);
        assertThat(report.exitCode()).isEqualTo(ExitCode.OK);
        assertThat(report.problem()).isNull();
        assertThat(report.summaryLine()).isEqualTo("verify: all 2 days match the source (2024-03-01..2024-03-02)"
                + " in 0.1 s");
        assertThat(report.toJson()).startsWith("{\"command\":\"verify\",\"run_id\":\"r\",\"outcome\":\"ok\","
                + "\"exit_code\":0,").contains("\"differing\":[]");
    }

    @Test
    void days_read_as_runs() {
        assertThat(VerifyReport.ranges(List.of(D, D.plusDays(1), D.plusDays(2), D.plusDays(5), D.plusDays(7),
                D.plusDays(8)), 2)).isEqualTo("2024-03-01..2024-03-03, 2024-03-06 and 1 more");
    }
}
