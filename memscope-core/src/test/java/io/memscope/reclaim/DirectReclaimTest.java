package io.memscope.reclaim;

import static io.memscope.page.PageTableDescriptor.FLAG_DIRTY;
import static io.memscope.page.PageTableDescriptor.FLAG_RECLAIM;
import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.gfp.Gfp;
import io.memscope.page.PageHandle;
import io.memscope.sched.Memalloc;
import io.memscope.sched.Task;
import io.memscope.stat.VmItem;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** try_to_free_pages / shrink_folio_list rules: KERNEL.md T43, T44, T45, T50, §4.3, the legacy switch. */
class DirectReclaimTest {

    /** T43: nr_to_reclaim 32 from priority 12; 132000 LRU pages >> 12 = 32 pages scanned at the first pass. */
    @Test
    void directReclaimTargetsSwapClusterMaxStartingAtDefPriority() {
        try (ReclaimTestMachine m = new ReclaimTestMachine(640L << 20, false)) {
            for (int i = 0; i < 132_000; i++) {
                assertThat(m.files.addPage(Gfp.KERNEL & ~Gfp.RECLAIM, false)).isNotNegative();
            }
            int nofs = Memalloc.memallocNofsSave();
            long reclaimed;
            try {
                reclaimed = m.tryToFreePages(Gfp.KERNEL);
            } finally {
                Memalloc.memallocNofsRestore(nofs);
            }
            assertThat(reclaimed).isEqualTo(32);
            assertThat(m.trace).contains("mm_vmscan_direct_reclaim_begin: order=0 gfp_flags=GFP_NOFS",
                    "mm_vmscan_direct_reclaim_end: nr_reclaimed=32");
            assertThat(m.mm.vmstat().get(VmItem.PGSCAN_DIRECT)).isEqualTo(32);
            assertThat(m.mm.vmstat().get(VmItem.PGSTEAL_DIRECT)).isEqualTo(32);
            assertThat(m.files.removed.get()).isEqualTo(32);
        }
    }

    /** T43: one allocstall_normal per direct reclaim call made by the allocator for a GFP_KERNEL request. */
    @Test
    void allocstallCountsOnePerDirectReclaimCall() {
        try (ReclaimTestMachine m = new ReclaimTestMachine(64L << 20, false)) {
            int guard = 0;
            while (m.count("mm_vmscan_direct_reclaim_begin") < 3 && guard++ < 100_000) {
                assertThat(m.files.addPage(FakeFileOwner.GFP_NO_KSWAPD, false)).isNotNegative();
            }
            long begins = m.count("mm_vmscan_direct_reclaim_begin");
            assertThat(begins).isGreaterThanOrEqualTo(3);
            assertThat(m.mm.vmstat().get(VmItem.ALLOCSTALL_NORMAL)).isEqualTo(begins);
            assertThat(m.trace).contains("mm_vmscan_direct_reclaim_begin: order=0 gfp_flags=__GFP_IO|__GFP_FS|__GFP_DIRECT_RECLAIM");
            assertThat(m.mm.vmstat().get(VmItem.PGSTEAL_DIRECT)).isPositive();
        }
    }

    /** T44: PF_MEMALLOC for the duration; a shrinker's own GFP_KERNEL allocation gets the reserves and never recurses. */
    @Test
    void reclaimRunsWithPfMemallocAndNestedAllocationsUseReservesWithoutRecursion() {
        try (ReclaimTestMachine m = new ReclaimTestMachine(64L << 20, false)) {
            m.pinAll(ReclaimTestMachine.GFP_PIN);
            assertThat(m.mm.allocPages(Gfp.KERNEL & ~Gfp.RECLAIM | Gfp.NOWARN, 0)).as("below min now").isEqualTo(PageHandle.NULL);
            Thread tester = Thread.currentThread();
            AtomicInteger flagsSeen = new AtomicInteger();
            AtomicLong nested = new AtomicLong();
            m.mm.shrinkers().register("nested-alloc", new ShrinkerCallbacks() {
                @Override public long countObjects(ShrinkControl sc) { return 1000; }
                @Override public long scanObjects(ShrinkControl sc) {
                    if (Thread.currentThread() == tester) {
                        flagsSeen.set(Task.current().flags());
                    }
                    if (Thread.currentThread() == tester && nested.get() == 0) {
                        nested.set(m.mm.allocPages(Gfp.KERNEL, 0));
                    }
                    return 0;
                }
            });
            m.tryToFreePages(Gfp.KERNEL);
            assertThat(flagsSeen.get() & Task.PF_MEMALLOC).isEqualTo(Task.PF_MEMALLOC);
            assertThat(nested.get()).as("ALLOC_NO_WATERMARKS for PF_MEMALLOC").isNotEqualTo(PageHandle.NULL);
            assertThat(m.count("mm_vmscan_direct_reclaim_begin")).as("no recursion into reclaim").isEqualTo(1);
            assertThat(Task.current().flags() & Task.PF_MEMALLOC).as("restored").isZero();
            m.mm.freePages(nested.get());
        }
    }

