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
        assertThat(first.get(0).lines().get(1)).isEqualTo("CPU: 0 PID: " + Task.current().pid() + " Comm: " + comm);
        assertThat(first.get(0).lines().get(2)).isEqualTo("Call Trace:");
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
        assertThat(mm.log().lines()).startsWith(
                "BUG: sleeping function called from invalid context at PageReportsTest.java:" + line,
                "in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: " + t.pid() + ", name: " + t.comm(),
                "preempt_count: 2, expected: 0",
                "RCU nest depth: 0, expected: 0");
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

    /** The lines of each log entry. */
    private record KernelEntryView(List<String> lines) {}

    private static List<KernelEntryView> entries(MemoryManager mm) {
        return mm.log().entries().stream().map(e -> new KernelEntryView(e.text().lines().toList())).toList();
    }
}
