package dev.cryptopipeline.cli;

import java.util.function.Consumer;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGINT (Ctrl-C) and SIGTERM (a service manager stopping us) stop a run cleanly instead of killing the JVM: the days
 * in flight roll back, the run is recorded as interrupted, and the command exits 130 or 143. A second signal exits at
 * once. Only installed in a real process ({@link Main#main}); tests that call {@link Main#run} keep the JVM's own.
 */
final class Signals implements AutoCloseable {
    private static volatile boolean enabled;

    private final SignalHandler previousInt;
    private final SignalHandler previousTerm;

    private Signals(SignalHandler previousInt, SignalHandler previousTerm) {
        this.previousInt = previousInt;
        this.previousTerm = previousTerm;
    }

    /** Lets {@link #stopOnSignal} take over signals (called by {@code main}). */
    static void enable() {
        enabled = true;
    }

    /**
     * Until closed, the first SIGINT or SIGTERM calls {@code stop} (with true for SIGTERM); a second one exits at
     * once with 130 or 143.
     */
    static Signals stopOnSignal(Consumer<Boolean> stop) {
        if (!enabled) {
            return new Signals(null, null);
        }
        boolean[] seen = {false};
        SignalHandler handler = sig -> {
            boolean term = sig.getName().equals("TERM");
            if (seen[0]) {
                // The user insists: leave now. What is in flight rolls back with the connections.
                new Thread(() -> System.exit(term ? 143 : 130), "exit").start();
                return;
            }
            seen[0] = true;
            LoggerFactory.getLogger(Signals.class).debug("SIG{} received: stopping the run", sig.getName());
            stop.accept(term);
        };
        return new Signals(Signal.handle(new Signal("INT"), handler), Signal.handle(new Signal("TERM"), handler));
    }

    @Override
    public void close() {
        if (previousInt != null) {
            Signal.handle(new Signal("INT"), previousInt);
        }
        if (previousTerm != null) {
            Signal.handle(new Signal("TERM"), previousTerm);
        }
    }
}
