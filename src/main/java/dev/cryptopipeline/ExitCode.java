package dev.cryptopipeline;

/** The process exit codes of every command, as documented in {@code --help} and the README. */
public enum ExitCode {
    /** The command did what was asked (including "nothing to do"). */
    OK(0),
    /** The run failed; nothing was half-loaded and the old data is intact. */
    FAILED(1),
    /** Bad usage or input: fix the command line, the configuration or the input and run again. */
    USAGE(2),
    /** A data check failed (row count, manifest, constraint); the old data of that day was kept. */
    DATA_CHECK(3),
    /** Another run holds the lock, or a transient outage outlasted the retries: try again later. */
    TRY_LATER(75),
    /** Stopped by SIGHUP (its terminal closed): the day in flight was rolled back; run again to finish. */
    HUNG_UP(129),
    /** Stopped by SIGINT (Ctrl-C): the day in flight was rolled back; run again to finish. */
    INTERRUPTED(130),
    /** Stopped by SIGTERM (a service manager stopping it): the day in flight was rolled back; run again to finish. */
    TERMINATED(143);

    private final int value;

    ExitCode(int value) {
        this.value = value;
    }

    /** True for the codes of a run stopped by a signal, which rolled back what was in flight. */
    public boolean stoppedBySignal() {
        return this == HUNG_UP || this == INTERRUPTED || this == TERMINATED;
    }

    /** The numeric process exit code. */
    public int value() {
        return value;
    }
}
