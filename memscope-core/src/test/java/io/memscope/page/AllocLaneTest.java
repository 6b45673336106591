package io.memscope.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.gfp.MigrateType;
import io.memscope.gfp.ZoneType;
import io.memscope.sched.Memalloc;
import io.memscope.sched.MemallocScope;
import io.memscope.sched.Task;
import io.memscope.testkit.Machines;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The allocation fast lane ({@link PageAllocator#allocLane}) decides exactly as the general path.
 * The lane only opens on machines without debug checks, lockdep or fault injection, which the
 * default test machines all have; so these tests build plain machines and compare, operation by
 * operation, a machine whose allocations may take the lane with one where an allocation observer
 * keeps every allocation on the general path ({@code __alloc_frozen_pages_noprof} from the top).
 */
class AllocLaneTest {
    @RegisterExtension
    final Machines machines = new Machines();

    /** DMA, DMA32, Normal and Movable zones of 1024/1024/2048/1024 pages; no kswapd (deterministic). */
    private MemoryManager plain() {
        return machines.create(b -> b.zonePages(new long[][] {{1024, 1024, 2048, 1024}}).cpuSlots(2).debug(false)
                .lockdep(false).panicOnWarn(false).kswapdWaker(KswapdWaker.NONE));
    }

    private static final int[] MASKS = {
        Gfp.KERNEL, Gfp.KERNEL | Gfp.RECLAIMABLE, Gfp.KERNEL | Gfp.MOVABLE, Gfp.USER, Gfp.NOFS, Gfp.NOIO,
        Gfp.ATOMIC, Gfp.NOWAIT, Gfp.KERNEL | Gfp.ZERO, Gfp.KERNEL | Gfp.COMP, Gfp.HIGHUSER_MOVABLE,
        Gfp.KERNEL | Gfp.DMA32, Gfp.KERNEL | Gfp.DMA, Gfp.KERNEL | Gfp.THISNODE, Gfp.KERNEL | Gfp.HIGH,
    };
    private static final int[] ORDERS = {0, 0, 0, 0, 1, 2, 3, 4, 9};

    /** What one allocation produced: handle (pfn, order, generation), zone, list type. */
    private static String outcome(MemoryManager mm, long h) {
        if (h == PageHandle.NULL) {
            return "NULL";
        }
        int pfn = PageHandle.pfn(h);
        return Long.toHexString(h) + " " + mm.pages().zoneOf(pfn).type() + " mt" + mm.pages().pageTable().listMt(pfn);
    }

    /**
     * One seeded run of allocations (random masks, orders and contexts: plain, NOFS/NOIO/PIN
     * scopes, preemption disabled) and frees; returns the outcome of each step.
     */
    private static List<String> run(MemoryManager mm, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Long> held = new ArrayList<>();
        List<String> out = new ArrayList<>();
        long heldPages = 0;
        Task task = Task.current();
        for (int step = 0; step < 6000; step++) {
            if (held.isEmpty() || (heldPages < 2048 && rnd.nextInt(10) < 6)) {
                int gfp = MASKS[rnd.nextInt(MASKS.length)] | Gfp.NOWARN;
                int order = ORDERS[rnd.nextInt(ORDERS.length)];
                int ctx = rnd.nextInt(6);
                long h;
                if (ctx == 1 || ctx == 2 || ctx == 3) {
                    try (MemallocScope s = ctx == 1 ? Memalloc.nofsScope() : ctx == 2 ? Memalloc.noioScope()
                            : Memalloc.pinScope()) {
                        h = mm.allocPages(gfp, order);
                    }
                } else if (ctx == 4) {
                    task.preemptCountAdd(1); // atomic context: only non-sleeping masks
                    try {
                        h = mm.allocPages(gfp & ~Gfp.DIRECT_RECLAIM, order);
                    } finally {
                        task.preemptCountSub(1);
                    }
                } else {
                    h = mm.allocPages(gfp, order);
                }
                out.add(step + ": alloc " + Integer.toHexString(gfp) + " order " + order + " ctx " + ctx + " -> "
                        + outcome(mm, h));
                if (h != PageHandle.NULL) {
                    held.add(h);
                    heldPages += 1L << order;
                }
            } else {
                long h = held.remove(rnd.nextInt(held.size()));
                if (rnd.nextInt(4) == 0) {
                    mm.pages().pageTable().setPageFlags(PageHandle.pfn(h), PageTableDescriptor.FLAG_DIRTY
                            | PageTableDescriptor.FLAG_REFERENCED); // the free must clear them
                }
                mm.freePages(h);
                heldPages -= 1L << PageHandle.order(h);
                out.add(step + ": free " + Long.toHexString(h));
            }
        }
        for (long h : held) {
            mm.freePages(h);
        }
        out.add("buddyinfo " + mm.buddyinfo());
        return out;
    }

    @Test
    void theLaneDecidesEveryAllocationAsTheGeneralPathDoes() {
        MemoryManager lane = plain();
        MemoryManager general = plain();
        general.pages().setAllocObserver((gfp, order, nanos, ok) -> { });
        long seed = Machines.seed();
        List<String> viaLane = run(lane, seed);
        List<String> viaGeneral = run(general, seed);
        assertThat(viaLane).containsExactlyElementsOf(viaGeneral);
        assertThat(lane.vmstat().text()).isEqualTo(general.vmstat().text());
        assertThat(lane.validate()).isZero();
        assertThat(general.validate()).isZero();
    }

    @Test
    void theLaneTakesThePlainRequestsAndHonoursScopes() {
        MemoryManager mm = plain();
        long h = mm.allocPages(Gfp.KERNEL, 0);
        assertThat(mm.pages().zoneOf(PageHandle.pfn(h)).type()).isEqualTo(ZoneType.NORMAL);
        assertThat(mm.pages().pageTable().listMt(PageHandle.pfn(h))).isEqualTo(MigrateType.UNMOVABLE.ordinal());
        long m = mm.allocPages(Gfp.KERNEL | Gfp.MOVABLE, 0);
        assertThat(mm.pages().pageTable().listMt(PageHandle.pfn(m))).isEqualTo(MigrateType.MOVABLE.ordinal());
        long p;
        try (MemallocScope s = Memalloc.pinScope()) { // memalloc_pin: __GFP_MOVABLE cleared
            p = mm.allocPages(Gfp.KERNEL | Gfp.MOVABLE, 0);
        }
        assertThat(mm.pages().pageTable().listMt(PageHandle.pfn(p))).isEqualTo(MigrateType.UNMOVABLE.ordinal());
        long d = mm.allocPages(Gfp.KERNEL | Gfp.DMA32, 0); // a zone modifier: the general path
        assertThat(mm.pages().zoneOf(PageHandle.pfn(d)).type()).isEqualTo(ZoneType.DMA32);
        for (long x : new long[] {h, m, p, d}) {
            mm.freePages(x);
        }
    }

    @Test
    void theLaneStopsAtTheLowWatermarkAndTheGeneralPathFallsBackToDma32() {
        MemoryManager mm = plain();
        Zone normal = mm.pages().zone(0, ZoneType.NORMAL);
        List<Long> held = new ArrayList<>();
        long h;
        while (true) {
            h = mm.allocPages(Gfp.KERNEL | Gfp.NOWARN, 0);
            if (mm.pages().zoneOf(PageHandle.pfn(h)).type() != ZoneType.NORMAL) {
                break;
            }
            held.add(h);
        }
        // The first page from below Normal came when Normal's free pages reached its low
        // watermark, not when Normal ran dry (the per-CPU list refills take a batch at a time).
        assertThat(mm.pages().zoneOf(PageHandle.pfn(h)).type()).isEqualTo(ZoneType.DMA32);
        assertThat(normal.freePages()).isLessThanOrEqualTo(normal.lowWmark()).isGreaterThan(normal.minWmark());
        held.add(h);
        for (long x : held) {
            mm.freePages(x);
        }
    }

    @Test
    void movableWithReclaimableIsRefusedBeforeAnythingChanges() {
        MemoryManager mm = plain();
        String before = mm.buddyinfo();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> mm.allocPages(Gfp.KERNEL | Gfp.MOVABLE | Gfp.RECLAIMABLE, 0))
                .isInstanceOf(InvalidGfpMaskException.class)
                .hasMessage("gfp_migratetype: expected at most one of __GFP_MOVABLE and __GFP_RECLAIMABLE, found "
                        + AllocReports.gfpReport(Gfp.MOVABLE | Gfp.RECLAIMABLE));
        assertThat(mm.buddyinfo()).isEqualTo(before);
        assertThat(mm.validate()).isZero();
    }

    @Test
    void anObserverSeesEveryAllocationAndAtomicContextIsStillReported() {
        MemoryManager mm = plain();
        int[] seen = new int[1];
        mm.pages().setAllocObserver((gfp, order, nanos, ok) -> seen[0]++);
        for (int i = 0; i < 10; i++) {
            mm.freePages(mm.allocPages(Gfp.KERNEL, 0));
        }
        assertThat(seen[0]).isEqualTo(10);
        mm.pages().setAllocObserver(null);
        Task t = Task.current();
        t.preemptCountAdd(1);
        try {
            mm.freePages(mm.allocPages(Gfp.KERNEL, 0));
        } finally {
            t.preemptCountSub(1);
        }
        assertThat(mm.log().dmesg()).contains("BUG: sleeping function called from invalid context");
    }
}
