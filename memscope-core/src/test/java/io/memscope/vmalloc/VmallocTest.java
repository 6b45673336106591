package io.memscope.vmalloc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.locking.Irq;
import io.memscope.page.MemfdRegion;
import io.memscope.page.PageHandle;
import io.memscope.sched.Task;
import io.memscope.testkit.Machines;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** vmalloc and kvmalloc against mm/vmalloc.c and mm/slub.c (KERNEL.md §5.2, T59-T61, T63, T64). */
class VmallocTest {
    @RegisterExtension
    final Machines machines = new Machines();

    private MemoryManager plain() {
        return machines.create(b -> b.debug(false).panicOnWarn(false));
    }

    @Test
    void oneMebibyteIsOneContiguousSegmentOverScatteredFrames() {
        MemoryManager mm = plain();
        assumeThat(mm.pages().region().mode()).isEqualTo(MemfdRegion.Mode.MEMFD);
        Vmalloc v = mm.vmalloc();
        long allocatedBefore = pagesOutsideSlabs(mm);
        VmArea a = v.vmalloc(1 << 20);
        assertThat(a.nrPages()).isEqualTo(256);
        assertThat(a.nrPageTablePages()).isEqualTo(1);
        MemorySegment seg = a.segment().orElseThrow();
        assertThat(seg.address()).isEqualTo(a.address());
        assertThat(seg.byteSize()).isEqualTo(1 << 20);
        seg.set(ValueLayout.JAVA_LONG, 4096 * 100 + 8, 0xabcdefL);
        MemorySegment direct = mm.pages().memory();
        assertThat(direct.get(ValueLayout.JAVA_LONG, ((long) a.pfn(100) << 12) + 8)).isEqualTo(0xabcdefL);
        // The page-table page holds one PTE per page: pfn << 12 | present|rw|accessed|dirty.
        assertThat(v.isVmallocAddr(a.address() + 5000)).isTrue();
        assertThat(v.find(a.address() + (1 << 20) - 1)).isSameAs(a);
        assertThat(mm.meminfoValues().get("VmallocUsed")).isEqualTo(1024);
        assertThat(v.vmallocinfo()).matches("0x[0-9a-f]{16}-0x[0-9a-f]{16} 1052672 .*VmallocTest\\..* pages=256 vmalloc N0=256\\R");
        v.vfree(a);
        assertThat(a.isLive()).isFalse();
        assertThat(v.nrAreas()).isZero();
        assertThat(pagesOutsideSlabs(mm)).isEqualTo(allocatedBefore);
    }

    /** Allocated pages not held by slabs (slabs keep some empty slabs after their objects are freed). */
    private static long pagesOutsideSlabs(MemoryManager mm) {
        return mm.pages().allocatedPages() - mm.slab().slabPages();
    }

    @Test
    void vzallocZeroesAndTheViewWorksInBothModes() {
        MemoryManager mm = plain();
        VmArea a = mm.vmalloc().vzalloc(3 * 4096 + 10);
        assertThat(a.size()).isEqualTo(4 * 4096);
        for (long off = 0; off < a.size(); off += 512) {
            assertThat(a.view().getLong(off)).isZero();
        }
        a.view().putInt(4094, 0x01020304); // crosses a page boundary
        assertThat(a.view().getInt(4094)).isEqualTo(0x01020304);
        mm.vmalloc().vfree(a.address());
    }

    /** Above 512 pages the pages array is itself vmalloc'ed (bounded recursion), and freed with the area. */
    @Test
    void largeAreasGetANestedPagesArray() {
        MemoryManager mm = plain();
        Vmalloc v = mm.vmalloc();
        VmArea a = v.vmalloc(3L << 20);
        assertThat(v.nrAreas()).isEqualTo(2);
        assertThat(a.nrPageTablePages()).isEqualTo(2);
        assertThat(v.vmallocinfo()).contains("__vmalloc_area_node pages=2 vmalloc");
        v.vfree(a);
        assertThat(v.nrAreas()).isZero();
    }

