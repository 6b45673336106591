package io.memscope.stat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One machine's vmstat: {@code /proc/vmstat} ({@code mm/vmstat.c}).
 *
 * <p>Hot counters are not kept here: the page allocator keeps its {@code pgalloc}/{@code pgfree}
 * per per-CPU slot and per zone (the kernel's per-cpu vmstat diffs), so its fast path never writes a
 * shared cache line; it registers a {@link Source} that adds them up when read. Events of the slow
 * paths (allocstall, compaction, reclaim, OOM) are counted here with atomic adds.
 *
 * <p>Thread-safe. A read while others count is a sum of racy reads, like {@code /proc/vmstat}.
 */
public final class VmStat {
    /** A contributor of counters kept elsewhere (per-slot diffs, zone state). */
    @FunctionalInterface
    public interface Source {
        /** Adds this source's current values into {@code values} (indexed by {@link VmItem#ordinal()}). */
        void addTo(long[] values);
    }

    private final AtomicLongArray events = new AtomicLongArray(VmItem.count());
    private final List<Source> sources = new CopyOnWriteArrayList<>();

    /** Registers a source. */
    public void addSource(Source s) {
        sources.add(s);
    }

    /** {@code count_vm_events(item, delta)}. */
    public void count(VmItem item, long delta) {
        events.getAndAdd(item.ordinal(), delta);
    }

    /** One item's current value. */
    public long get(VmItem item) {
        return snapshot()[item.ordinal()];
    }

    /** All items, indexed by ordinal. */
    public long[] snapshot() {
        long[] v = new long[VmItem.count()];
        for (int i = 0; i < v.length; i++) {
            v[i] = events.get(i);
        }
        for (Source s : sources) {
            s.addTo(v);
        }
        return v;
    }

    /** The {@code /proc/vmstat} text: {@code name value} per line. */
    public String text() {
        long[] v = snapshot();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            sb.append(VmItem.of(i).kernelName()).append(' ').append(v[i]).append('\n');
        }
        return sb.toString();
    }
}
