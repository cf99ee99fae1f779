package dev.cryptopipeline.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The day plan: which days a command loads, skips or leaves for later, and in which chunks. */
class DayPlanTest {
    private static final LocalDate D = LocalDate.of(2024, 3, 1);
    private static final OptionalInt FULL = OptionalInt.empty();

    private static Map<LocalDate, OptionalInt> loaded(Object... dayAndLimit) {
        Map<LocalDate, OptionalInt> m = new TreeMap<>();
        for (int i = 0; i < dayAndLimit.length; i += 2) {
            m.put((LocalDate) dayAndLimit[i], (OptionalInt) dayAndLimit[i + 1]);
        }
        return m;
    }

    @Test
    void backfill_skips_loaded_days_and_leaves_unfinished_ones() {
        // given: D+1 loaded in full; the source has finished up to D+3
        Map<LocalDate, OptionalInt> loaded = loaded(D.plusDays(1), FULL);
        // when
        DayPlan plan = DayPlan.backfill(D, D.plusDays(4), false, loaded, FULL, D.plusDays(3));
        // then
        assertThat(plan.days()).containsExactly(D, D.plusDays(2), D.plusDays(3));
        assertThat(plan.skipped()).containsExactly(D.plusDays(1));
        assertThat(plan.unfinished()).containsExactly(D.plusDays(4));
        assertThat(plan.candidates()).containsExactly(D, D.plusDays(2), D.plusDays(3), D.plusDays(4));
        assertThat(plan.fresh()).isFalse();
        assertThat(plan.toLoad()).allMatch(t -> t.reason() == DayPlan.Reason.NEW);
    }

    @Test
    void backfill_without_a_limit_replaces_trial_loads_and_keeps_full_ones() {
        // given: D a trial of 5 rows, D+1 full
        Map<LocalDate, OptionalInt> loaded = loaded(D, OptionalInt.of(5), D.plusDays(1), FULL);
        // when
        DayPlan plan = DayPlan.backfill(D, D.plusDays(1), false, loaded, FULL, D.plusDays(9));
        // then
        assertThat(plan.toLoad()).containsExactly(new DayPlan.Task(D, DayPlan.Reason.TRIAL));
        assertThat(plan.skipped()).containsExactly(D.plusDays(1));
        assertThat(plan.trialReplacements()).isEqualTo(1);
    }

    @Test
    void backfill_with_the_same_or_a_smaller_limit_keeps_a_trial_and_a_larger_one_replaces_it() {
        Map<LocalDate, OptionalInt> loaded = loaded(D, OptionalInt.of(100));
        assertThat(DayPlan.backfill(D, D, false, loaded, OptionalInt.of(100), D).days()).isEmpty();
        assertThat(DayPlan.backfill(D, D, false, loaded, OptionalInt.of(10), D).days()).isEmpty();
        assertThat(DayPlan.backfill(D, D, false, loaded, OptionalInt.of(1000), D).days()).containsExactly(D);
    }

    @Test
    void reload_loads_every_day_again_afresh() {
        DayPlan plan = DayPlan.backfill(D, D.plusDays(1), true, loaded(D, FULL), FULL, D.plusDays(1));
        assertThat(plan.toLoad()).containsExactly(new DayPlan.Task(D, DayPlan.Reason.RELOAD),
                new DayPlan.Task(D.plusDays(1), DayPlan.Reason.NEW));
        assertThat(plan.fresh()).isTrue();
    }

    @Test
    void daily_catches_up_every_missed_day_after_the_last_loaded_one() {
        // given: loaded up to D, with an old gap before it that daily does not fill
        Map<LocalDate, OptionalInt> loaded = loaded(D.minusDays(5), FULL, D, FULL);
        // when: yesterday is D+4 and the source has finished D+3
        DayPlan plan = DayPlan.catchUp(loaded, D.plusDays(4), D.plusDays(3));
        // then
        assertThat(plan.days()).containsExactly(D.plusDays(1), D.plusDays(2), D.plusDays(3));
        assertThat(plan.unfinished()).containsExactly(D.plusDays(4));
    }

    @Test
    void exactly_one_day_is_fresh_and_waits_while_the_source_has_not_finished_it() {
        assertThat(DayPlan.exactly(D, loaded(D, FULL), D).toLoad())
                .containsExactly(new DayPlan.Task(D, DayPlan.Reason.RELOAD));
        assertThat(DayPlan.exactly(D, loaded(), D).fresh()).isTrue();
        DayPlan later = DayPlan.exactly(D, loaded(), D.minusDays(1));
        assertThat(later.days()).isEmpty();
        assertThat(later.unfinished()).containsExactly(D);
    }

    @Test
    void chunks_are_runs_of_consecutive_days_of_bounded_size() {
        // given: 5 consecutive days, a gap, 2 more
        Map<LocalDate, OptionalInt> loaded = loaded(D.plusDays(5), FULL);
        DayPlan plan = DayPlan.backfill(D, D.plusDays(7), false, loaded, FULL, D.plusDays(7));
        // when
        List<List<LocalDate>> chunks = plan.chunks(3);
        // then
        assertThat(chunks).containsExactly(List.of(D, D.plusDays(1), D.plusDays(2)),
                List.of(D.plusDays(3), D.plusDays(4)), List.of(D.plusDays(6), D.plusDays(7)));
    }

    @Test
    void days_changed_at_the_source_are_reloaded_afresh_in_order() {
        DayPlan plan = DayPlan.sourceChanged(List.of(D.plusDays(2), D));
        assertThat(plan.days()).containsExactly(D, D.plusDays(2));
        assertThat(plan.fresh()).isTrue();
        assertThat(plan.toLoad()).allMatch(t -> t.reason() == DayPlan.Reason.SOURCE_CHANGED);
    }

    @Test
    void verify_days_are_the_last_loaded_once_the_plan_is_done_each_with_its_limit() {
        // given: D and D+1 loaded (D+1 as a trial), a gap, D+3 to load now
        Map<LocalDate, OptionalInt> loaded = loaded(D, FULL, D.plusDays(1), OptionalInt.of(100));
        DayPlan plan = DayPlan.backfill(D.plusDays(3), D.plusDays(3), false, loaded, FULL, D.plusDays(3));
        // when / then: loaded days, not calendar days; the planned day with this run's limit
        assertThat(plan.lastLoaded(loaded, FULL, 2)).containsExactly(Map.entry(D.plusDays(1), OptionalInt.of(100)),
                Map.entry(D.plusDays(3), FULL));
        assertThat(plan.lastLoaded(loaded, FULL, 10)).containsOnlyKeys(D, D.plusDays(1), D.plusDays(3));
        assertThat(plan.lastLoaded(loaded, FULL, 0)).isEmpty();
    }
}