    /** T61. */
    @Test
    void unsupportedBitsAreStrippedWithTheKernelsWarning() {
        MemoryManager mm = plain();
        VmArea a = mm.vmalloc().vmallocGfp(8192, Gfp.NOIO | Gfp.NOWARN | Gfp.RECLAIMABLE);
        assertThat(a).isNotNull();
        assertThat(mm.log().lines()).contains(
                "Unexpected gfp: 0x10 (__GFP_RECLAIMABLE). Fixing up to gfp: 0x2c00 (GFP_NOIO|__GFP_NOWARN). Fix your code!");
        assertThat(mm.log().warnCount()).isEqualTo(1);
        mm.vmalloc().vfree(a);
    }

    private static List<String> observePageTableMasks(MemoryManager mm, Runnable r) {
        List<String> seen = new CopyOnWriteArrayList<>();
        mm.pages().setAllocObserver((gfp, order, nanos, ok) -> {
            if ((gfp & Gfp.ZERO) != 0 && (gfp & Gfp.NOWARN) == 0) { // page tables: GFP_KERNEL | __GFP_ZERO, hard-coded
                boolean pfMemalloc = (Task.current().flags() & Task.PF_MEMALLOC) != 0;
                seen.add("0x" + Integer.toHexString(gfp) + (pfMemalloc ? " PF_MEMALLOC" : ""));
            }
        });
        try {
            r.run();
        } finally {
            mm.pages().setAllocObserver(null);
        }
        return seen;
    }

    /** T63: a GFP_NOFS vmalloc allocates its page tables inside a NOFS scope (__GFP_FS cleared). */
    @Test
    void nofsVmallocAllocatesPageTablesWithoutFs() {
        MemoryManager mm = plain();
        VmArea[] a = new VmArea[1];
        List<String> masks = observePageTableMasks(mm, () -> a[0] = mm.vmalloc().vmallocGfp(64 << 10, Gfp.NOFS));
        assertThat(masks).containsExactly("0xd40"); // GFP_NOFS|__GFP_ZERO
        mm.vmalloc().vfree(a[0]);
        masks = observePageTableMasks(mm, () -> a[0] = mm.vmalloc().vmallocGfp(64 << 10, Gfp.NOIO));
        assertThat(masks).containsExactly("0xd00"); // GFP_NOIO|__GFP_ZERO
        mm.vmalloc().vfree(a[0]);
    }

    /** The seed's bug: before 5.17 the page tables kept GFP_KERNEL whatever the caller asked. */
    @Test
    void legacyVmallocAllocatesPageTablesWithGfpKernel() {
        MemoryManager mm = machines.create(b -> b.debug(false).legacyVmallocGfp(true));
        VmArea[] a = new VmArea[1];
        List<String> masks = observePageTableMasks(mm, () -> a[0] = mm.vmalloc().vmallocGfp(64 << 10, Gfp.NOFS));
        assertThat(masks).containsExactly("0xdc0"); // GFP_KERNEL|__GFP_ZERO: __GFP_FS is back
        mm.vmalloc().vfree(a[0]);
    }

    /** T64: a non-blocking vmalloc allocates its page tables under PF_MEMALLOC; NOFAIL is ignored. */
    @Test
    void nowaitVmallocAllocatesPageTablesUnderPfMemalloc() {
        MemoryManager mm = plain();
        VmArea[] a = new VmArea[1];
        List<String> masks = observePageTableMasks(mm,
                () -> a[0] = mm.vmalloc().vmallocGfp(16 << 10, Gfp.NOWAIT | Gfp.NOFAIL));
        assertThat(masks).containsExactly("0xdc0 PF_MEMALLOC");
        mm.vmalloc().vfree(a[0]);
        assertThat(Vmalloc.applyGfpScope(Gfp.KERNEL)).isZero();
    }

