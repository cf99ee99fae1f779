package dev.cryptopipeline.pipeline;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Which UTC days a command loads (and why), which it skips, and which it leaves because the source has not finished
 * them. Pure: no I/O, so every rule is unit-tested.
 *
 * @param toLoad     the days to load, ascending, each with its reason
 * @param skipped    days left alone because they are already loaded
 * @param unfinished days not loaded because the source has not finished them yet (a later run picks them up)
 * @param fresh      true when the user asked for these exact days again (a reload): export anew, never reuse
 */
public record DayPlan(List<Task> toLoad, List<LocalDate> skipped, List<LocalDate> unfinished, boolean fresh) {

    /** Why a day is loaded; recorded in the ledger. */
    public enum Reason {
        NEW("new"),
        RELOAD("reload"),
        TRIAL("replaces a trial load"),
        SOURCE_CHANGED("source changed");

        private final String label;

        Reason(String label) {
            this.label = label;
        }

        /** The words recorded in the ledger's {@code reason}. */
        public String label() {
            return label;
        }
    }

    /** One day to load. */
    public record Task(LocalDate day, Reason reason) {
        public Task {
            Objects.requireNonNull(day, "day");
            Objects.requireNonNull(reason, "reason");
        }
    }

    public DayPlan {
        toLoad = List.copyOf(toLoad);
        skipped = List.copyOf(skipped);
        unfinished = List.copyOf(unfinished);
    }

    /**
     * Every day of {@code [start, end]}: days already loaded are skipped unless {@code reload}, except trial loads
     * (made with a smaller {@code --query-limit}, or one, when this run has none), which are replaced.
     *
     * @param loaded       what is loaded: each day with the query limit it was loaded with (empty for a full load)
     * @param lastFinished the last day the source has finished
     */
    public static DayPlan backfill(LocalDate start, LocalDate end, boolean reload, Map<LocalDate, OptionalInt> loaded,
                                   OptionalInt queryLimit, LocalDate lastFinished) {
        List<Task> toLoad = new ArrayList<>();
        List<LocalDate> skipped = new ArrayList<>();
        List<LocalDate> unfinished = new ArrayList<>();
        for (LocalDate d = start; !d.isAfter(end); d = d.plusDays(1)) {
            OptionalInt was = loaded.get(d);
            Reason reason;
            if (was == null) {
                reason = Reason.NEW;
            } else if (reload) {
                reason = Reason.RELOAD;
            } else if (isTrial(was, queryLimit)) {
                reason = Reason.TRIAL;
            } else {
                skipped.add(d);
                continue;
            }
            if (d.isAfter(lastFinished)) {
                unfinished.add(d);
            } else {
                toLoad.add(new Task(d, reason));
            }
        }
        return new DayPlan(toLoad, skipped, unfinished, reload);
    }

    /** Every day after the last loaded one through {@code yesterday}; {@code loaded} must not be empty. */
    public static DayPlan catchUp(Map<LocalDate, OptionalInt> loaded, LocalDate yesterday, LocalDate lastFinished) {
        LocalDate last = loaded.keySet().stream().max(LocalDate::compareTo)
                .orElseThrow(() -> new IllegalArgumentException("nothing loaded"));
        List<Task> toLoad = new ArrayList<>();
        List<LocalDate> unfinished = new ArrayList<>();
        for (LocalDate d = last.plusDays(1); !d.isAfter(yesterday); d = d.plusDays(1)) {
            if (d.isAfter(lastFinished)) {
                unfinished.add(d);
            } else {
                toLoad.add(new Task(d, Reason.NEW));
            }
        }
        return new DayPlan(toLoad, List.of(), unfinished, false);
    }

    /** Exactly {@code day}, replacing what is loaded: exported afresh. */
    public static DayPlan exactly(LocalDate day, Map<LocalDate, OptionalInt> loaded, LocalDate lastFinished) {
        if (day.isAfter(lastFinished)) {
            return new DayPlan(List.of(), List.of(), List.of(day), true);
        }
        return new DayPlan(List.of(new Task(day, loaded.containsKey(day) ? Reason.RELOAD : Reason.NEW)), List.of(),
                List.of(), true);
    }

    /** The given days again, because the source changed them: exported afresh. */
    public static DayPlan sourceChanged(List<LocalDate> days) {
        return new DayPlan(days.stream().sorted().map(d -> new Task(d, Reason.SOURCE_CHANGED)).toList(), List.of(),
                List.of(), true);
    }

    /** True if a day loaded with {@code was} is a trial next to a run with {@code now}. */
    static boolean isTrial(OptionalInt was, OptionalInt now) {
        return was.isPresent() && (now.isEmpty() || now.getAsInt() > was.getAsInt());
    }

    /** The days to load, ascending. */
    public List<LocalDate> days() {
        return toLoad.stream().map(Task::day).toList();
    }

    /** The days that would be loaded if the source had finished every day: what a cost check must cover. */
    public List<LocalDate> candidates() {
        List<LocalDate> all = new ArrayList<>(days());
        all.addAll(unfinished);
        all.sort(null);
        return all;
    }

    /**
     * The days to load split into chunks of consecutive days, at most {@code max} each, ascending: what the source
     * exports in one piece of bulk work.
     */
    public List<List<LocalDate>> chunks(int max) {
        List<List<LocalDate>> chunks = new ArrayList<>();
        List<LocalDate> current = new ArrayList<>();
        for (LocalDate d : days()) {
            boolean consecutive = !current.isEmpty() && current.get(current.size() - 1).plusDays(1).equals(d);
            if (!current.isEmpty() && (!consecutive || current.size() >= max)) {
                chunks.add(List.copyOf(current));
                current = new ArrayList<>();
            }
            current.add(d);
        }
        if (!current.isEmpty()) {
            chunks.add(List.copyOf(current));
        }
        return chunks;
    }

    /**
     * The last {@code n} days that will be loaded once this plan is done (what {@code daily --verify-days n}
     * verifies), ascending, each with its query limit: the plan's days get {@code queryLimit}, the others keep theirs.
     */
    public Map<LocalDate, OptionalInt> lastLoaded(Map<LocalDate, OptionalInt> loaded, OptionalInt queryLimit, int n) {
        java.util.TreeMap<LocalDate, OptionalInt> all = new java.util.TreeMap<>(loaded);
        days().forEach(d -> all.put(d, queryLimit));
        while (all.size() > Math.max(0, n)) {
            all.pollFirstEntry();
        }
        return all;
    }

    /** How many days replace trial loads. */
    public long trialReplacements() {
        return toLoad.stream().filter(t -> t.reason() == Reason.TRIAL).count();
    }
}
