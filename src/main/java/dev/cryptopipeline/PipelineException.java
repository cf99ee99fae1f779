package dev.cryptopipeline;

/**
 * The one exception family of crypto-pipeline. Each member carries the exit code the process ends with; its message is
 * a complete sentence for the operator that names the fix, and never contains a secret.
 */
public abstract sealed class PipelineException extends RuntimeException
        permits PipelineException.BadInput, PipelineException.Failed, PipelineException.DataCheck,
                PipelineException.TryLater, PipelineException.Interrupted {

    private PipelineException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The exit code the process should end with. */
    public abstract ExitCode exitCode();

    /** Bad usage or input (exit 2): the caller must change something before running again. */
    public static final class BadInput extends PipelineException {
        public BadInput(String message) {
            super(message, null);
        }

        public BadInput(String message, Throwable cause) {
            super(message, cause);
        }

        @Override
        public ExitCode exitCode() {
            return ExitCode.USAGE;
        }
    }

    /** The environment failed us (exit 1): database, lake or cloud service unusable; nothing half-loaded. */
    public static final class Failed extends PipelineException {
        public Failed(String message) {
            super(message, null);
        }

        public Failed(String message, Throwable cause) {
            super(message, cause);
        }

        @Override
        public ExitCode exitCode() {
            return ExitCode.FAILED;
        }
    }

    /** A data check failed (exit 3): the day's load was rolled back and its old data kept. */
    public static final class DataCheck extends PipelineException {
        public DataCheck(String message) {
            super(message, null);
        }

        public DataCheck(String message, Throwable cause) {
            super(message, cause);
        }

        @Override
        public ExitCode exitCode() {
            return ExitCode.DATA_CHECK;
        }
    }

    /** Try again later (exit 75): another run holds the lock, or an outage outlasted the retries. */
    public static final class TryLater extends PipelineException {
        public TryLater(String message) {
            super(message, null);
        }

        public TryLater(String message, Throwable cause) {
            super(message, cause);
        }

        @Override
        public ExitCode exitCode() {
            return ExitCode.TRY_LATER;
        }
    }

    /**
     * The run was stopped by a signal (SIGINT or SIGTERM) or an interrupt: the day in flight was rolled back, the
     * days already loaded stay. The CLI exits 130 (SIGINT) or 143 (SIGTERM).
     */
    public static final class Interrupted extends PipelineException {
        private final ExitCode exitCode;

        public Interrupted(String message) {
            this(message, ExitCode.INTERRUPTED);
        }

        /**
         * @param exitCode the signal's: {@code HUNG_UP}, {@code INTERRUPTED} (also a thread interrupt) or
         *                 {@code TERMINATED}
         */
        public Interrupted(String message, ExitCode exitCode) {
            super(message, null);
            if (!exitCode.stoppedBySignal()) {
                throw new IllegalArgumentException("not a signal's exit code: " + exitCode);
            }
            this.exitCode = exitCode;
        }

        @Override
        public ExitCode exitCode() {
            return exitCode;
        }
    }
}