    @Test
    void vfreeOfANonexistentAreaIsNamedAndChangesNothing() {
        MemoryManager mm = plain();
        Vmalloc v = mm.vmalloc();
        VmArea a = v.vmalloc(8192);
        assertThatThrownBy(() -> v.vfree(a.address() + 4096)).isInstanceOf(VmallocMisuseException.class)
                .hasMessage("vfree: expected the start of a live vmalloc area, found 0x" + Long.toHexString(a.address() + 4096)
                        + " (Trying to vfree() nonexistent vm area)");
        v.vfree(a);
        assertThatThrownBy(() -> v.vfree(a)).isInstanceOf(VmallocMisuseException.class);
        v.vfree(0);
        assertThatThrownBy(() -> v.vmalloc(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("vmalloc: expected a size >= 0, found -1");
        assertThat(v.vmalloc(0)).isNull();
        assertThat(mm.log().dmesg()).contains("vmalloc error: size 0, vm_struct allocation failed, mode:0xcc0(GFP_KERNEL)");
    }

    @Test
    void vfreeFromInterruptContextIsDeferredAndFromNmiRefused() {
        MemoryManager mm = plain();
        Vmalloc v = mm.vmalloc();
        VmArea a = v.vmalloc(8192);
        VmArea b = v.vmalloc(8192);
        long before = pagesOutsideSlabs(mm);
        Irq.hardirq(() -> v.vfree(a));
        assertThat(v.nrAreas()).isEqualTo(1);
        assertThat(pagesOutsideSlabs(mm)).as("freed later, in task context").isEqualTo(before);
        Throwable[] nmi = new Throwable[1];
        Irq.nmi(() -> {
            try {
                v.vfree(b);
            } catch (VmallocMisuseException e) {
                nmi[0] = e;
            }
        });
        assertThat(nmi[0]).hasMessageContaining("found NMI");
        v.vfree(b);
        assertThat(pagesOutsideSlabs(mm)).isLessThan(before);
        assertThat(mm.validate()).isZero();
    }

    @Test
    void closingWithALiveAreaIsALeak() {
        MemoryManager mm = MemoryManager.builder().memoryBytes(16L << 20).cpuSlots(1).build();
        mm.vmalloc().vmalloc(10_000);
        assertThatThrownBy(mm::close).isInstanceOf(VmallocLeakException.class)
                .hasMessageStartingWith("vmalloc close: expected 0 live areas, found 1: 12288 B from ");
    }

    // ---- kvmalloc ----

    /** T59: the kmalloc attempt of kvmalloc(8192, GFP_KERNEL) uses GFP_NOWAIT|__GFP_IO|__GFP_FS (0x28c0). */
    @Test
    void kvmallocAdjustsTheKmallocAttempt() {
        assertThat(Vmalloc.kmallocGfpAdjust(Gfp.KERNEL, 8192)).isEqualTo(0x28c0);
        assertThat(Vmalloc.kmallocGfpAdjust(Gfp.KERNEL | Gfp.RETRY_MAYFAIL, 8192))
                .isEqualTo(Gfp.KERNEL | Gfp.RETRY_MAYFAIL | Gfp.NOWARN);
        assertThat(Vmalloc.kmallocGfpAdjust(Gfp.KERNEL | Gfp.NOFAIL, 4096)).isEqualTo(Gfp.KERNEL | Gfp.NOFAIL);
    }

    /**
     * T59/T60 end to end: when kmalloc fails, above a page kvmalloc falls back to vmalloc; up to a
     * page it does not. The large kmalloc attempt has no direct reclaim (0x28c0), so
     * {@code fail_page_alloc} with {@code ignore-gfp-wait} fails it while vmalloc's own
     * {@code GFP_KERNEL} order-0 pages are exempt.
     */
    @Test
    void kvmallocFallsBackToVmallocOnlyAboveAPage() {
        MemoryManager mm = machines.create(b -> b.debug(false).panicOnWarn(false)
                .failslab(Machines.seed(), f -> f.setIgnoreGfpWait(false))
                .failPageAlloc(Machines.seed(), f -> f.setMinOrder(1)));
        mm.failslab().attr().setProbability(100).setTimes(-1).setVerbose(0);
        Vmalloc v = mm.vmalloc();
        assertThat(v.kvmalloc(4096, Gfp.KERNEL)).as("T60: no fallback up to a page").isZero();
        mm.failslab().attr().setProbability(0);
        mm.failPageAlloc().attr().setProbability(100).setTimes(-1).setVerbose(0);
        long p = v.kvmalloc(8192 + 1, Gfp.KERNEL);
        mm.failPageAlloc().attr().setProbability(0);
        assertThat(p).isNotZero();
        assertThat(v.isVmallocAddr(p)).isTrue();
        v.kvfree(p);
        long k = v.kvzalloc(100, Gfp.KERNEL);
        assertThat(v.isVmallocAddr(k)).isFalse();
        assertThat(mm.slab().ksize(k)).isEqualTo(128);
        v.kvfree(k);
        assertThat(v.kvmalloc(1L << 32, Gfp.KERNEL | Gfp.NOWARN)).isZero();
    }

    /** Before 5.17, kvmalloc with a mask that is not GFP_KERNEL-compatible never fell back. */
    @Test
    void legacyKvmallocDoesNotFallBackForNofs() {
        MemoryManager mm = machines.create(b -> b.debug(false).panicOnWarn(false).legacyVmallocGfp(true)
                .failPageAlloc(Machines.seed(), f -> f.setMinOrder(1)));
        mm.failPageAlloc().attr().setProbability(100).setTimes(-1).setVerbose(0);
        assertThat(mm.vmalloc().kvmalloc(20_000, Gfp.NOFS)).isZero();
        long p = mm.vmalloc().kvmalloc(20_000, Gfp.KERNEL);
        mm.failPageAlloc().attr().setProbability(0);
        assertThat(mm.vmalloc().isVmallocAddr(p)).isTrue();
        mm.vmalloc().kvfree(p);
    }

    /** D2: fail the 1st, 2nd, ... internal allocation of vmalloc and kvmalloc; each step is a clean null or success. */
    @Test
    void failNthSweepOverVmallocAndKvmalloc() {
        MemoryManager mm = machines.create(b -> b.debug(false).panicOnWarn(false)
                .failPageAlloc(Machines.seed(), f -> f.setIgnoreGfpWait(false).setMinOrder(0))
                .failslab(Machines.seed(), f -> f.setIgnoreGfpWait(false)));
        Vmalloc v = mm.vmalloc();
        Task task = Task.current();
        String[] names = {"vmalloc(20 KiB)", "vzalloc(3 MiB)", "vmallocGfp(64 KiB, GFP_NOFS)", "kvmalloc(64 KiB)"};
        for (int which = 0; which < names.length; which++) {
            long pagesBefore = pagesOutsideSlabs(mm);
            for (int n = 1; ; n++) {
                task.setFailNth(n);
                long addr = switch (which) {
                    case 0 -> addr(v.vmalloc(20 << 10));
                    case 1 -> addr(v.vzalloc(3 << 20));
                    case 2 -> addr(v.vmallocGfp(64 << 10, Gfp.NOFS));
                    default -> v.kvmalloc(64 << 10, Gfp.KERNEL);
                };
                boolean reached = task.failNth() == 0;
                task.setFailNth(0);
                if (addr != 0) {
                    v.kvfree(addr);
                }
                assertThat(mm.validate()).as("%s fail-nth %d", names[which], n).isZero();
                assertThat(pagesOutsideSlabs(mm)).as("%s fail-nth %d leaked", names[which], n).isEqualTo(pagesBefore);
                assertThat(v.nrAreas()).isZero();
                if (!reached) {
                    assertThat(addr).as("%s succeeds without injection", names[which]).isNotZero();
                    break;
                }
                assertThat(n).isLessThan(2000);
            }
        }
    }

    private static long addr(VmArea a) {
        return a == null ? 0 : a.address();
    }
}
