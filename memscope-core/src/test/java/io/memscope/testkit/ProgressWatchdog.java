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
 * A stall watchdog for long concurrent tests (RELIABILITY B2): a daemon thread samples a
 * progress counter once a second, and when it has not moved for {@code stallAfter} it takes a
 * dump of every thread in the JVM — virtual threads included, through
 * {@link HotSpotDiagnosticMXBean#dumpThreads} (the {@code jcmd Thread.dump_to_file} dump) — and
 * trips. The test polls {@link #tripped()} and fails with {@link #dump()}.
 *
 * <p>Why not only the hung-task detector: that one sees tasks blocked in memscope's sleeping locks;
 * a deadlock through a page lock, a writeback wait or a throttle shows up here as "nothing moves".
 */
public final class ProgressWatchdog implements AutoCloseable {
    private final LongSupplier progress;
    private final long stallNanos;
    private final Thread thread;
    private volatile String dump;
    private volatile boolean closed;

    private ProgressWatchdog(LongSupplier progress, Duration stallAfter) {
        this.progress = progress;
        this.stallNanos = stallAfter.toNanos();
        this.thread = Thread.ofPlatform().daemon().name("progress-watchdog").unstarted(this::watch);
    }

    /** Starts watching {@code progress}; trips when it stays unchanged for {@code stallAfter}. */
    public static ProgressWatchdog start(LongSupplier progress, Duration stallAfter) {
        ProgressWatchdog w = new ProgressWatchdog(progress, stallAfter);
        w.thread.start();
        return w;
    }

    private void watch() {
        long last = progress.getAsLong();
        long since = System.nanoTime();
        while (!closed && dump == null) {
            try {
                TimeUnit.SECONDS.sleep(1);
            } catch (InterruptedException e) {
                return;
            }
            long now = progress.getAsLong();
            if (now != last) {
                last = now;
                since = System.nanoTime();
            } else if (System.nanoTime() - since > stallNanos && !closed) {
                dump = "no progress for " + Duration.ofNanos(System.nanoTime() - since).toSeconds()
                        + " s (counter stuck at " + now + "); all threads:\n" + allThreads();
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
