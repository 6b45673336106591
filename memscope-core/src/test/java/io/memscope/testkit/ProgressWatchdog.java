package io.memscope.testkit;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A stall watchdog for long concurrent tests (RELIABILITY B2): a daemon thread samples one or more
 * named progress counters once a second, and when any of them has not moved for {@code stallAfter}
 * it takes a dump of every thread in the JVM — virtual threads included, through
 * {@link HotSpotDiagnosticMXBean#dumpThreads} (the {@code jcmd Thread.dump_to_file} dump) — and
 * trips. The test polls {@link #tripped()} and fails with {@link #dump()}.
 *
 * <p>Why not only the hung-task detector: that one sees tasks blocked in memscope's sleeping locks;
 * a deadlock through a page lock, a writeback wait or a throttle shows up here as "nothing moves".
 * Why several counters: one class of worker can stall while another runs on from its cache (B2's
 * writers kept writing into cached pages while every reader waited for a zone lock), and a sum of
 * the two would never stop moving.
 */
public final class ProgressWatchdog implements AutoCloseable {
    private final String[] names;
    private final LongSupplier[] counters;
    private final long stallNanos;
    private final Thread thread;
    private volatile String dump;
    private volatile boolean closed;

    private ProgressWatchdog(Duration stallAfter, String[] names, LongSupplier[] counters) {
        this.names = names;
        this.counters = counters;
        this.stallNanos = stallAfter.toNanos();
        this.thread = Thread.ofPlatform().daemon().name("progress-watchdog").unstarted(this::watch);
    }

    /** Starts watching {@code progress}; trips when it stays unchanged for {@code stallAfter}. */
    public static ProgressWatchdog start(LongSupplier progress, Duration stallAfter) {
        return start(stallAfter, new String[] {"counter"}, progress);
    }

    /**
     * Starts watching each counter {@code counters[i]}, called {@code names[i]} in the report; trips
     * when any one of them stays unchanged for {@code stallAfter}.
     */
    public static ProgressWatchdog start(Duration stallAfter, String[] names, LongSupplier... counters) {
        if (names.length != counters.length || counters.length == 0) {
            throw new IllegalArgumentException("one name per counter, at least one: " + names.length
                    + " names, " + counters.length + " counters");
        }
        ProgressWatchdog w = new ProgressWatchdog(stallAfter, names.clone(), counters.clone());
        w.thread.start();
        return w;
    }

    private void watch() {
        int n = counters.length;
        long[] last = new long[n];
        long[] since = new long[n];
        for (int i = 0; i < n; i++) {
            last[i] = counters[i].getAsLong();
            since[i] = System.nanoTime();
        }
        while (!closed && dump == null) {
            try {
                TimeUnit.SECONDS.sleep(1);
            } catch (InterruptedException e) {
                return;
            }
            for (int i = 0; i < n && dump == null; i++) {
                long now = counters[i].getAsLong();
                if (now != last[i]) {
                    last[i] = now;
                    since[i] = System.nanoTime();
                } else if (System.nanoTime() - since[i] > stallNanos && !closed) {
                    dump = "no progress for " + Duration.ofNanos(System.nanoTime() - since[i]).toSeconds()
                            + " s (" + names[i] + " stuck at " + now + "); all threads:\n" + allThreads();
                }
            }
        }
    }

    /** True once the watchdog saw a stall. */
    public boolean tripped() {
        return dump != null;
    }

    /** The stall report with the thread dump, or null if it never tripped. */
    public String dump() {
        return dump;
    }

    /** A dump of every platform and virtual thread, as {@code jcmd <pid> Thread.dump_to_file} writes it. */
    public static String allThreads() {
        try {
            Path dir = Files.createTempDirectory("memscope-threads");
            Path file = dir.resolve("threads.txt");
            ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .dumpThreads(file.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.TEXT_PLAIN);
            String text = Files.readString(file);
            Files.delete(file);
            Files.delete(dir);
            return text;
        } catch (IOException | RuntimeException e) {
            return "(thread dump failed: " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        thread.interrupt();
        thread.join();
    }
}
