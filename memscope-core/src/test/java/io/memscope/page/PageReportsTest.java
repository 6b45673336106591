package io.memscope.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.sched.Task;
import io.memscope.testkit.Machines;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Page-allocator reports as a contract (RELIABILITY F, E4), KFENCE style: the title and key lines
 * verbatim, and for each a negative test that no report appears.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PageReportsTest {
    @RegisterExtension
    final Machines machines = new Machines();

    private static List<Long> exhaust(MemoryManager mm, int gfp) {
        List<Long> held = new ArrayList<>();
        for (long h; (h = mm.allocPages(gfp | Gfp.NOWARN, 0)) != PageHandle.NULL; ) {
            held.add(h);
        }
        return held;
    }

    @Test
    void warnAllocFailureLineThenItsSuppressedLineAfterTheInterval() {
        MemoryManager mm = machines.create(b -> b.zonePages(new long[][] {{0, 0, 1024, 0}}).cpuSlots(1)
                .panicOnWarn(false));
        AtomicLong now = new AtomicLong();
        mm.pages().reports().useWarnAllocClock(now::get);
        List<Long> held = exhaust(mm, Gfp.ATOMIC);
        mm.log().drain();
        String comm = Task.current().comm();
        String line = comm + ": page allocation failure: order:0, mode:0x820(GFP_ATOMIC), nodemask=(null),"
                + "cpuset=/,mems_allowed=0";
        assertThat(mm.allocPages(Gfp.ATOMIC, 0)).isEqualTo(PageHandle.NULL);
        for (int i = 0; i < 3; i++) { // burst 1: the next three inside the 10 s are suppressed
            now.addAndGet(1_000_000_000L);
            assertThat(mm.allocPages(Gfp.ATOMIC, 0)).isEqualTo(PageHandle.NULL);
        }
        List<KernelEntryView> first = entries(mm);
        assertThat(first).hasSize(1);
        assertThat(first.get(0).lines().get(0)).isEqualTo(line);
        // dump_stack_print_info(): "CPU: %d UID: %u PID: %d Comm: %.20s" (lib/dump_stack.c, v6.11+)
        assertThat(first.get(0).lines().subList(1, 4)).containsExactly(
                "CPU: 0 UID: 0 PID: " + Task.current().pid() + " Comm: " + comm20(comm), "Call Trace:", " <TASK>");
        assertThat(first.get(0).lines().get(4)).as("the trace starts at warn_alloc's caller")
                .startsWith(" io.memscope.page.SlowPath.");
        now.addAndGet(AllocReports.WARN_ALLOC_INTERVAL_NANOS);
        mm.log().drain();
        assertThat(mm.allocPages(Gfp.ATOMIC, 0)).isEqualTo(PageHandle.NULL);
        List<KernelEntryView> second = entries(mm);
        assertThat(second).hasSize(1);
        assertThat(second.get(0).lines().subList(0, 2)).containsExactly("warn_alloc: 3 callbacks suppressed", line);
        assertThat(second.get(0).lines()).contains("Mem-Info:");
        held.forEach(mm::freePages);
    }

    @Test
    void nowarnFailureProducesNoReportAtAll() {
        MemoryManager mm = machines.create(b -> b.zonePages(new long[][] {{0, 0, 1024, 0}}).cpuSlots(1));
        List<Long> held = exhaust(mm, Gfp.ATOMIC);
        mm.log().drain();
        for (int order = 0; order <= 3; order++) {
            assertThat(mm.allocPages(Gfp.ATOMIC | Gfp.NOWARN, order)).isEqualTo(PageHandle.NULL);
            assertThat(mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, order)).isEqualTo(PageHandle.NULL);
        }
        assertThat(mm.log().entries()).isEmpty(); // panicOnWarn is on: any report would also have thrown
        held.forEach(mm::freePages);
    }

    @Test
    void sleepingInAtomicReportVerbatimT68() {
        MemoryManager mm = machines.create(b -> b.panicOnWarn(false));
        Task t = Task.current();
        mm.log().drain();
        t.preemptCountAdd(2);
        long h;
        int line;
        try {
            line = new Throwable().getStackTrace()[0].getLineNumber() + 1;
            h = mm.allocPages(Gfp.KERNEL, 0);
        } finally {
            t.preemptCountSub(2);
        }
        assertThat(mm.log().entries()).hasSize(1);
        assertThat(mm.log().lines()).startsWith(
                "BUG: sleeping function called from invalid context at PageReportsTest.java:" + line,
                "in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: " + t.pid() + ", name: " + t.comm(),
                "preempt_count: 2, expected: 0",
                "RCU nest depth: 0, expected: 0",
                "CPU: 0 UID: 0 PID: " + t.pid() + " Comm: " + comm20(t.comm()),
                "Call Trace:",
                " <TASK>");
        mm.freePages(h); // the kernel reports and carries on
    }

    @Test
    void atomicMasksInAtomicContextAreNotReported() {
        MemoryManager mm = machines.create();
        Task t = Task.current();
        mm.log().drain();
        t.preemptCountAdd(1);
        try {
            for (int gfp : new int[] {Gfp.ATOMIC, Gfp.NOWAIT, Gfp.ATOMIC | Gfp.ZERO}) {
                mm.freePages(mm.allocPages(gfp, 0));
            }
        } finally {
            t.preemptCountSub(1);
        }
        assertThat(mm.log().entries()).isEmpty();
    }

    @Test
    void poisonSingleBitVersusCorruptionWithHexDumpE4() {
        MemoryManager mm = machines.create(b -> b.quarantinePages(0).cpuSlots(1).panicOnWarn(false));
        long h = mm.allocPages(Gfp.KERNEL, 0);
        long off = mm.pages().address(h);
        mm.freePages(h);
        // two bits flipped in one byte: not a single-bit error
        mm.pages().memory().set(ValueLayout.JAVA_BYTE, off + 3, (byte) (0xaa ^ 0x03));
        mm.pages().memory().set(ValueLayout.JAVA_BYTE, off + 35, (byte) 0x00);
        mm.log().drain();
        long again = mm.allocPages(Gfp.KERNEL, 0);
        assertThat(PageHandle.pfn(again)).isEqualTo(PageHandle.pfn(h));
        List<String> lines = mm.log().lines();
        assertThat(lines).startsWith("pagealloc: memory corruption",
                String.format("%08x: aa aa aa a9 aa aa aa aa aa aa aa aa aa aa aa aa", off),
                String.format("%08x: aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa", off + 16),
                String.format("%08x: aa aa aa 00 aa aa aa aa aa aa aa aa aa aa aa aa", off + 32),
                "page: pfn:0x" + Integer.toHexString(PageHandle.pfn(h)),
                "pagealloc: corrupted page details");
        mm.freePages(again);
        mm.log().drain();
        long clean = mm.allocPages(Gfp.KERNEL, 0); // poisoned on free, untouched: no report
        assertThat(mm.log().entries()).isEmpty();
        mm.freePages(clean);
    }

    @Test
    void sleepingInAtomicIsRatelimitedToOnePerSecondLikeMightResched() {
        // kernel/sched/core.c __might_resched(): if (time_before(jiffies, prev_jiffy + HZ) && prev_jiffy) return;
        MemoryManager mm = machines.create(b -> b.cpuSlots(1).panicOnWarn(false));
        AtomicLong now = new AtomicLong(5_000_000_000L);
        mm.pages().mightAlloc.useClock(now::get);
        Task t = Task.current();
        mm.log().drain();
        List<Long> held = new ArrayList<>();
        t.preemptCountAdd(1);
        try {
            held.add(mm.allocPages(Gfp.KERNEL, 0));
            assertThat(mm.log().drain()).hasSize(1);
            now.addAndGet(MightAlloc.MIGHT_SLEEP_INTERVAL_NANOS - 1); // still inside prev_jiffy + HZ
            held.add(mm.allocPages(Gfp.KERNEL, 0));
            held.add(mm.allocPages(Gfp.KERNEL | Gfp.ZERO, 0));
            assertThat(mm.log().entries()).as("suppressed within the second").isEmpty();
            now.addAndGet(1); // jiffies == prev_jiffy + HZ: no longer time_before
            held.add(mm.allocPages(Gfp.KERNEL, 0));
            List<String> lines = mm.log().lines();
            assertThat(lines.get(0)).startsWith("BUG: sleeping function called from invalid context at PageReportsTest.java:");
            assertThat(lines).doesNotContain("might_sleep: 2 callbacks suppressed"); // __might_resched counts nothing
            assertThat(mm.log().drain()).hasSize(1);
            now.addAndGet(MightAlloc.MIGHT_SLEEP_INTERVAL_NANOS / 2);
            held.add(mm.allocPages(Gfp.KERNEL, 0));
            assertThat(mm.log().entries()).isEmpty();
        } finally {
            t.preemptCountSub(1);
        }
        held.forEach(mm::freePages);
    }

    @Test
    void nmiRefusalTitleAndKeyLineVerbatim() {
        MemoryManager mm = machines.create(b -> b.cpuSlots(1).panicOnWarn(false));
        Task t = Task.current();
        mm.log().drain();
        t.preemptCountAdd(Task.NMI_OFFSET);
        try {
            assertThat(mm.allocPages(Gfp.ATOMIC, 0)).isEqualTo(PageHandle.NULL);
        } finally {
            t.preemptCountSub(Task.NMI_OFFSET);
        }
        List<KernelEntryView> e = entries(mm);
        assertThat(e).hasSize(1);
        assertThat(e.get(0).lines()).containsExactly(
                "WARNING: CPU: 0 PID: " + t.pid() + " at mm/page_alloc.c __alloc_frozen_pages_noprof",
                "page allocation from NMI context refused: mode:0x820(GFP_ATOMIC), comm: " + t.comm());
    }

    @Test
    void noNmiReportOutsideNmiEvenInHardirqOrWithIrqsOff() {
        MemoryManager mm = machines.create(b -> b.cpuSlots(1)); // panicOnWarn: any report throws
        Task t = Task.current();
        mm.log().drain();
        mm.freePages(mm.allocPages(Gfp.ATOMIC, 0));
        t.preemptCountAdd(Task.HARDIRQ_OFFSET);
        t.localIrqDisable();
        try {
            mm.freePages(mm.allocPages(Gfp.ATOMIC, 0));
        } finally {
            t.localIrqEnable();
            t.preemptCountSub(Task.HARDIRQ_OFFSET);
        }
        assertThat(mm.log().entries()).isEmpty();
    }

    @Test
    void invalidWaitContextUnderRawSpinlockVerbatim() {
        MemoryManager mm = machines.create(b -> b.preemptRt(true).cpuSlots(1).panicOnWarn(false));
        Task t = Task.current();
        mm.log().drain();
        t.rawLockEnter();
        t.preemptCountAdd(1);
        try {
            assertThat(mm.allocPages(Gfp.ATOMIC, 0)).isEqualTo(PageHandle.NULL);
        } finally {
            t.preemptCountSub(1);
            t.rawLockExit();
        }
        List<KernelEntryView> e = entries(mm);
        assertThat(e).hasSize(1);
        String who = t.comm() + "/" + t.pid();
        // kernel/locking/lockdep.c print_lock_invalid_wait_context(); task_wait_context() is
        // LD_WAIT_MAX (5) in process context; lockdep_print_held_locks() "%d lock%s held by %s/%d:"
        assertThat(e.get(0).lines().subList(0, 13)).containsExactly(
                "=============================",
                "[ BUG: Invalid wait context ]",
                "memscope lockdep Not tainted",
                "-----------------------------",
                who + " is trying to lock:",
                "(&zone->lock){....}-{3:3}, at: rmqueue",
                "other info that might help us debug this:",
                "context-{5:5}",
                "1 lock held by " + who + ":",
                "stack backtrace:",
                "CPU: 0 UID: 0 PID: " + t.pid() + " Comm: " + comm20(t.comm()),
                "Call Trace:",
                " <TASK>");
        assertThat(e.get(0).lines().get(13)).startsWith(" io.memscope.page.MightAlloc.check(");
    }

    @Test
    void invalidWaitContextInHardirqVerbatim() {
        MemoryManager mm = machines.create(b -> b.preemptRt(true).cpuSlots(1).panicOnWarn(false));
        Task t = Task.current();
        long h = mm.allocPages(Gfp.ATOMIC, 0);
        mm.log().drain();
        t.preemptCountAdd(Task.HARDIRQ_OFFSET);
        try {
            assertThat(mm.allocPages(Gfp.ATOMIC, 0)).isEqualTo(PageHandle.NULL);
            mm.freePages(h); // refused as well: the block stays with its caller
        } finally {
            t.preemptCountSub(Task.HARDIRQ_OFFSET);
        }
        List<KernelEntryView> e = entries(mm);
        assertThat(e).hasSize(2);
        String who = t.comm() + "/" + t.pid();
        for (int i = 0; i < 2; i++) {
            assertThat(e.get(i).lines().get(1)).isEqualTo("[ BUG: Invalid wait context ]");
            assertThat(e.get(i).lines().subList(4, 9)).containsExactly(
                    who + " is trying to lock:",
                    "(&zone->lock){....}-{3:3}, at: " + (i == 0 ? "rmqueue" : "free_frozen_pages"),
                    "other info that might help us debug this:",
                    "context-{2:2}", // task_wait_context(): LD_WAIT_SPIN in a (non-threaded) hard irq
                    "no locks held by " + who + ".");
        }
        mm.freePages(h);
    }

    @Test
    void preemptRtAllowsAtomicInProcessAndSoftirqContextAndPlainKernelsAllowRawLocks() {
        MemoryManager rt = machines.create(b -> b.preemptRt(true).cpuSlots(1)); // panicOnWarn: any report throws
        Task t = Task.current();
        rt.log().drain();
        t.preemptCountAdd(1);
        try {
            rt.freePages(rt.allocPages(Gfp.ATOMIC, 0));
        } finally {
            t.preemptCountSub(1);
        }
        t.preemptCountAdd(Task.SOFTIRQ_OFFSET);
        try {
            rt.freePages(rt.allocPages(Gfp.ATOMIC, 0)); // softirqs are threaded on RT
        } finally {
            t.preemptCountSub(Task.SOFTIRQ_OFFSET);
        }
        MemoryManager plain = machines.create(b -> b.cpuSlots(1));
        plain.log().drain();
        t.rawLockEnter();
        t.preemptCountAdd(1);
        try {
            plain.freePages(plain.allocPages(Gfp.ATOMIC, 0));
        } finally {
            t.preemptCountSub(1);
            t.rawLockExit();
        }
        assertThat(rt.log().entries()).isEmpty();
        assertThat(plain.log().entries()).isEmpty();
    }

    @Test
    void nofailWithoutDirectReclaimWarnVerbatimThenWarnAlloc() {
        MemoryManager mm = machines.create(b -> b.zonePages(new long[][] {{0, 0, 1024, 0}}).cpuSlots(1)
                .panicOnWarn(false));
        List<Long> held = exhaust(mm, Gfp.ATOMIC);
        mm.log().drain();
        Task t = Task.current();
        assertThat(mm.allocPages(Gfp.ATOMIC | Gfp.NOFAIL, 0)).isEqualTo(PageHandle.NULL);
        List<KernelEntryView> e = entries(mm);
        assertThat(e).hasSize(2);
        // WARN_ON_ONCE(!can_direct_reclaim) in __alloc_pages_slowpath (v6.12+), then "goto fail": warn_alloc
        assertThat(e.get(0).lines()).containsExactly(
                "WARNING: CPU: 0 PID: " + t.pid() + " at mm/page_alloc.c __alloc_pages_slowpath",
                "__GFP_NOFAIL without __GFP_DIRECT_RECLAIM: order:0, mode:0x8820(GFP_ATOMIC|__GFP_NOFAIL)");
        assertThat(e.get(1).lines().get(0)).isEqualTo(t.comm() + ": page allocation failure: order:0, "
                + "mode:0x8820(GFP_ATOMIC|__GFP_NOFAIL), nodemask=(null),cpuset=/,mems_allowed=0");
        mm.log().drain();
        assertThat(mm.allocPages(Gfp.ATOMIC | Gfp.NOFAIL | Gfp.NOWARN, 0)).isEqualTo(PageHandle.NULL);
        assertThat(mm.log().entries()).as("WARN_ON_ONCE: once per boot; NOWARN silences warn_alloc").isEmpty();
        held.forEach(mm::freePages);
    }

    @Test
    void nofailWithDirectReclaimOrWithFreeMemoryIsNotReported() {
        MemoryManager mm = machines.create(b -> b.cpuSlots(1)); // panicOnWarn: any WARN throws
        mm.log().drain();
        mm.freePages(mm.allocPages(Gfp.KERNEL | Gfp.NOFAIL, 0));
        mm.freePages(mm.allocPages(Gfp.NOFS | Gfp.NOFAIL, 1));
        mm.freePages(mm.allocPages(Gfp.ATOMIC | Gfp.NOFAIL, 0)); // fast path: the slow-path WARN is never reached
        assertThat(mm.log().entries()).isEmpty();
    }

    @Test
    void dmaFailureIsSilentWithoutAManagedDmaZoneButUsesTheBurst() {
        // warn_alloc(): (gfp & __GFP_NOWARN) || !__ratelimit(&nopage_rs) || ((gfp & __GFP_DMA) && !has_managed_dma())
        MemoryManager mm = machines.create(b -> b.zonePages(new long[][] {{0, 0, 1024, 0}}).cpuSlots(1));
        AtomicLong now = new AtomicLong();
        mm.pages().reports().useWarnAllocClock(now::get);
        assertThat(mm.pages().reports().hasManagedDma()).isFalse();
        mm.log().drain();
        assertThat(mm.allocPages(Gfp.ATOMIC | Gfp.DMA, 0)).isEqualTo(PageHandle.NULL);
        assertThat(mm.log().entries()).isEmpty();
        List<Long> held = exhaust(mm, Gfp.ATOMIC);
        mm.log().drain();
        assertThat(mm.allocPages(Gfp.ATOMIC, 0)).isEqualTo(PageHandle.NULL);
        assertThat(mm.log().entries()).as("the silent DMA failure took the burst").isEmpty();
        now.addAndGet(AllocReports.WARN_ALLOC_INTERVAL_NANOS);
        assertThat(mm.allocPages(Gfp.ATOMIC, 0)).isEqualTo(PageHandle.NULL);
        assertThat(mm.log().lines().subList(0, 2)).containsExactly("warn_alloc: 1 callbacks suppressed",
                Task.current().comm() + ": page allocation failure: order:0, mode:0x820(GFP_ATOMIC), nodemask=(null),"
                        + "cpuset=/,mems_allowed=0");
        held.forEach(mm::freePages);
    }

    @Test
    void dmaFailureIsReportedWhenADmaZoneIsManaged() {
        MemoryManager mm = machines.create(b -> b.zonePages(new long[][] {{1024, 0, 1024, 0}}).cpuSlots(1)
                .panicOnWarn(false));
        assertThat(mm.pages().reports().hasManagedDma()).isTrue();
        List<Long> held = exhaust(mm, Gfp.ATOMIC | Gfp.DMA);
        mm.log().drain();
        assertThat(mm.allocPages(Gfp.ATOMIC | Gfp.DMA, 0)).isEqualTo(PageHandle.NULL);
        List<String> lines = mm.log().lines();
        assertThat(lines.get(0)).isEqualTo(Task.current().comm() + ": page allocation failure: order:0, "
                + "mode:0x821(GFP_ATOMIC|GFP_DMA), nodemask=(null),cpuset=/,mems_allowed=0");
        // warn_alloc_show_mem(): __show_mem(filter, nodemask, gfp_zone(gfp)) shows ZONE_DMA only
        assertThat(lines).anyMatch(l -> l.startsWith("Node 0 DMA free:")).anyMatch(l -> l.startsWith("Node 0 DMA: "))
                .noneMatch(l -> l.startsWith("Node 0 Normal"));
        held.forEach(mm::freePages);
    }

    @Test
    void showMemListsOnlyZonesUpToTheRequestsHighestZone() {
        MemoryManager mm = machines.create(b -> b.zonePages(new long[][] {{0, 1024, 1024, 0}}).cpuSlots(1)
                .panicOnWarn(false));
        AtomicLong now = new AtomicLong();
        mm.pages().reports().useWarnAllocClock(now::get);
        List<Long> held = exhaust(mm, Gfp.ATOMIC | Gfp.DMA32);
        mm.log().drain();
        assertThat(mm.allocPages(Gfp.ATOMIC | Gfp.DMA32, 0)).isEqualTo(PageHandle.NULL);
        List<String> dma32 = mm.log().lines();
        assertThat(dma32).anyMatch(l -> l.startsWith("Node 0 DMA32 free:")).anyMatch(l -> l.startsWith("Node 0 DMA32: "))
                .noneMatch(l -> l.startsWith("Node 0 Normal"));
        // the global free: counts every zone; free_pcp only the zones shown
        long freeAll = mm.pages().zones()[0].freePages() + mm.pages().zones()[1].freePages();
        assertThat(dma32).anyMatch(l -> l.startsWith(" free:" + freeAll + " free_pcp:"));
        held.addAll(exhaust(mm, Gfp.ATOMIC));
        mm.log().drain();
        now.addAndGet(AllocReports.WARN_ALLOC_INTERVAL_NANOS);
        assertThat(mm.allocPages(Gfp.ATOMIC, 0)).isEqualTo(PageHandle.NULL);
        List<String> normal = mm.log().lines();
        assertThat(normal).anyMatch(l -> l.startsWith("Node 0 DMA32 free:")).anyMatch(l -> l.startsWith("Node 0 Normal free:"))
                .anyMatch(l -> l.startsWith("Node 0 DMA32: ")).anyMatch(l -> l.startsWith("Node 0 Normal: "));
        held.forEach(mm::freePages);
    }

    private static String comm20(String comm) {
        return comm.length() > 20 ? comm.substring(0, 20) : comm;
    }

    /** The lines of each log entry. */
    private record KernelEntryView(List<String> lines) {}

    private static List<KernelEntryView> entries(MemoryManager mm) {
        return mm.log().entries().stream().map(e -> new KernelEntryView(e.text().lines().toList())).toList();
    }
}
