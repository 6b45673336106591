package io.memscope.sched;

import java.util.concurrent.TimeUnit;

/**
 * The scheduler tick memscope uses to express the kernel's timeouts ({@code HZ},
 * {@code jiffies_to_usecs}). memscope runs at {@code HZ = 250}, a common distribution setting,
 * so one jiffy is 4 ms: {@code HZ/10} (writeback throttle, kswapd nap) is 100 ms, {@code HZ/50}
 * (isolation throttle) 20 ms, {@code 5*HZ} (mempool wait) 5 s.
 */
public final class Jiffies {
    private Jiffies() {}

    /** Ticks per second. */
    public static final int HZ = 250;

    /** Nanoseconds in {@code j} jiffies. */
    public static long toNanos(long j) {
        return j * (TimeUnit.SECONDS.toNanos(1) / HZ);
    }

    /** {@code jiffies_to_usecs}. */
    public static long toUsecs(long j) {
        return j * (1_000_000L / HZ);
    }

    /** Whole jiffies in {@code nanos}, rounded up (as {@code nsecs_to_jiffies} callers expect for sleeps). */
    public static long fromNanos(long nanos) {
        long per = TimeUnit.SECONDS.toNanos(1) / HZ;
        return (nanos + per - 1) / per;
    }
}