    /** T45: a shrinker called from direct reclaim inside a NOFS scope sees GFP_NOFS; a GFP_NOFS-aware FS shrinker defers. */
    @Test
    void shrinkerSeesTheScopeAppliedMask() {
        try (ReclaimTestMachine m = new ReclaimTestMachine(64L << 20, false)) {
            List<Integer> masks = new CopyOnWriteArrayList<>();
            AtomicInteger fsWork = new AtomicInteger();
            Shrinker fs = m.mm.shrinkers().register("sb-fake", new ShrinkerCallbacks() {
                @Override public long countObjects(ShrinkControl sc) { masks.add(sc.gfpMask()); return 1000; }
                @Override public long scanObjects(ShrinkControl sc) {
                    if ((sc.gfpMask() & Gfp.FS) == 0) {
                        return Shrinker.SHRINK_STOP; // super_cache_scan
                    }
                    fsWork.incrementAndGet();
                    return 0;
                }
            });
            try (var scope = Memalloc.nofsScope()) {
                m.tryToFreePages(Gfp.KERNEL);
            }
            assertThat(masks).isNotEmpty().allMatch(g -> g == Gfp.NOFS);
            assertThat(fsWork.get()).isZero();
            // The refused work is not lost: do_shrink_slab() carried it in nr_deferred, and the
            // next reclaim that may enter the filesystem does it.
            long deferred = fs.nrDeferred(0);
            assertThat(deferred).as("work deferred by the NOFS scope").isPositive();
            m.tryToFreePages(Gfp.KERNEL);
            assertThat(fsWork.get()).as("a GFP_KERNEL reclaim outside the scope scans the FS cache").isPositive();
            assertThat(fs.nrDeferred(0)).as("and consumes the deferred work").isLessThan(deferred);
        }
    }

