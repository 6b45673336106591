package io.memscope.reclaim;

import io.memscope.sched.CondResched;
import io.memscope.sched.Jiffies;
import io.memscope.sched.Task;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One node's reclaim throttle: {@code reclaim_throttle()}, {@code __acct_reclaim_writeback()}
 * and the {@code reclaim_wait[]} wait queues of {@code mm/vmscan.c} and {@code pglist_data}.
 *
 * <p>When many threads reclaim at once and find the inactive list full of pages under
 * writeback, scanning harder only burns CPU: the pages become freeable when the flushers finish
 * writing them. So a reclaimer that meets such pages sleeps on the node's WRITEBACK queue for up
 * to {@code HZ/10}, and writeback completions wake the sleepers once enough pages were written
 * since the first one went to sleep ({@code SWAP_CLUSTER_MAX} per throttled task). This is what
 * keeps a storm of allocating threads from livelocking while the disk catches up.
 *
 * <p>Timeouts per reason, as in the kernel ("pulled out of thin air"): WRITEBACK {@code HZ/10},
 * ISOLATED {@code HZ/50}, NOPROGRESS and CONGESTED one jiffy — and those two are skipped
 * entirely when the node is hopeless or has much writeback pending, because then throttling
 * happens anyway as the pages cycle. Kernel threads other than kswapd are never throttled: they
 * may be the very threads (journalling workers) that reclaim waits for.
 */
public final class ReclaimThrottle {
    /** {@code enum vmscan_throttle_state}, kernel order. */
    public enum Reason {
        /** VMSCAN_THROTTLE_WRITEBACK: too many pages under writeback at the LRU tail. */
        WRITEBACK,
        /** VMSCAN_THROTTLE_ISOLATED: too many parallel isolators. */
        ISOLATED,
        /** VMSCAN_THROTTLE_NOPROGRESS: a full pass reclaimed nothing. */
        NOPROGRESS,
        /** VMSCAN_THROTTLE_CONGESTED: pages marked for immediate reclaim came round again. */
        CONGESTED;

        /** The trace name, e.g. {@code VMSCAN_THROTTLE_WRITEBACK}. */
        public String traceName() {
            return "VMSCAN_THROTTLE_" + name();
        }
    }

    /** {@code SWAP_CLUSTER_MAX}. */
    public static final int SWAP_CLUSTER_MAX = 32;

    private final int nid;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition[] waitQueues = new Condition[Reason.values().length];
    private final AtomicInteger nrWritebackThrottled = new AtomicInteger();
    /** NR_THROTTLED_WRITTEN: pages written back since boot (node stat). */
    private final AtomicLong throttledWritten = new AtomicLong();
    /** nr_reclaim_start: throttledWritten when the first WRITEBACK sleeper arrived. */
    private volatile long nrReclaimStart;
    private final AtomicLong throttleEvents = new AtomicLong();
    private volatile Consumer<String> trace;

    public ReclaimThrottle(int nid) {
        this.nid = nid;
        for (int i = 0; i < waitQueues.length; i++) {
            waitQueues[i] = lock.newCondition();
        }
    }

    /** Sends {@code mm_vmscan_throttled} trace lines to {@code sink} (null: off). */
    public void setTrace(Consumer<String> sink) {
        this.trace = sink;
    }

    /** The node stat {@code nr_throttled_written}. */
    public long nrThrottledWritten() {
        return throttledWritten.get();
    }

    /** How many times a task has slept here. */
    public long throttleEvents() {
        return throttleEvents.get();
    }

    /** Tasks currently sleeping on the WRITEBACK queue ({@code nr_writeback_throttled}). */
    public int nrWritebackThrottled() {
        return nrWritebackThrottled.get();
    }

