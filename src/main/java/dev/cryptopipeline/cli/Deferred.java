package dev.cryptopipeline.cli;

import dev.cryptopipeline.lake.ForwardingLake;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.Manifest;
import dev.cryptopipeline.source.Source;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.Supplier;

/**
 * A source and a lake built on first use, so a command that needs neither ({@code status}) never asks for cloud
 * credentials, and a bad lake or source setting is reported only by the commands that use it.
 */
final class Deferred {
    private Deferred() {
    }

    private static <T> Supplier<T> memoize(Supplier<T> supplier) {
        return new Supplier<>() {
            private T value;

            @Override
            public synchronized T get() {
                if (value == null) {
                    value = supplier.get();
                }
                return value;
            }
        };
    }

    static Source source(String name, Supplier<Source> build) {
        Supplier<Source> s = memoize(build);
        return new Source() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public List<String> prepare() {
                return s.get().prepare();
            }

            @Override
            public LocalDate lastFinishedDay(Instant now) {
                return s.get().lastFinishedDay(now);
            }

            @Override
            public List<String> plan(List<LocalDate> days, OptionalInt queryLimit) {
                return s.get().plan(days, queryLimit);
            }

            @Override
            public void checkCost(List<LocalDate> days, OptionalInt queryLimit) {
                s.get().checkCost(days, queryLimit);
            }

            @Override
            public List<Manifest> export(List<LocalDate> days, String runId, OptionalInt queryLimit, Lake lake) {
                return s.get().export(days, runId, queryLimit, lake);
            }

            @Override
            public void export(List<LocalDate> days, ExportRequest request, Lake lake,
                               java.util.function.Consumer<Manifest> exported) {
                s.get().export(days, request, lake, exported);
            }

            @Override
            public java.util.Map<LocalDate, dev.cryptopipeline.lake.Fingerprint.Day> fingerprints(
                    List<LocalDate> days, OptionalInt queryLimit) {
                return s.get().fingerprints(days, queryLimit);
            }

            @Override
            public void checkFingerprintCost(List<LocalDate> days, OptionalInt queryLimit) {
                s.get().checkFingerprintCost(days, queryLimit);
            }

            @Override
            public List<String> planFingerprints(List<LocalDate> days, OptionalInt queryLimit) {
                return s.get().planFingerprints(days, queryLimit);
            }
        };
    }

    static Lake lake(String location, Supplier<Lake> build) {
        Supplier<Lake> l = memoize(build);
        return new ForwardingLake() {
            @Override
            protected Lake delegate() {
                return l.get();
            }

            @Override
            public String location() {
                return location;
            }
        };
    }
}
