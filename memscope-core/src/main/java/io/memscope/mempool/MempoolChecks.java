package io.memscope.mempool;

import io.memscope.debug.FaultAttr;
import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.sched.Task;

/**
 * The context checks and injection points that {@link LongMempool} runs before allocating:
 * {@code might_alloc()} ({@code include/linux/sched/mm.h}) and the {@code fail_mempool_alloc}
 * checks of {@code mm/mempool.c}. Kept apart so that at merge {@link #mightAlloc} can be pointed
 * at the locking layer's {@code mightAlloc} (which also adds the {@code fs_reclaim} annotation).
 */
final class MempoolChecks {
    private final KernelLog log;

    MempoolChecks(KernelLog log) {
        this.log = log;
    }

    /**
     * {@code might_alloc(gfp)}: an allocation that may sleep must not come from atomic context.
     * Reported as the kernel's {@code might_sleep} splat through {@link KernelLog#warn} (which
     * throws under panic_on_warn). The one place to point at the locking layer's
     * {@code mightAlloc} (which adds the {@code fs_reclaim} lockdep annotation) at merge.
     */
    void mightAlloc(int gfp) {
        if (!Gfp.allowBlocking(gfp)) {
            return;
        }
        Task t = Task.current();
        if (!t.inAtomic() && !t.irqsDisabled()) {
            return;
        }
        log.warn("BUG: sleeping function called from invalid context at mm/mempool.c\n"
                + "in_atomic(): " + (t.inAtomic() ? 1 : 0) + ", irqs_disabled(): " + (t.irqsDisabled() ? 1 : 0)
                + ", non_block: 0, pid: " + t.pid() + ", name: " + t.comm() + "\n"
                + "preempt_count: " + Integer.toHexString(t.preemptCount()) + ", expected: 0");
    }

    /**
     * The {@code fail_mempool_alloc} check: when the attribute says so, pretend the backing
     * allocator failed so the reserve gets used. Silent ({@code FAULT_NOWARN}) apart from one
     * {@code "forcing mempool usage for <caller>"} line, as the kernel prints.
     */
    boolean injectFailure(FaultAttr attr) {
        if (attr == null || !attr.shouldFailEx(1, FaultAttr.FAULT_NOWARN)) {
            return false;
        }
        log.printk(KernelLog.Level.INFO, "forcing mempool usage for " + caller());
        return true;
    }

    private static String caller() {
        return StackWalker.getInstance().walk(s -> s
                .filter(f -> !f.getClassName().equals(LongMempool.class.getName())
                        && !f.getClassName().equals(MempoolChecks.class.getName()))
                .findFirst()
                .map(f -> f.getClassName() + "." + f.getMethodName())
                .orElse("?"));
    }
}