    /**
     * {@code reclaim_throttle()}: sleeps the reclaiming task for the reason's timeout, or less
     * if woken. May sleep; never from atomic context.
     *
     * @param skipNoProgress {@code skip_throttle_noprogress()}: for NOPROGRESS and CONGESTED,
     *                       true when the node is hopeless or writeback is heavy (then no sleep)
     * @return as {@code schedule_timeout}: the nanoseconds of the timeout left when woken
     *         early, 0 when the whole timeout passed or the task was not throttled
     */
    public long throttle(Reason reason, BooleanSupplier skipNoProgress) {
        Task current = Task.current();
        if (!current.isKswapd() && (current.flags() & Task.PF_KTHREAD) != 0) {
            CondResched.condResched(); // kthreads may be what reclaim is waiting for: never throttled
            return 0;
        }
        long timeoutJiffies;
        switch (reason) {
            case WRITEBACK -> {
                timeoutJiffies = Jiffies.HZ / 10;
                if (nrWritebackThrottled.incrementAndGet() == 1) {
                    nrReclaimStart = throttledWritten.get();
                }
            }
            case CONGESTED, NOPROGRESS -> {
                if (skipNoProgress.getAsBoolean()) {
                    CondResched.condResched();
                    return 0;
                }
                timeoutJiffies = 1;
            }
            case ISOLATED -> timeoutJiffies = Jiffies.HZ / 50;
            default -> throw new AssertionError(reason);
        }
        long timeout = Jiffies.toNanos(timeoutJiffies);
        long start = System.nanoTime();
        long remaining = timeout;
        lock.lock();
        try {
            // TASK_UNINTERRUPTIBLE: an interrupt does not end the sleep; it is re-asserted after.
            boolean interrupted = false;
            while (true) {
                try {
                    remaining = waitQueues[reason.ordinal()].awaitNanos(remaining);
                    break; // woken (remaining > 0) or timed out (remaining <= 0)
                } catch (InterruptedException e) {
                    interrupted = true;
                    remaining = timeout - (System.nanoTime() - start);
                    if (remaining <= 0) {
                        break;
                    }
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        } finally {
            lock.unlock();
            if (reason == Reason.WRITEBACK) {
                nrWritebackThrottled.decrementAndGet();
            }
        }
        long slept = System.nanoTime() - start;
        remaining = Math.max(remaining, 0);
        throttleEvents.incrementAndGet();
        Consumer<String> t = trace;
        if (t != null) {
            t.accept(String.format("mm_vmscan_throttled: nid=%d usec_timeout=%d usect_delayed=%d reason=%s",
                    nid, Jiffies.toUsecs(timeoutJiffies), Math.min(slept, timeout) / 1000, reason.traceName()));
        }
        return remaining;
    }

    /** True while a task sleeps on the queue of {@code reason} (for tests and the watchdog). */
    boolean hasSleepers(Reason reason) {
        return sleepers(reason) > 0;
    }

    /** Tasks sleeping on the queue of {@code reason} (an estimate, exact when nothing moves). */
    int sleepers(Reason reason) {
        lock.lock();
        try {
            return lock.getWaitQueueLength(waitQueues[reason.ordinal()]);
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code acct_reclaim_writeback()}: called when writeback of {@code nrPages} pages of this
     * node completes. Counts them, and wakes the WRITEBACK sleepers once more than
     * {@code SWAP_CLUSTER_MAX} pages per sleeper were written since the first fell asleep.
     */
    public void acctReclaimWriteback(int nrPages) {
        long total = throttledWritten.addAndGet(nrPages);
        int throttled = nrWritebackThrottled.get();
        if (throttled == 0) {
            return;
        }
        // Like the kernel, an inexact read is fine: at worst the timeout ends the sleep.
        long written = total - nrReclaimStart;
        if (written > (long) SWAP_CLUSTER_MAX * throttled) {
            wakeAll(Reason.WRITEBACK);
        }
    }

    /** {@code wake_throttle_isolated()} and friends: wakes every sleeper of one reason. */
    public void wakeAll(Reason reason) {
        lock.lock();
        try {
            waitQueues[reason.ordinal()].signalAll();
        } finally {
            lock.unlock();
        }
    }
}
