package io.memscope.cli.run;

import java.io.PrintStream;
import java.util.function.Supplier;

/**
 * A one-line progress bar on stderr, redrawn in place ({@code \r}) when stderr is a terminal and
 * printed once per few seconds otherwise, so logs of CI runs stay readable.
 */
final class Progress {
    private final PrintStream err;
    private final boolean tty;
    private final long totalMillis;
    private long lastPrint;

    Progress(PrintStream err, long totalMillis) {
        this.err = err;
        this.tty = System.console() != null;
        this.totalMillis = totalMillis;
    }

    /** Shows progress at {@code elapsedMillis} with a status text. */
    void update(long elapsedMillis, Supplier<String> status) {
        long now = System.currentTimeMillis();
        if (!tty && now - lastPrint < 5_000 && elapsedMillis < totalMillis) {
            return;
        }
        lastPrint = now;
        int width = 30;
        int done = (int) Math.min(width, width * elapsedMillis / Math.max(1, totalMillis));
        String bar = "[" + "#".repeat(done) + " ".repeat(width - done) + "] "
                + Math.min(100, 100 * elapsedMillis / Math.max(1, totalMillis)) + "% " + status.get();
        if (tty) {
            err.print("\r" + bar);
        } else {
            err.println(bar);
        }
        err.flush();
    }

    /** Ends the bar's line. */
    void finish() {
        if (tty) {
            err.println();
        }
    }
}
