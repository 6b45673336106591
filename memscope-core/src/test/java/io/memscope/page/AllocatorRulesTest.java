package io.memscope.page;

import static io.memscope.page.HeldPages.exhaust;
import static io.memscope.page.HeldPages.freeAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memscope.MemoryManager;
import io.memscope.debug.KernelPanicException;
import io.memscope.gfp.Gfp;
import io.memscope.gfp.ZoneType;
import io.memscope.sched.Task;
import io.memscope.stat.VmItem;
import io.memscope.testkit.Machines;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Buddy, topology and slow-path rules of mm/page_alloc.c against live machines. */
// Retry loops here are uninterruptible (as the kernel's are): only a separate-thread timeout can fail them.
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AllocatorRulesTest {
    @RegisterExtension
    final Machines machines = new Machines();

    /** One Normal zone of 16 MiB (4096 pages), one slot. */
    private MemoryManager small(java.util.function.Consumer<MemoryManager.Builder> more) {
        return machines.create(b -> {
            b.zonePages(new long[][] {{0, 0, 4096, 0}}).cpuSlots(1);
            more.accept(b);
        });
    }

    @Test
    void metadataIsThirtyTwoBytesPerPage() {
        MemoryManager mm = small(b -> { });
        assertThat(mm.pages().pageTable().bytesPerPage()).isEqualTo(32.0);
        assertThat(PageTableDescriptor.BYTES_PER_PAGE).isEqualTo(32);
        // Everything that grows with memory is the page record: the zone of each page and the
        // type of each pageblock live in word 7, not in side tables.
        long pages = mm.pages().totalPages();
        assertThat(mm.pages().metadataBytes()).isEqualTo(pages * 32);
    }

    @Test
    void buddySplitsAndMergesBack() {
        // No debug quarantine here: a quarantined block would (rightly) not merge back yet.
        MemoryManager mm = small(b -> b.quarantinePages(0));
        String boot = mm.buddyinfo();
        assertThat(boot).isEqualTo("Node 0, zone   Normal      0      0      0      0      0      0      0      0"
                + "      0      0      4 \n");
        long h = mm.allocPages(Gfp.KERNEL | Gfp.COMP, 3);
        assertThat(mm.pages().pageTable().pageFlags(PageHandle.pfn(h)) & PageTableDescriptor.FLAG_HEAD).isNotZero();
        assertThat(mm.pages().pageTable().pageFlags(PageHandle.pfn(h) + 7) & PageTableDescriptor.FLAG_TAIL).isNotZero();
        assertThat(mm.validate()).isZero();
        mm.freePages(h);
        mm.drainAllPages();
        assertThat(mm.buddyinfo()).isEqualTo(boot);
        assertThat(mm.pages().pageTable().pageFlags(PageHandle.pfn(h) + 7)).isZero();
    }

    @Test
    void order10BlocksExhaustTheZoneThenFail() {
        MemoryManager mm = small(b -> { });
        List<Long> held = new ArrayList<>();
        for (long h; (h = mm.allocPages(Gfp.KERNEL | Gfp.NOWARN | Gfp.NORETRY | Gfp.HIGH, 10)) != PageHandle.NULL; ) {
            held.add(h);
        }
        // The watermark keeps at least min free: 3 of 4 blocks can be handed out at most.
        assertThat(held).hasSizeBetween(1, 3);
        freeAll(mm, held);
    }

    @Test
    void zeroFlagAndInitOnAllocZeroTheBlock() {
        MemoryManager mm = small(b -> b.debug(true));
        long h = mm.allocPages(Gfp.KERNEL | Gfp.ZERO, 1);
        assertThat(mm.segment(h).byteSize()).isEqualTo(8192);
        assertThat(mm.segment(h).elements(java.lang.foreign.ValueLayout.JAVA_BYTE).allMatch(s -> s.get(
                java.lang.foreign.ValueLayout.JAVA_BYTE, 0) == 0)).isTrue();
        mm.freePages(h);
    }

    @Test
    void zonelistIsLocalNodeHighestZoneFirst() {
        MemoryManager mm = machines.create(b -> b.memoryBytes(256L << 20).nodes(2));
        Zone[] zl = mm.pages().zonelist(0, false);
        assertThat(zl).extracting(Zone::toString)
                .containsExactly("Node 0 Normal", "Node 0 DMA32", "Node 0 DMA", "Node 1 Normal");
        assertThat(mm.pages().zonelist(1, false)).extracting(Zone::toString)
                .containsExactly("Node 1 Normal", "Node 0 Normal", "Node 0 DMA32", "Node 0 DMA");
        assertThat(mm.pages().zonelist(1, true)).extracting(Zone::toString).containsExactly("Node 1 Normal");
    }

    @Test
    void gfpZoneLimitsTheHighestZone() {
        MemoryManager mm = machines.create(b -> b.memoryBytes(128L << 20));
        long dma = mm.allocPages(Gfp.KERNEL | Gfp.DMA, 0);
        long dma32 = mm.allocPages(Gfp.KERNEL | Gfp.DMA32, 0);
        long normal = mm.allocPages(Gfp.KERNEL, 0);
        assertThat(mm.pages().zoneOf(PageHandle.pfn(dma)).type()).isEqualTo(ZoneType.DMA);
        assertThat(mm.pages().zoneOf(PageHandle.pfn(dma32)).type()).isEqualTo(ZoneType.DMA32);
        assertThat(mm.pages().zoneOf(PageHandle.pfn(normal)).type()).isEqualTo(ZoneType.NORMAL);
        mm.freePages(dma);
        mm.freePages(dma32);
        mm.freePages(normal);
        assertThatThrownBy(() -> mm.allocPages(Gfp.DMA | Gfp.DMA32, 0)).isInstanceOf(InvalidGfpMaskException.class)
                .hasMessageContaining("GFP_ZONE_BAD");
    }

    @Test
    void fallsBackToLowerZoneThenOtherNodeButThisnodeDoesNot() {
        MemoryManager mm = machines.create(b -> b.zonePages(new long[][] {{0, 1024, 1024, 0}, {0, 0, 1024, 0}})
                .cpuSlots(1));
        List<Long> held = exhaust(mm, Gfp.KERNEL);
        long n0n = held.stream().filter(h -> mm.pages().zoneOf(PageHandle.pfn(h)).toString().equals("Node 0 Normal")).count();
        long n0d = held.stream().filter(h -> mm.pages().zoneOf(PageHandle.pfn(h)).toString().equals("Node 0 DMA32")).count();
        long n1 = held.stream().filter(h -> mm.pages().zoneOf(PageHandle.pfn(h)).nid() == 1).count();
        assertThat(n0n).isGreaterThan(900);
        assertThat(n0d).isGreaterThan(800);
        assertThat(n1).isGreaterThan(900);
        // THISNODE on node 1 after node 1 is exhausted: fails, even though node 0 has (reserve) pages.
        freeAll(mm, held);
        List<Long> onNode1 = new ArrayList<>();
        for (long h; (h = mm.allocPagesNode(1, Gfp.KERNEL | Gfp.THISNODE | Gfp.NOWARN, 0)) != PageHandle.NULL; ) {
            onNode1.add(h);
        }
        assertThat(onNode1).allMatch(h -> mm.pages().zoneOf(PageHandle.pfn(h)).nid() == 1).isNotEmpty();
        freeAll(mm, onNode1);
    }

    @Test
    void hardwallHonoursMemsAllowedButKernelMaskEscapesInTheSlowPath() throws Exception {
        MemoryManager mm = machines.create(b -> b.zonePages(new long[][] {{0, 0, 1024, 0}, {0, 0, 1024, 0}})
                .cpuSlots(1));
        List<Long> user = new ArrayList<>();
        long[] kernel = new long[1];
        Thread t = Thread.ofPlatform().start(() -> {
            Task.current().setMemsAllowed(0b10);
            for (long h; (h = mm.allocPages(Gfp.USER | Gfp.NOWARN, 0)) != PageHandle.NULL; ) {
                user.add(h);
            }
            kernel[0] = mm.allocPages(Gfp.KERNEL | Gfp.NOWARN, 0);
        });
        t.join();
        assertThat(user).isNotEmpty().allMatch(h -> mm.pages().zoneOf(PageHandle.pfn(h)).nid() == 1);
        assertThat(kernel[0]).isNotEqualTo(PageHandle.NULL);
        assertThat(mm.pages().zoneOf(PageHandle.pfn(kernel[0])).nid()).isZero();
        freeAll(mm, user);
        mm.freePages(kernel[0]);
    }

    @Test
    void orderAboveMaxWarnsOrIsSilentWithNowarnT38() {
        MemoryManager quiet = small(b -> b.panicOnWarn(false));
        assertThat(quiet.allocPages(Gfp.KERNEL | Gfp.NOWARN, 11)).isEqualTo(PageHandle.NULL);
        assertThat(quiet.log().warnCount()).isZero();
        assertThat(quiet.allocPages(Gfp.KERNEL, 11)).isEqualTo(PageHandle.NULL);
        assertThat(quiet.log().warnCount()).isEqualTo(1);
        MemoryManager strict = small(b -> { });
        assertThatThrownBy(() -> strict.allocPages(Gfp.KERNEL, 11)).isInstanceOf(KernelPanicException.class)
                .hasMessageContaining("order 11 > MAX_PAGE_ORDER 10");
    }

    /** Counts hook calls. */
    private static final class Counting implements DirectReclaimer, OomKiller {
        final AtomicInteger reclaims = new AtomicInteger();
        final AtomicInteger ooms = new AtomicInteger();
        final long reclaimable;
        final boolean oomResult;

        Counting(long reclaimable, boolean oomResult) {
            this.reclaimable = reclaimable;
            this.oomResult = oomResult;
        }

        @Override
        public long tryToFreePages(PageAllocator a, int gfp, int order, long nodemask) {
            reclaims.incrementAndGet();
            return 0;
        }

        @Override
        public long zoneReclaimablePages(Zone zone) {
            return reclaimable;
        }

        @Override
        public boolean outOfMemory(int gfp, int order) {
            ooms.incrementAndGet();
            return oomResult || (gfp & Gfp.FS) == 0;
        }
    }

    private MemoryManager withHooks(Counting c) {
        return small(b -> b.directReclaimer(c).oomKiller(c).panicOnWarn(false));
    }

    @Test
    void noretryReclaimsOnceAndNeverOomsT33() {
        Counting c = new Counting(0, false);
        MemoryManager mm = withHooks(c);
        List<Long> held = exhaust(mm, Gfp.KERNEL);
        assertThat(mm.allocPages(Gfp.KERNEL | Gfp.NORETRY, 0)).isEqualTo(PageHandle.NULL);
        assertThat(c.ooms.get()).isZero();
        assertThat(mm.log().dmesg()).contains("page allocation failure: order:0, mode:0x10cc0(GFP_KERNEL|__GFP_NORETRY)");
        freeAll(mm, held);
    }

    @Test
    void retryMayfailLoopsSeventeenTimesAndNeverOomsT31T40() {
        Counting c = new Counting(1 << 20, false);
        MemoryManager mm = withHooks(c);
        List<Long> held = exhaust(mm, Gfp.KERNEL);
        int before = c.reclaims.get();
        assertThat(mm.allocPages(Gfp.KERNEL | Gfp.RETRY_MAYFAIL | Gfp.NOWARN, 0)).isEqualTo(PageHandle.NULL);
        assertThat(c.reclaims.get() - before).isEqualTo(SlowPath.MAX_RECLAIM_RETRIES + 1);
        assertThat(c.ooms.get()).isZero();
        freeAll(mm, held);
    }

    @Test
    void costlyOrderFailsAfterOneRoundWithoutOomT32T41() {
        Counting c = new Counting(1 << 20, false);
        MemoryManager mm = withHooks(c);
        List<Long> held = new ArrayList<>();
        for (long h; (h = mm.allocPages(Gfp.KERNEL | Gfp.NOWARN | Gfp.NORETRY, 4)) != PageHandle.NULL; ) {
            held.add(h);
        }
        long stalls = mm.vmstat().get(VmItem.COMPACT_STALL);
        int reclaimsBefore = c.reclaims.get(); // the fill loop's last, failing request reclaimed too
        assertThat(mm.allocPages(Gfp.KERNEL, 4)).isEqualTo(PageHandle.NULL);
        assertThat(c.reclaims.get() - reclaimsBefore).isEqualTo(1);
        assertThat(c.ooms.get()).isZero();
        assertThat(mm.vmstat().get(VmItem.COMPACT_STALL) - stalls).isEqualTo(2); // compact first, then after reclaim
        assertThat(mm.log().dmesg()).contains("page allocation failure: order:4, mode:0xcc0(GFP_KERNEL)");
        freeAll(mm, held);
    }

    @Test
    void dma32AndThisnodeSkipTheOomKillerT34T35() {
        Counting c = new Counting(0, true);
        MemoryManager mm = machines.create(b -> b.zonePages(new long[][] {{0, 1024, 1024, 0}}).cpuSlots(1)
                .directReclaimer(c).oomKiller(c).panicOnWarn(false));
        List<Long> held = exhaust(mm, Gfp.KERNEL);
        // lowmem_reserve kept a few DMA32 pages from the GFP_KERNEL requests; a DMA32 request may
        // use them (its own reserve is 0), so exhaust DMA32 with DMA32 requests too.
        held.addAll(exhaust(mm, Gfp.KERNEL | Gfp.DMA32));
        assertThat(mm.allocPages(Gfp.KERNEL | Gfp.DMA32 | Gfp.NOWARN, 0)).isEqualTo(PageHandle.NULL);
        assertThat(mm.allocPagesNode(0, Gfp.KERNEL | Gfp.THISNODE | Gfp.NOWARN, 0)).isEqualTo(PageHandle.NULL);
        assertThat(c.ooms.get()).isZero();
        freeAll(mm, held);
    }

    @Test
    void defaultModeCallsOomOnceThenFailsWhenNothingCanBeKilled() {
        Counting c = new Counting(0, false);
        MemoryManager mm = withHooks(c);
        List<Long> held = exhaust(mm, Gfp.KERNEL);
        assertThat(mm.allocPages(Gfp.KERNEL | Gfp.NOWARN, 0)).isEqualTo(PageHandle.NULL);
        assertThat(c.ooms.get()).isEqualTo(1);
        freeAll(mm, held);
    }

    @Test
    void nofsNeverFailsAtOomAndKeepsRetryingUntilMemoryIsFreedT30() throws Exception {
        Counting c = new Counting(0, false);
        MemoryManager mm = withHooks(c);
        List<Long> held = exhaust(mm, Gfp.KERNEL);
        Thread freer = Thread.ofPlatform().start(() -> {
            while (c.ooms.get() < 5) {
                Thread.onSpinWait();
            }
            // One page would not lift the zone above its min watermark; give memory back for real.
            freeAll(mm, held);
            mm.drainAllPages();
        });
        long h = mm.allocPages(Gfp.NOFS, 0);
        freer.join();
        assertThat(h).isNotEqualTo(PageHandle.NULL);
        assertThat(c.ooms.get()).isGreaterThanOrEqualTo(5);
        mm.freePages(h);
        freeAll(mm, held);
    }

    @Test
    void nofailNeverReturnsNullT37() throws Exception {
        Counting c = new Counting(0, true);
        MemoryManager mm = small(b -> b.directReclaimer(c).oomKiller(c));
        List<Long> held = exhaust(mm, Gfp.KERNEL);
        // Use up the NO_WATERMARKS reserve too, so only a free can satisfy the request. NORETRY:
        // a plain GFP_KERNEL order-0 request is "too small to fail" and would loop here forever.
        for (long h; (h = mm.allocPages(Gfp.KERNEL | Gfp.MEMALLOC | Gfp.NORETRY | Gfp.NOWARN, 0)) != PageHandle.NULL; ) {
            held.add(h);
        }
        java.util.concurrent.atomic.AtomicReference<Throwable> freerFailure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread freer = Thread.ofPlatform().start(() -> {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(500);
            while (c.ooms.get() < 3 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            try {
                freeAll(mm, held); // memory comes back only now; the NOFAIL request must still be waiting
                mm.drainAllPages();
            } catch (Throwable t) {
                freerFailure.set(t);
            }
        });
        long h = mm.allocPages(Gfp.KERNEL | Gfp.NOFAIL, 0);
        freer.join();
        assertThat(freerFailure.get()).isNull();
        assertThat(h).as("__GFP_NOFAIL never returns NULL").isNotEqualTo(PageHandle.NULL);
        assertThat(c.reclaims.get()).as("it kept retrying reclaim while memory was gone").isPositive();
        mm.freePages(h);
    }

    @Test
    void nofailWithoutDirectReclaimWarnsAndFailsT36() {
        MemoryManager quiet = small(b -> b.panicOnWarn(false));
        List<Long> held = exhaust(quiet, Gfp.ATOMIC);
        assertThat(quiet.allocPages(Gfp.ATOMIC | Gfp.NOFAIL | Gfp.NOWARN, 0)).isEqualTo(PageHandle.NULL);
        assertThat(quiet.log().dmesg()).contains("__GFP_NOFAIL without __GFP_DIRECT_RECLAIM");
        freeAll(quiet, held);
    }

    @Test
    void pfmemallocTaskUsesAllReservesButNeverReclaimsT27T28() throws Exception {
        Counting c = new Counting(0, false);
        MemoryManager mm = withHooks(c);
        List<Long> held = exhaust(mm, Gfp.KERNEL);
        List<Long> reserve = new ArrayList<>();
        long[] nomem = new long[1];
        Thread t = Thread.ofPlatform().start(() -> {
            Task.current().becomeKernelThread(Task.PF_MEMALLOC);
            nomem[0] = mm.allocPages(Gfp.KERNEL | Gfp.NOMEMALLOC | Gfp.NORETRY | Gfp.NOWARN, 0);
            for (long h; (h = mm.allocPages(Gfp.KERNEL | Gfp.NOWARN, 0)) != PageHandle.NULL; ) {
                reserve.add(h);
            }
        });
        t.join();
        assertThat(nomem[0]).isEqualTo(PageHandle.NULL);
        assertThat(reserve).hasSizeGreaterThan(50); // the whole min reserve
        assertThat(c.reclaims.get()).isEqualTo(1); // only the NOMEMALLOC|NORETRY request reclaimed
        freeAll(mm, reserve);
        freeAll(mm, held);
    }

    @Test
    void atomicGetsDeeperThanNowaitAndHighatomicIsReserved() {
        MemoryManager mm = small(b -> b.panicOnWarn(false));
        List<Long> held = exhaust(mm, Gfp.NOWAIT);
        // Below the low watermark the fast path fails; the slow path gives a high-order atomic
        // request ALLOC_HIGHATOMIC, and its success reserves a pageblock (reserve_highatomic_pageblock).
        long h = mm.allocPages(Gfp.ATOMIC, 1);
        assertThat(h).isNotEqualTo(PageHandle.NULL);
        assertThat(mm.pages().zones()[0].reservedHighatomic()).isEqualTo(Zone.PAGEBLOCK_PAGES);
        mm.freePages(h);
        List<Long> atomic = exhaust(mm, Gfp.ATOMIC);
        assertThat(atomic).as("GFP_ATOMIC goes deeper than GFP_NOWAIT").isNotEmpty();
        freeAll(mm, atomic);
        freeAll(mm, held);
    }

    @Test
    void warnAllocIsRatelimitedAndSuppressedByNowarnT39() {
        MemoryManager mm = small(b -> b.panicOnWarn(false));
        List<Long> held = exhaust(mm, Gfp.ATOMIC);
        mm.log().drain();
        assertThat(mm.allocPages(Gfp.ATOMIC | Gfp.NOWARN, 0)).isEqualTo(PageHandle.NULL);
        assertThat(mm.log().entries()).isEmpty();
        assertThat(mm.allocPages(Gfp.ATOMIC, 0)).isEqualTo(PageHandle.NULL);
        assertThat(mm.allocPages(Gfp.ATOMIC, 0)).isEqualTo(PageHandle.NULL);
        List<String> failures = mm.log().lines().stream().filter(l -> l.contains("page allocation failure")).toList();
        String comm = Task.current().comm();
        assertThat(failures).containsExactly(comm
                + ": page allocation failure: order:0, mode:0x820(GFP_ATOMIC), nodemask=(null),cpuset=/,mems_allowed=0");
        assertThat(mm.log().dmesg()).contains("Mem-Info:").contains("lowmem_reserve[]: 0 0 0 0")
                .containsPattern("Node 0 Normal: \\d+\\*4kB");
        freeAll(mm, held);
    }
}
