package io.memscope.cli.scenario;

import io.memscope.MemoryManager;
import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.locking.Irq;
import io.memscope.locking.Lockdep;
import io.memscope.locking.RawSpinLock;
import io.memscope.page.PageHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * seeds/004: {@code GFP_ATOMIC}/{@code GFP_NOWAIT} cannot sleep, yet they are still not allowed
 * from NMI, nor — on PREEMPT_RT, where the allocator's own locks sleep — under a raw spinlock.
 * "Callers of the allocator should avoid calling the allocator from these contexts even in
 * non-RT systems."
 *
 * <p>Unsafe: an allocation with {@code GFP_ATOMIC} under a {@link RawSpinLock} on a PREEMPT_RT
 * machine, and one from a simulated NMI. memscope refuses both with the kernel's reports
 * ({@code [ BUG: Invalid wait context ]}; the NMI refusal). Safe: the memory is allocated before
 * the raw spinlock is taken and before the NMI handler runs (preallocation, as RT code does),
 * and freed after — no report, every allocation succeeds.
 */
final class AtomicContexts implements Scenario {
    @Override
    public String name() {
        return "atomic-contexts";
    }

    @Override
    public String story() {
        return "GFP_ATOMIC under a raw spinlock on PREEMPT_RT and from NMI is refused; preallocate outside (seeds/004)";
    }

    @Override
    public Result run(Variant variant) {
        List<String> out = new ArrayList<>();
        try (MemoryManager mm = MemoryManager.builder().memoryBytes(16L << 20).preemptRt(true)
                .panicOnWarn(false).build()) {
            KernelLog log = mm.log();
            Lockdep lockdep = Lockdep.disabled();
            RawSpinLock irqWorkLock = new RawSpinLock(lockdep, "irq_work_lock");
            long[] got = new long[2];
            if (variant == Variant.UNSAFE) {
                irqWorkLock.lock();
                try {
                    got[0] = mm.allocPages(Gfp.ATOMIC, 0);
                } finally {
                    irqWorkLock.unlock();
                }
                Irq.nmi(() -> got[1] = mm.allocPages(Gfp.ATOMIC, 0));
            } else {
                // Preallocate outside the raw spinlock and outside NMI, hand the memory in.
                long pre = mm.allocPages(Gfp.KERNEL, 0);
                long preNmi = mm.allocPages(Gfp.KERNEL, 0);
                irqWorkLock.lock();
                try {
                    got[0] = pre;
                } finally {
                    irqWorkLock.unlock();
                }
                Irq.nmi(() -> got[1] = preNmi);
            }
            for (long h : got) {
                if (h != PageHandle.NULL) {
                    mm.freePages(h, 0);
                }
            }
            List<String> reports = log.lines();
            boolean refusedRaw = got[0] == PageHandle.NULL;
            boolean refusedNmi = got[1] == PageHandle.NULL;
            boolean invalidWait = reports.stream().anyMatch(l -> l.contains("[ BUG: Invalid wait context ]"));
            boolean nmiReport = reports.stream().anyMatch(l -> l.contains("page allocation from NMI context refused"));
            if (variant == Variant.UNSAFE) {
                out.addAll(reports);
                out.add("");
                out.add("raw spinlock allocation: " + (refusedRaw ? "refused" : "ALLOWED")
                        + "; NMI allocation: " + (refusedNmi ? "refused" : "ALLOWED"));
                return new Result(refusedRaw && refusedNmi && invalidWait && nmiReport, out);
            }
            out.addAll(reports);
            out.add("clean: memory allocated before the raw spinlock and outside NMI; "
                    + (reports.isEmpty() ? "no reports" : reports.size() + " report lines"));
            return new Result(!refusedRaw && !refusedNmi && reports.isEmpty() && mm.validate() == 0, out);
        }
    }
}
