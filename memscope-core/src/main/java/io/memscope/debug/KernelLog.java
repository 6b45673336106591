package io.memscope.debug;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * One machine's kernel log: the {@code printk} ring buffer, the {@code WARN} machinery and
 * {@code panic_on_warn} ({@code kernel/printk/printk.c}, {@code kernel/panic.c}).
 *
 * <p>Every report memscope produces (allocation failures, lockdep splats, "sleeping function
 * called from invalid context", fault-injection notices, hung tasks, OOM kills) is written here
 * as whole lines in the kernel's own format. Lines are kept in a bounded ring (oldest dropped,
 * like {@code dmesg}), forwarded to listeners, and — when {@link #forwardToSystemLogger} is on —
 * to {@link System.Logger} under the name {@code memscope}, so applications can route them to
 * their logging framework.
 *
 * <p><b>Warnings have a switch.</b> {@link #warn} prints a report and then, when
 * {@code panicOnWarn} is set, throws {@link KernelPanicException} carrying the report, as
 * {@code panic_on_warn=1} turns any WARN into a panic. Tests run with it on so that any warning
 * fails the test that caused it.
 *
 * <p>Thread-safe: reports from many threads are appended whole (a report's lines are never
 * interleaved with another's).
 */
public final class KernelLog {
    /** printk levels ({@code KERN_EMERG} .. {@code KERN_DEBUG}). */
    public enum Level { EMERG, ALERT, CRIT, ERR, WARNING, NOTICE, INFO, DEBUG }

    /** One record: a level and the lines of one report. */
    public record Entry(long seq, Level level, List<String> lines) {
        public Entry {
            lines = List.copyOf(lines);
        }

        /** The report as one string, lines joined with '\n'. */
        public String text() {
            return String.join("\n", lines);
        }
    }

    private final int capacity;
    private final ArrayDeque<Entry> ring = new ArrayDeque<>();
    private final List<Consumer<Entry>> listeners = new CopyOnWriteArrayList<>();
    private final Set<String> warnedOnce = ConcurrentHashMap.newKeySet();
    private volatile boolean panicOnWarn;
    private volatile boolean forwardToSystemLogger;
    private long seq;
    private long warnCount;

    /** A log keeping at most {@code capacity} reports. */
    public KernelLog(int capacity, boolean panicOnWarn) {
        if (capacity < 1) {
            throw new IllegalArgumentException("log capacity must be >= 1, was " + capacity);
        }
        this.capacity = capacity;
        this.panicOnWarn = panicOnWarn;
    }

    /** A log of 4096 reports without panic_on_warn. */
    public KernelLog() {
        this(4096, false);
    }

    /** {@code panic_on_warn}. */
    public boolean panicOnWarn() {
        return panicOnWarn;
    }

    /** Sets {@code panic_on_warn}. */
    public void setPanicOnWarn(boolean on) {
        this.panicOnWarn = on;
    }

    /** Forwards every report to {@code System.getLogger("memscope")} as well. */
    public void setForwardToSystemLogger(boolean on) {
        this.forwardToSystemLogger = on;
    }

    /** Adds a listener that sees every report as it is written. */
    public void addListener(Consumer<Entry> listener) {
        listeners.add(Objects.requireNonNull(listener));
    }

    /** Removes a listener. */
    public void removeListener(Consumer<Entry> listener) {
        listeners.remove(listener);
    }

    /** {@code printk}: appends one report (one or more lines, split on '\n'). */
    public void printk(Level level, String text) {
        append(level, List.of(text.split("\n", -1)));
    }

    /** Appends one report made of these lines. */
    public void printk(Level level, List<String> lines) {
        append(level, lines);
    }

    /**
     * {@code WARN()}: prints the report at KERN_WARNING and, under {@code panic_on_warn}, throws.
     * The report's first line is its title ("WARNING: ...", "BUG: ...").
     *
     * @throws KernelPanicException when panic_on_warn is set
     */
    public void warn(String report) {
        Entry e = append(Level.WARNING, List.of(report.split("\n", -1)));
        synchronized (this) {
            warnCount++;
        }
        if (panicOnWarn) {
            throw new KernelPanicException(e.text());
        }
    }

    /**
     * {@code WARN_ON_ONCE()}: like {@link #warn} the first time {@code key} is seen on this
     * machine, silent afterwards. Returns true when the report was printed.
     */
    public boolean warnOnce(String key, String report) {
        if (!warnedOnce.add(key)) {
            return false;
        }
        warn(report);
        return true;
    }

    /** Number of warnings printed so far. */
    public synchronized long warnCount() {
        return warnCount;
    }

    /** A copy of the reports currently in the ring, oldest first. */
    public synchronized List<Entry> entries() {
        return new ArrayList<>(ring);
    }

    /** Every line currently in the ring, oldest first. */
    public synchronized List<String> lines() {
        List<String> out = new ArrayList<>();
        for (Entry e : ring) {
            out.addAll(e.lines());
        }
        return out;
    }

    /** The whole ring as text, like {@code dmesg}. */
    public String dmesg() {
        return String.join("\n", lines());
    }

    /** Removes and returns every report (like {@code dmesg -c}). */
    public synchronized List<Entry> drain() {
        List<Entry> out = new ArrayList<>(ring);
        ring.clear();
        return out;
    }

    private Entry append(Level level, List<String> lines) {
        Entry e;
        synchronized (this) {
            e = new Entry(++seq, level, lines);
            if (ring.size() == capacity) {
                ring.removeFirst();
            }
            ring.addLast(e);
        }
        for (Consumer<Entry> l : listeners) {
            l.accept(e);
        }
        if (forwardToSystemLogger) {
            System.getLogger("memscope").log(toSystemLevel(level), e.text());
        }
        return e;
    }

    private static System.Logger.Level toSystemLevel(Level level) {
        return switch (level) {
            case EMERG, ALERT, CRIT, ERR -> System.Logger.Level.ERROR;
            case WARNING -> System.Logger.Level.WARNING;
            case NOTICE, INFO -> System.Logger.Level.INFO;
            case DEBUG -> System.Logger.Level.DEBUG;
        };
    }
}
