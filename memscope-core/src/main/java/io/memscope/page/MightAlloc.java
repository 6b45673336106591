package io.memscope.page;

import io.memscope.debug.Ratelimit;
import io.memscope.gfp.Gfp;
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
 * <p>This is the one place the lead adds the {@code fs_reclaim} lockdep annotation
 * ({@code fs_reclaim_acquire/release(gfp)}) at merge.
 */
final class MightAlloc {
    private final PageAllocator a;
    private final Ratelimit sleepRatelimit = new Ratelimit("might_sleep", 1_000_000_000L, 1, System::nanoTime);

    MightAlloc(PageAllocator a) {
        this.a = a;
    }

    /** Runs the checks for an allocation; false when the context is refused (already reported). */
    boolean check(int gfp, Task task) {
        int pc = task.preemptCount();
        if (pc == 0 && !task.irqsDisabled() && task.rawLockDepth() == 0) {
            return true; // fast path: plain process context
        }
        if (task.inNmi()) {
            a.log.warn(AllocReports.nmiRefusal(gfp, task));
            return false;
        }
        if (a.cfg.preemptRt() && (task.rawLockDepth() > 0 || task.inHardirq())) {
            a.log.warn(AllocReports.invalidWaitContext(task, "rmqueue"));
            return false;
        }
        if ((gfp & Gfp.DIRECT_RECLAIM) != 0 && (task.inAtomic() || task.irqsDisabled()) && sleepRatelimit.allow()) {
            a.log.warn(AllocReports.sleepingInAtomic(task));
        }
        return true;
    }

    /** PREEMPT_RT rule for frees; false when refused (reported). */
    boolean checkFree(Task task) {
        if (task.rawLockDepth() > 0 || task.inHardirq() || task.inNmi()) {
            a.log.warn(AllocReports.invalidWaitContext(task, "free_frozen_pages"));
            return false;
        }
        return true;
    }
}
