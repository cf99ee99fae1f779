package dev.cryptopipeline.cli;

import dev.cryptopipeline.pipeline.Progress;
import dev.cryptopipeline.pipeline.RunReport;
import java.io.PrintStream;
import java.time.LocalDate;
import java.util.Locale;

/**
 * A live progress line on a terminal (stderr), redrawn in place: days loaded of the total, rows, rows per second and
 * the estimated time left. Cleared when the run ends, so the summary stands alone. Thread safe.
 */
final class TerminalProgress implements Progress {
    private final PrintStream err;
    private long started;
    private int total;
    private int done;
    private int exported;
    private long rows;
    private String runId = "";
    private Thread ticker;
    private boolean shown;

    TerminalProgress(PrintStream err) {
        this.err = err;
    }

    @Override
    public synchronized void planned(String runId, int days) {
        this.runId = runId;
        this.total = days;
        this.started = System.nanoTime();
        if (days == 0) {
            return;
        }
        ticker = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(1000);
                    draw();
                }
            } catch (InterruptedException e) {
                // finished
            }
        }, "progress");
        ticker.setDaemon(true);
        ticker.start();
        draw();
    }

    @Override
    public synchronized void exported(LocalDate day, long rows) {
        exported++;
        draw();
    }

    @Override
    public synchronized void loaded(RunReport.DayLoad load, int done, int total, long rows) {
        this.done = done;
        this.rows = rows;
        draw();
    }

    @Override
    public synchronized void finished() {
        if (ticker != null) {
            ticker.interrupt();
        }
        if (shown) {
            err.print("\r\033[K");
            err.flush();
        }
    }

    private synchronized void draw() {
        if (total == 0) {
            return;
        }
        double seconds = Math.max(0.001, (System.nanoTime() - started) / 1e9);
        String eta = done == 0 ? "--:--" : clock((long) (seconds / done * (total - done)));
        err.print("\r\033[K" + String.format(Locale.ROOT, "%d/%d days loaded (%d exported), %,d rows, %,.0f rows/s,"
                + " %s elapsed, ETA %s  [run %s]", done, total, exported, rows, rows / seconds, clock((long) seconds),
                eta, runId));
        err.flush();
        shown = true;
    }

    private static String clock(long seconds) {
        return seconds >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60,
                seconds % 60) : String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
    }
}
