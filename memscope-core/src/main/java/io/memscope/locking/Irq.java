package io.memscope.locking;

import io.memscope.locking.LockMisuseException.IrqStateException;
import io.memscope.sched.Task;

/**
 * Simulated interrupt contexts for the calling task, so tests and scenarios can run code "in a
 * hardirq", "in a softirq" or "in an NMI" ({@code __irq_enter()}/{@code __irq_exit()},
 * {@code __local_bh_disable_ip()} with {@code SOFTIRQ_OFFSET}, {@code nmi_enter()} in
 * {@code include/linux/hardirq.h}).
 *
 * <p>Each simulator adjusts the task's preemption count exactly as the kernel does (hardirq:
 * {@code HARDIRQ_OFFSET} with interrupts disabled; softirq: {@code SOFTIRQ_OFFSET}, interrupts
 * left on; NMI: {@code NMI_OFFSET + HARDIRQ_OFFSET}, interrupts disabled) and restores it even
 * when the body throws. Lockdep reads that state to classify lock usage; the allocator reads it
 * to refuse sleeping allocations.
 */
public final class Irq {
    private Irq() {}

    /** Runs {@code body} in simulated hardirq context. */
    public static void hardirq(Runnable body) {
        Task t = Task.current();
        t.localIrqDisable();
        t.preemptCountAdd(Task.HARDIRQ_OFFSET);
        try {
            body.run();
        } finally {
            exit(t, Task.HARDIRQ_OFFSET, Task.HARDIRQ_MASK, "hardirq");
            t.localIrqEnable();
        }
    }

    /** Runs {@code body} in simulated softirq (bottom-half) context. */
    public static void softirq(Runnable body) {
        Task t = Task.current();
        t.preemptCountAdd(Task.SOFTIRQ_OFFSET);
        try {
            body.run();
        } finally {
            exit(t, Task.SOFTIRQ_OFFSET, Task.SOFTIRQ_MASK, "softirq");
        }
    }

    /** Runs {@code body} in simulated NMI context. */
    public static void nmi(Runnable body) {
        Task t = Task.current();
        t.localIrqDisable();
        t.preemptCountAdd(Task.NMI_OFFSET + Task.HARDIRQ_OFFSET);
        try {
            body.run();
        } finally {
            exit(t, Task.NMI_OFFSET + Task.HARDIRQ_OFFSET, Task.NMI_MASK, "nmi");
            t.localIrqEnable();
        }
    }

    /** {@code local_bh_disable()}. */
    public static void localBhDisable() {
        Task.current().preemptCountAdd(Task.SOFTIRQ_DISABLE_OFFSET);
    }

    /** {@code local_bh_enable()}. */
    public static void localBhEnable() {
        Task t = Task.current();
        if ((t.preemptCount() & Task.SOFTIRQ_MASK) < Task.SOFTIRQ_DISABLE_OFFSET) {
            throw new IrqStateException("local_bh_enable on " + t + ": expected bottom halves disabled, found "
                    + "preempt_count " + Integer.toHexString(t.preemptCount()));
        }
        t.preemptCountSub(Task.SOFTIRQ_DISABLE_OFFSET);
    }

    private static void exit(Task t, int offset, int mask, String what) {
        if ((t.preemptCount() & mask) == 0) {
            throw new IrqStateException(what + " exit on " + t + ": expected to be in " + what
                    + ", found preempt_count " + Integer.toHexString(t.preemptCount()));
        }
        t.preemptCountSub(offset);
    }
}