    /** T50: reclaim never writes dirty file pages: PG_reclaim, activation, nr_vmscan_immediate_reclaim, flushers woken. */
    @Test
    void dirtyPagesAreMarkedForImmediateReclaimAndNeverWritten() {
        try (ReclaimTestMachine m = new ReclaimTestMachine(64L << 20, false)) {
            List<Integer> dirty = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                dirty.add(m.files.addPage(Gfp.KERNEL, true));
            }
            long reclaimed = m.tryToFreePages(Gfp.KERNEL);
            assertThat(m.files.writePageCalls).isEmpty();
            assertThat(m.files.removed.get()).isZero();
            assertThat(m.files.flusherWakes.get()).isPositive();
            assertThat(m.mm.vmstat().get(VmItem.NR_VMSCAN_IMMEDIATE_RECLAIM)).isPositive();
            assertThat(m.mm.vmstat().get(VmItem.NR_VMSCAN_WRITE)).isZero();
            long marked = dirty.stream().filter(p -> m.files.pt.testPageFlag(p, FLAG_RECLAIM)).count();
            assertThat(marked).isPositive();
            // activated each time they were met (aging may have deactivated some since)
            assertThat(m.mm.vmstat().get(VmItem.PGACTIVATE)).isGreaterThanOrEqualTo(marked);
            assertThat(dirty).allMatch(p -> m.files.pt.testPageFlag(p, FLAG_DIRTY));
            assertThat(reclaimed).as("only pcp pages drained").isEqualTo(m.mm.vmstat().get(VmItem.PGSTEAL_DIRECT));
        }
    }

    /** GFP_NOIO reclaims clean pages and caches that need no I/O; I/O-bound caches and dirty pages stay. */
    @Test
    void noioReclaimsOnlyCleanPagesAndNonIoCaches() {
        try (ReclaimTestMachine m = new ReclaimTestMachine(64L << 20, true)) {
            for (int i = 0; i < 64; i++) {
                m.files.addPage(Gfp.KERNEL, i % 2 == 0);
            }
            AtomicInteger ioWork = new AtomicInteger();
            AtomicInteger plainWork = new AtomicInteger();
            m.mm.shrinkers().register("needs-io", callbacks(sc -> {
                if ((sc.gfpMask() & Gfp.IO) == 0) {
                    return Shrinker.SHRINK_STOP;
                }
                ioWork.incrementAndGet();
                return sc.nrToScan();
            }));
            m.mm.shrinkers().register("no-io", callbacks(sc -> {
                plainWork.incrementAndGet();
                return sc.nrToScan();
            }));
            long reclaimed = m.tryToFreePages(Gfp.NOIO);
            assertThat(reclaimed).isPositive();
            assertThat(m.files.removed.get()).as("clean pages freed").isEqualTo(32);
            assertThat(m.files.writePageCalls).as("no I/O, even with the legacy switch").isEmpty();
            assertThat(ioWork.get()).isZero();
            assertThat(plainWork.get()).isPositive();
        }
    }

    /** Legacy switch: direct reclaim's writePage is refused by the FS (seeds/002); kswapd writes. */
    @Test
    void legacyWritebackOnlyKswapdWrites() throws Exception {
        try (ReclaimTestMachine m = new ReclaimTestMachine(64L << 20, true)) {
            for (int i = 0; i < 64; i++) {
                m.files.addPage(Gfp.KERNEL, true);
            }
            m.tryToFreePages(Gfp.KERNEL);
            assertThat(m.files.refusedDirect.get()).isPositive();
            assertThat(m.files.written.get()).isZero();
            assertThat(m.mm.vmstat().get(VmItem.NR_VMSCAN_WRITE)).isZero();
            // kswapd: pin memory below the high watermark and wake it; it marks, then writes.
            m.pinAll(ReclaimTestMachine.GFP_PIN);
            m.mm.reclaim().kswapd(0).wakeup(Gfp.KERNEL, 0, 2);
            ReclaimTestMachine.await(() -> m.files.written.get() > 0, "kswapd writes a dirty page");
            assertThat(m.files.writePageCalls).contains("kswapd");
            assertThat(m.mm.vmstat().get(VmItem.NR_VMSCAN_WRITE)).isPositive();
        }
    }

    /** Current kernel: not even kswapd writes file pages. */
    @Test
    void withoutTheLegacySwitchKswapdDoesNotWriteEither() throws Exception {
        try (ReclaimTestMachine m = new ReclaimTestMachine(64L << 20, false)) {
            for (int i = 0; i < 64; i++) {
                m.files.addPage(Gfp.KERNEL, true);
            }
            m.pinAll(ReclaimTestMachine.GFP_PIN);
            // kswapd may already be running (the pinning woke it), and with nothing reclaimable it may
            // turn hopeless and ignore further wakeups; either way it has scanned the dirty pages.
            m.mm.reclaim().kswapd(0).wakeup(Gfp.KERNEL, 0, 2);
            ReclaimTestMachine.await(() -> m.mm.vmstat().get(VmItem.PGSCAN_KSWAPD) >= 64,
                    "kswapd scans the dirty pages");
            assertThat(m.files.writePageCalls).isEmpty();
            assertThat(m.files.flusherWakes.get()).isPositive();
        }
    }

    static ShrinkerCallbacks callbacks(java.util.function.ToLongFunction<ShrinkControl> scan) {
        return new ShrinkerCallbacks() {
            @Override public long countObjects(ShrinkControl sc) { return 1000; }
            @Override public long scanObjects(ShrinkControl sc) { return scan.applyAsLong(sc); }
        };
    }
}
