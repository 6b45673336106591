package io.memscope.debug;

import java.util.function.LongSupplier;

/**
 * A rate limit on reports: {@code struct ratelimit_state} and {@code ___ratelimit()} of
 * {@code lib/ratelimit.c}.
 *
 * <p>Within each {@code interval}, the first {@code burst} calls are allowed and the rest are
 * counted as missed. When a call arrives after the interval has elapsed, a new interval starts;
 * if calls were missed in the old one, {@link #takeSuppressed()} returns their number once so the
 * caller can print the kernel's {@code "<name>: N callbacks suppressed"} line.
 *
 * <p>Examples: {@code warn_alloc} uses interval 10 s, burst 1 ({@code DEFAULT_RATELIMIT_INTERVAL}
 * 5 s and burst 10 before that); bad-page reports 60 per minute. The clock is injectable so tests
 * are exact. Thread-safe.
 */
public final class Ratelimit {
    private final String name;
    private final long intervalNanos;
    private final int burst;
    private final LongSupplier clock;
    private long begin;
    private boolean started;
    private int printed;
    private int missed;
    private int suppressedToReport;

    /**
     * @param name      the name printed in the suppressed line
     * @param intervalNanos the interval; 0 disables limiting (every call allowed)
     * @param burst     calls allowed per interval; 0 disables limiting
     * @param clock     a monotonic nanosecond clock (for example {@code System::nanoTime})
     */
    public Ratelimit(String name, long intervalNanos, int burst, LongSupplier clock) {
        if (intervalNanos < 0 || burst < 0) {
            throw new IllegalArgumentException("ratelimit interval and burst must be >= 0");
        }
        this.name = name;
        this.intervalNanos = intervalNanos;
        this.burst = burst;
        this.clock = clock;
    }

    /** {@code ___ratelimit()}: true when this call may print. */
    public synchronized boolean allow() {
        if (intervalNanos == 0 || burst == 0) {
            return true;
        }
        long now = clock.getAsLong();
        if (!started) {
            started = true;
            begin = now;
        }
        if (now - begin >= intervalNanos) {
            if (missed > 0) {
                suppressedToReport += missed;
            }
            begin = now;
            printed = 0;
            missed = 0;
        }
        if (printed < burst) {
            printed++;
            return true;
        }
        missed++;
        return false;
    }

    /**
     * The number of calls suppressed in finished intervals that has not been reported yet, and
     * resets it. A caller prints {@link #suppressedLine(int)} when it is positive.
     */
    public synchronized int takeSuppressed() {
        int n = suppressedToReport;
        suppressedToReport = 0;
        return n;
    }

    /** The kernel's line for suppressed calls: {@code "<name>: N callbacks suppressed"}. */
    public String suppressedLine(int n) {
        return name + ": " + n + " callbacks suppressed";
    }

    /** Calls missed so far in the current interval. */
    public synchronized int missedInInterval() {
        return missed;
    }
}
