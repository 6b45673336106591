package io.memscope.page;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memscope.MemoryManager;
import io.memscope.debug.KernelPanicException;
import io.memscope.gfp.Gfp;
import io.memscope.sched.Task;
import io.memscope.testkit.Machines;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** E3/E4 misuse detection with balanced books, atomic-context rules, and report texts. */
@org.junit.jupiter.api.Timeout(value = 20, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
class MisuseAndContextTest {
    @RegisterExtension
    final Machines machines = new Machines();

    @Test
    void doubleFreeIsNamedWithBothStacksAndBooksStayBalanced() {
        MemoryManager mm = machines.create();
        long h = mm.allocPages(Gfp.KERNEL, 0);
        mm.freePages(h);
        assertThatThrownBy(() -> mm.freePages(h)).isInstanceOf(DoubleFreeException.class)
                .hasMessageContaining("expected an allocated block, found it already freed")
                .hasMessageContaining("allocation stack: allocated by thread")
                .hasMessageContaining("last free stack: freed by thread");
        assertThat(mm.validate()).isZero();
    }

    @Test
    void doubleFreeIsCaughtWithoutDebugToo() {
        MemoryManager mm = machines.create(b -> b.debug(false));
        long h = mm.allocPages(Gfp.KERNEL, 2);
        mm.freePages(h);
        assertThatThrownBy(() -> mm.freePages(h)).isInstanceOf(DoubleFreeException.class);
        assertThat(mm.validate()).isZero();
    }

    @Test
    void wrongOrderTailForeignAndUnallocatedFrees() {
        MemoryManager mm = machines.create();
        long h = mm.allocPages(Gfp.KERNEL, 2);
        assertThatThrownBy(() -> mm.freePages(h, 1)).isInstanceOf(WrongOrderFreeException.class)
                .hasMessageContaining("expected order 2 (the allocation's), found order 1");
        long tail = PageHandle.of(PageHandle.pfn(h) + 1, 0, 1);
        assertThatThrownBy(() -> mm.freePages(tail, 0)).isInstanceOf(TailPageFreeException.class)
                .hasMessageContaining("found page 1 of the order-2 block");
        assertThatThrownBy(() -> mm.freePages(PageHandle.of(1 << 30, 0, 1), 0))
                .isInstanceOf(ForeignPageFreeException.class);
        int freePfn = PageHandle.pfn(h) ^ 4096; // some page in another (free) block
        assertThatThrownBy(() -> mm.freePages(PageHandle.of(freePfn, 0, 1), 0))
                .isInstanceOf(NotAllocatedFreeException.class);
        assertThat(mm.validate()).isZero();
        mm.freePages(h);
    }

    @Test
    void staleHandleIsCaughtWhileQuarantined() {
        MemoryManager mm = machines.create(b -> b.quarantinePages(64));
        for (int i = 0; i < 50; i++) {
            long h = mm.allocPages(Gfp.KERNEL, 0);
            mm.segment(h).set(ValueLayout.JAVA_INT, 0, i);
            mm.freePages(h);
            assertThatThrownBy(() -> mm.segment(h)).isInstanceOf(StaleHandleException.class)
                    .hasMessageContaining("found quarantined page");
        }
    }

    @Test
    void everyQuarantinedHandleIsStaleOneHundredPercentWithBothStacksE4() {
        int quarantine = 128;
        MemoryManager mm = machines.create(b -> b.quarantinePages(quarantine));
        java.util.List<Long> freed = new java.util.ArrayList<>();
        java.util.SplittableRandom r = new java.util.SplittableRandom(Machines.seed());
        long pagesFreed = 0;
        while (true) { // fill the quarantine exactly, with mixed orders
            int order = r.nextInt(3);
            if (pagesFreed + (1L << order) > quarantine) {
                break;
            }
            long h = mm.allocPages(Gfp.KERNEL, order);
            mm.freePages(h);
            freed.add(h);
            pagesFreed += 1L << order;
        }
        int detected = 0;
        for (long h : freed) {
            try {
                mm.segment(h);
            } catch (StaleHandleException e) {
                assertThat(e.getMessage()).contains("expected an allocated block of generation")
                        .contains("found quarantined page").contains("allocation stack: allocated by thread")
                        .contains("last free stack: freed by thread");
                detected++;
            }
            assertThatThrownBy(() -> mm.freePages(h)).isInstanceOf(DoubleFreeException.class);
        }
        assertThat(detected).isEqualTo(freed.size());
        assertThat(mm.validate()).isZero();
    }

    @Test
    void everyMisuseLeavesTheBooksBalancedAndTheBlockUsable() {
        MemoryManager mm = machines.create();
        long h = mm.allocPages(Gfp.KERNEL | Gfp.COMP, 3);
        long before = mm.pages().allocatedPages();
        java.util.List<Runnable> misuses = java.util.List.of(
                () -> mm.freePages(h, 2),
                () -> mm.freePages(h, 4),
                () -> mm.freePages(PageHandle.of(PageHandle.pfn(h) + 7, 0, PageHandle.generation(h)), 0),
                () -> mm.freePages(PageHandle.of(mm.pages().totalPages() + 5, 0, 1), 0),
                () -> mm.freePages(PageHandle.of(PageHandle.pfn(h), 3, PageHandle.generation(h) + 5), 3));
        for (Runnable m : misuses) {
            assertThatThrownBy(m::run).isInstanceOf(PageAllocException.class).hasMessageContaining("expected");
            assertThat(mm.validate()).isZero();
            assertThat(mm.pages().allocatedPages()).isEqualTo(before);
        }
        mm.segment(h).fill((byte) 1); // still the caller's
        mm.freePages(h);
    }

    @Test
    void poisonCheckReportsSingleBitErrorWithHexDump() {
        MemoryManager mm = machines.create(b -> b.quarantinePages(0).cpuSlots(1).panicOnWarn(false));
        long h = mm.allocPages(Gfp.KERNEL, 0);
        long off = mm.pages().address(h);
        mm.freePages(h);
        mm.pages().memory().set(ValueLayout.JAVA_BYTE, off + 17, (byte) (0xaa ^ 0x04)); // use after free
        long again = mm.allocPages(Gfp.KERNEL, 0); // LIFO pcp list: the same page
        assertThat(PageHandle.pfn(again)).isEqualTo(PageHandle.pfn(h));
        assertThat(mm.log().dmesg()).contains("pagealloc: single bit error")
                .contains(String.format("%08x: aa ae aa", off + 16));
        mm.freePages(again);
    }

    @Test
    void leakAtCloseNamesCountAndSite() {
        MemoryManager mm = MemoryManager.builder().memoryBytes(16L << 20).cpuSlots(1).debug(true).build();
        mm.allocPages(Gfp.KERNEL, 1);
        assertThatThrownBy(mm::close).isInstanceOf(PageLeakException.class)
                .hasMessageContaining("expected 0 allocated pages, found 2")
                .hasMessageContaining("MisuseAndContextTest.java");
    }

    @Test
    void blockingAllocationInAtomicContextIsReportedT68() {
        MemoryManager mm = machines.create();
        Task t = Task.current();
        t.preemptCountAdd(1);
        try {
            long ok = mm.allocPages(Gfp.ATOMIC, 0); // no report
            mm.freePages(ok);
            int line = new Throwable().getStackTrace()[0].getLineNumber() + 1;
            assertThatThrownBy(() -> mm.allocPages(Gfp.KERNEL, 0)).isInstanceOf(KernelPanicException.class)
                    .hasMessageStartingWith("Kernel panic - not syncing: panic_on_warn set ...\n")
                    .satisfies(e -> assertThat(e.getMessage().lines().skip(1).limit(4).toList()).containsExactly(
                            "BUG: sleeping function called from invalid context at MisuseAndContextTest.java:" + line,
                            "in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: " + t.pid() + ", name: " + t.comm(),
                            "preempt_count: 1, expected: 0",
                            "RCU nest depth: 0, expected: 0"));
        } finally {
            t.preemptCountSub(1);
        }
    }

    @Test
    void nmiAllocationIsRefused() {
        MemoryManager mm = machines.create(b -> b.panicOnWarn(false));
        Task t = Task.current();
        t.preemptCountAdd(Task.NMI_OFFSET);
        try {
            assertThat(mm.allocPages(Gfp.ATOMIC, 0)).isEqualTo(PageHandle.NULL);
        } finally {
            t.preemptCountSub(Task.NMI_OFFSET);
        }
        assertThat(mm.log().dmesg()).contains("page allocation from NMI context refused: mode:0x820(GFP_ATOMIC)");
    }

    @Test
    void preemptRtRefusesAtomicUnderRawSpinlockButNotOtherwise() {
        MemoryManager mm = machines.create(b -> b.preemptRt(true).panicOnWarn(false));
        long h = mm.allocPages(Gfp.ATOMIC, 0);
        Task t = Task.current();
        t.rawLockEnter();
        t.preemptCountAdd(1);
        try {
            assertThat(mm.allocPages(Gfp.ATOMIC, 0)).isEqualTo(PageHandle.NULL);
            mm.freePages(h); // refused: stays allocated
        } finally {
            t.preemptCountSub(1);
            t.rawLockExit();
        }
        assertThat(mm.log().dmesg()).contains("[ BUG: Invalid wait context ]");
        mm.freePages(h);
        MemoryManager plain = machines.create(b -> b.panicOnWarn(false));
        t.rawLockEnter();
        t.preemptCountAdd(1);
        try {
            long ok = plain.allocPages(Gfp.ATOMIC, 0);
            assertThat(ok).isNotEqualTo(PageHandle.NULL);
            plain.freePages(ok);
        } finally {
            t.preemptCountSub(1);
            t.rawLockExit();
        }
    }

    /**
     * RELIABILITY A1: one corruption of the page allocator's books is exactly one validate() error,
     * and repairing it brings the count back to 0.
     */
    @Test
    void validateCountsExactlyOneErrorPerCorruption() {
        MemoryManager mm = machines.create(b -> b.zonePages(new long[][] {{0, 0, 1024, 0}}).cpuSlots(1).debug(false));
        long h = mm.allocPages(Gfp.KERNEL, 0);
        long keep = mm.allocPages(Gfp.KERNEL, 0);
        mm.freePages(h); // lands on the per-CPU list
        Zone z = mm.pages().zones()[0];
        PerCpuPages pcp = z.pcp[0];
        assertThat(pcp.countRacy()).isPositive().isLessThan(z.pcpHigh());
        assertThat(mm.pages().validate()).isZero();

        mm.log().drain();
        pcp.count++; // the count no longer matches the lists
        assertThat(mm.pages().validate()).isEqualTo(1);
        assertThat(mm.log().lines()).containsExactly("memscope: validate: " + z + " slot 0: pcp count "
                + pcp.count + " but the lists hold " + (pcp.count - 1));
        pcp.count--;
        assertThat(mm.pages().validate()).isZero();

        mm.log().drain();
        z.buddyPgalloc++; // vmstat pgalloc one ahead of the allocated pages
        assertThat(mm.pages().validate()).isEqualTo(1);
        assertThat(mm.log().lines()).singleElement().asString().startsWith("memscope: validate: " + z + ": pgalloc ")
                .endsWith(" but 1 page(s) are allocated");
        z.buddyPgalloc--;
        assertThat(mm.pages().validate()).isZero();
        mm.freePages(keep);
    }

    @Test
    void reportTextsArePinned() {
        MemoryManager mm = machines.create(b -> b.zonePages(new long[][] {{0, 0, 1024, 0}}).cpuSlots(1));
        assertThat(mm.meminfo()).startsWith("MemTotal:           4096 kB\nMemFree:            4096 kB\n");
        assertThat(AllocReports.gfpReport(Gfp.KERNEL | Gfp.ZERO | Gfp.NOWARN)).isEqualTo("0x2dc0(GFP_KERNEL|__GFP_ZERO|__GFP_NOWARN)");
        assertThat(AllocReports.gfpReport(0)).isEqualTo("0x0()");
        assertThat(AllocReports.gfpReport(Gfp.ATOMIC | Gfp.DMA)).isEqualTo("0x821(GFP_ATOMIC|GFP_DMA)");
        assertThat(mm.pages().reports().failureLine("kworker/u16:2", Gfp.ATOMIC, 0, -1L, Task.ALL_NODES))
                .isEqualTo("kworker/u16:2: page allocation failure: order:0, mode:0x820(GFP_ATOMIC), nodemask=(null),cpuset=/,mems_allowed=0");
        assertThat(AllocReports.nodeList(0b1011)).isEqualTo("0-1,3");
        // Reclaim's node items follow nr_free_pages; the zone families come after them.
        assertThat(mm.vmstat().text()).startsWith("nr_free_pages 1024\n").contains("\npgalloc_dma 0\npgalloc_dma32 0\n")
                .contains("\npgfree 0\n");
    }

    @Test
    void allocPagesExactSplitsAndFreesTheTail() {
        MemoryManager mm = machines.create(b -> b.quarantinePages(0));
        long h = mm.allocPagesExact(5 * 4096 + 1, Gfp.KERNEL);
        assertThat(mm.pages().allocatedPages()).isEqualTo(6);
        mm.freePagesExact(h, 5 * 4096 + 1);
        assertThat(mm.validate()).isZero();
    }
}
