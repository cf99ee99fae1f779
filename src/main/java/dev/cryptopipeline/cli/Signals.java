package dev.cryptopipeline.cli;

import dev.cryptopipeline.ExitCode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGINT (Ctrl-C), SIGTERM (a service manager stopping us) and SIGHUP (the terminal or ssh session closed) stop a run
 * cleanly instead of killing the JVM: the days in flight roll back, the run is recorded as interrupted, and the
 * command exits 130, 143 or 129. A second signal exits at once. A SIGHUP ignored when the JVM started ({@code nohup})
 * stays ignored. Only installed in a real process ({@link Main#main}); tests that call {@link Main#run} keep the
 * JVM's own.
 */
final class Signals implements AutoCloseable {
    private static final Map<String, ExitCode> EXIT_CODES = Map.of(
            "HUP", ExitCode.HUNG_UP, "INT", ExitCode.INTERRUPTED, "TERM", ExitCode.TERMINATED);
    private static volatile boolean enabled;

    /** The handlers replaced, by signal name, to put back on close. */
    private final Map<String, SignalHandler> previous;

    private Signals(Map<String, SignalHandler> previous) {
        this.previous = previous;
    }

    /** Lets {@link #stopOnSignal} take over signals (called by {@code main}). */
    static void enable() {
        enabled = true;
    }

    /**
     * Until closed, the first SIGINT, SIGTERM or SIGHUP calls {@code stop} with the signal's exit code; a second one
     * exits at once with that code.
     */
    static Signals stopOnSignal(Consumer<ExitCode> stop) {
        Map<String, SignalHandler> previous = new LinkedHashMap<>();
        if (!enabled) {
            return new Signals(previous);
        }
        boolean[] seen = {false};
        SignalHandler handler = sig -> {
            ExitCode code = EXIT_CODES.get(sig.getName());
            if (seen[0]) {
                // The user insists: leave now. What is in flight rolls back with the connections.
                new Thread(() -> System.exit(code.value()), "exit").start();
                return;
            }
            seen[0] = true;
            LoggerFactory.getLogger(Signals.class).debug("SIG{} received: stopping the run", sig.getName());
            stop.accept(code);
        };
        for (String name : new String[] {"INT", "TERM", "HUP"}) {
            SignalHandler before = Signal.handle(new Signal(name), handler);
            if (name.equals("HUP") && before == SignalHandler.SIG_IGN) {
                Signal.handle(new Signal(name), SignalHandler.SIG_IGN); // nohup: the user asked to survive a hang-up
            } else {
                previous.put(name, before);
            }
        }
        return new Signals(previous);
    }

    @Override
    public void close() {
        previous.forEach((name, handler) -> Signal.handle(new Signal(name), handler));
    }
}
