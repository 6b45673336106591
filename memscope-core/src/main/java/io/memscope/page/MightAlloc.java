package io.memscope.page;

import io.memscope.debug.Ratelimit;
import io.memscope.gfp.Gfp;
import io.memscope.locking.FsReclaim;
import io.memscope.sched.Task;

/**
 * The allocator's checks of the calling context: {@code might_alloc()} of
 * {@code include/linux/sched/mm.h} ({@code might_sleep_if(gfpflags_allow_blocking(gfp))}) plus the
 * contexts from which the allocator cannot be called at all.
 *
 * <ul>
 *   <li><b>Blocking allocation from atomic context</b> (preemption disabled, in an interrupt, irqs
 *       disabled): reported as {@code "BUG: sleeping function called from invalid context"} (KERNEL.md
 *       §5.4, ratelimited to one per second like {@code __might_resched}) through
 *       {@code KernelLog.warn}, so {@code panicOnWarn} throws; without it the allocation proceeds, as
 *       in the kernel.</li>
 *   <li><b>NMI</b>: no allocation is supported from NMI (gfp_types.h). memscope refuses it: the
 *       allocation returns NULL after a {@code WARNING} report (panicOnWarn throws).</li>
 *   <li><b>PREEMPT_RT</b> (option {@code preemptRt}): the allocator's locks sleep, so allocating or
 *       freeing under a raw spinlock or in hard interrupt context is invalid even for GFP_ATOMIC
 *       (seeds/004, Documentation/core-api/real-time/differences.rst). Refused with lockdep's
 *       {@code "[ BUG: Invalid wait context ]"} report; the allocation returns NULL, a refused free
 *       leaves the block with its caller.</li>
 * </ul>
 *
 * <p><b>fs_reclaim.</b> With a lockdep attached ({@link PageAllocator#setFsReclaim}), every
 * allocation first runs {@code fs_reclaim_acquire(gfp); fs_reclaim_release(gfp)} — the lockdep half
 * of {@code might_alloc()} — so lockdep records "held locks → fs_reclaim" for each allocation that
 * could enter filesystem reclaim. The sleeping-in-atomic half is this class's own check, so
 * {@link FsReclaim#mightAlloc} (which would report it a second time) is not used.
 */
final class MightAlloc {
    private final PageAllocator a;
    /** {@code __might_resched()}'s {@code prev_jiffy + HZ}: one report per second. */
    static final long MIGHT_SLEEP_INTERVAL_NANOS = 1_000_000_000L;
    /**
     * The might_sleep rate limit. Volatile only so that {@link #useClock} (called before any
     * allocation) is seen by every allocating thread.
     */
    private volatile Ratelimit sleepRatelimit =
            new Ratelimit("might_sleep", MIGHT_SLEEP_INTERVAL_NANOS, 1, System::nanoTime);
    /**
     * The machine's fs_reclaim annotation, or null. Set once while the machine is assembled, before
     * any allocation; volatile so a late setter is still seen by allocating threads.
     */
    volatile FsReclaim fsReclaim;

    MightAlloc(PageAllocator a) {
        this.a = a;
    }

    /**
     * Replaces the clock of the might_sleep rate limit (and resets it), so a test can step through
     * the one-second window without waiting. Call before the machine allocates.
     */
    void useClock(java.util.function.LongSupplier clock) {
        sleepRatelimit = new Ratelimit("might_sleep", MIGHT_SLEEP_INTERVAL_NANOS, 1, clock);
    }

    /** Runs the checks for an allocation; false when the context is refused (already reported). */
    boolean check(int gfp, Task task) {
        FsReclaim fr = fsReclaim;
        if (fr != null) {
            fr.acquire(gfp); // might_alloc(): record held locks -> fs_reclaim (no-op unless __GFP_FS reclaim)
            fr.release(gfp);
        }
        int pc = task.preemptCount();
        if (pc == 0 && !task.irqsDisabled() && task.rawLockDepth() == 0) {
            return true; // fast path: plain process context
        }
        if (task.inNmi()) {
            a.log.warn(AllocReports.nmiRefusal(gfp, task));
            return false;
        }
        if (a.cfg.preemptRt() && (task.rawLockDepth() > 0 || task.inHardirq())) {
            a.log.warn(AllocReports.invalidWaitContext(task, a.currentSlot(), "rmqueue"));
            return false;
        }
        if ((gfp & Gfp.DIRECT_RECLAIM) != 0 && (task.inAtomic() || task.irqsDisabled()) && sleepRatelimit.allow()) {
            a.log.warn(AllocReports.sleepingInAtomic(task, a.currentSlot()));
        }
        return true;
    }

    /** PREEMPT_RT rule for frees; false when refused (reported). */
    boolean checkFree(Task task) {
        if (task.rawLockDepth() > 0 || task.inHardirq() || task.inNmi()) {
            a.log.warn(AllocReports.invalidWaitContext(task, a.currentSlot(), "free_frozen_pages"));
            return false;
        }
        return true;
    }
}
