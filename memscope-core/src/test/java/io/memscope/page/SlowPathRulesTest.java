package io.memscope.page;

import static io.memscope.page.HeldPages.exhaust;
import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.sched.Task;
import io.memscope.stat.VmItem;
import io.memscope.testkit.Machines;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import java.util.function.IntToLongFunction;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The retry modifiers, compaction priorities and __GFP_NOFAIL rules of {@code __alloc_pages_slowpath}
 * (KERNEL.md §3.5–3.9), observed through the allocator's hooks: how often reclaim, compaction and the
 * OOM killer are called, at which compaction priority, and what is warned.
 */
// Retry loops are uninterruptible (as the kernel's are): only a separate-thread timeout can fail them.
// The hooks also throw once they have been called HOOK_CALL_BOUND times, so a loop that should have
// ended fails the test at once instead of at the timeout.
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SlowPathRulesTest {
    private static final int HOOK_CALL_BOUND = 2000;

    @RegisterExtension
    final Machines machines = new Machines();

    /** The allocator's hooks, counting calls; what each returns is set per test. */
    private static final class Hooks implements DirectReclaimer, OomKiller, Compactor {
        final AtomicInteger reclaims = new AtomicInteger();
        final AtomicInteger reclaimableCalls = new AtomicInteger();
        final AtomicInteger ooms = new AtomicInteger();
        final List<Integer> priorities = new CopyOnWriteArrayList<>();
        /** Whether PF_MEMALLOC was set during each compaction call. */
        final List<Boolean> compactedUnderMemalloc = new CopyOnWriteArrayList<>();
        private final AtomicInteger calls = new AtomicInteger();
        /** Call number (from 1) → pages reported reclaimed. */
        volatile IntToLongFunction onReclaim = n -> 0;
        /** Call number (from 1) → compaction result. */
        volatile IntFunction<Compactor.Result> onCompact = n -> Compactor.Result.COMPLETE;
        /** Call number (from 1) → 1 for "progress". */
        volatile IntUnaryOperator onOom = n -> 0;
        volatile long reclaimable;

        /** Forgets the calls made while the test set its machine up. */
        void reset() {
            reclaims.set(0);
            reclaimableCalls.set(0);
            ooms.set(0);
            priorities.clear();
            calls.set(0);
        }

        private void bound() {
            if (calls.incrementAndGet() > HOOK_CALL_BOUND) {
                throw new IllegalStateException("the slow path kept looping: " + HOOK_CALL_BOUND + " hook calls");
            }
        }

        @Override
        public long tryToFreePages(PageAllocator a, int gfp, int order, long nodemask) {
            bound();
            return onReclaim.applyAsLong(reclaims.incrementAndGet());
        }

        @Override
        public long zoneReclaimablePages(Zone zone) {
            reclaimableCalls.incrementAndGet();
            return reclaimable;
        }

        @Override
        public Result tryToCompactPages(PageAllocator allocator, int gfp, int order, int priority) {
            bound();
            priorities.add(priority);
            compactedUnderMemalloc.add(io.memscope.sched.Task.current().hasFlags(io.memscope.sched.Task.PF_MEMALLOC));
            return onCompact.apply(priorities.size());
        }

        @Override
        public boolean outOfMemory(int gfp, int order) {
            bound();
            return onOom.applyAsInt(ooms.incrementAndGet()) != 0;
        }
    }

    /** One Normal zone of 16 MiB (4096 pages), one slot, no quarantine, the hooks; WARN does not panic. */
    private MemoryManager small(Hooks h) {
        return machines.create(b -> b.zonePages(new long[][] {{0, 0, 4096, 0}}).cpuSlots(1).quarantinePages(0)
                .directReclaimer(h).oomKiller(h).compactor(h).panicOnWarn(false));
    }

    private static void freeAll(MemoryManager mm, List<Long> held) {
        HeldPages.freeAll(mm, held);
        mm.drainAllPages();
    }

    // ------------------------------------------------------------------ costly orders

    @Test
    void costlyNoretryThisnodeGivesUpAfterTheAsyncCompactionAlone() {
        Hooks h = new Hooks();
        MemoryManager mm = small(h);
        List<Long> held = exhaust(mm, Gfp.KERNEL, new ArrayList<>());
        h.reset();
        long stalls = mm.vmstat().get(VmItem.COMPACT_STALL);
        // The THP-fault shape: compaction first (async), and no reclaim at all for NORETRY|THISNODE.
        assertThat(mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.THISNODE | Gfp.NOWARN, 4)).isEqualTo(PageHandle.NULL);
        assertThat(h.reclaims.get()).isZero();
        assertThat(h.priorities).containsExactly(Compactor.PRIO_ASYNC);
        assertThat(mm.vmstat().get(VmItem.COMPACT_STALL) - stalls).isEqualTo(1);
        assertThat(h.compactedUnderMemalloc).as("__alloc_pages_direct_compact: memalloc_noreclaim_save()")
                .containsExactly(true);
        assertThat(io.memscope.sched.Task.current().hasFlags(io.memscope.sched.Task.PF_MEMALLOC))
                .as("restored afterwards").isFalse();
        assertThat(h.ooms.get()).isZero();
        freeAll(mm, held);
    }

    @Test
    void costlyNoretryReclaimsOnceAndKeepsCompactionAsync() {
        Hooks h = new Hooks();
        MemoryManager mm = small(h);
        List<Long> held = exhaust(mm, Gfp.KERNEL, new ArrayList<>());
        h.reset();
        long stalls = mm.vmstat().get(VmItem.COMPACT_STALL);
        assertThat(mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, 4)).isEqualTo(PageHandle.NULL);
        assertThat(h.reclaims.get()).as("one reclaim round").isEqualTo(1);
        // NORETRY keeps INIT_COMPACT_PRIORITY after the first compaction: sync compaction is too dear.
        assertThat(h.priorities).containsExactly(Compactor.PRIO_ASYNC, Compactor.PRIO_ASYNC);
        assertThat(mm.vmstat().get(VmItem.COMPACT_STALL) - stalls).isEqualTo(2);
        assertThat(h.ooms.get()).isZero();
        freeAll(mm, held);
    }

    @Test
    void costlyRetryMayfailRetriesCompactionFourTimesAndStopsAtSyncLight() {
        Hooks h = new Hooks();
        MemoryManager mm = small(h);
        List<Long> held = exhaust(mm, Gfp.KERNEL, new ArrayList<>());
        h.onReclaim = n -> 1; // reclaim reports progress (so should_compact_retry is asked) but frees nothing
        int mayfail = Gfp.KERNEL | Gfp.RETRY_MAYFAIL | Gfp.NOWARN;

        // Compaction reports SUCCESS but the page is gone again (taken by someone else): a costly order
        // retries MAX_COMPACT_RETRIES / 4 = 4 times at DEF priority, then may not go below SYNC_LIGHT.
        h.reset();
        h.onCompact = n -> Compactor.Result.SUCCESS;
        assertThat(mm.allocPages(mayfail, 4)).isEqualTo(PageHandle.NULL);
        assertThat(h.priorities).containsExactly(Compactor.PRIO_ASYNC, Compactor.PRIO_SYNC_LIGHT,
                Compactor.PRIO_SYNC_LIGHT, Compactor.PRIO_SYNC_LIGHT, Compactor.PRIO_SYNC_LIGHT,
                Compactor.PRIO_SYNC_LIGHT);
        assertThat(h.reclaims.get()).isEqualTo(5);
        assertThat(h.ooms.get()).as("costly orders never OOM").isZero();

        // Compaction failed (COMPLETE): escalation is allowed to SYNC_FULL for order 3 only.
        h.reset();
        h.onCompact = n -> Compactor.Result.COMPLETE;
        assertThat(mm.allocPages(mayfail, 4)).isEqualTo(PageHandle.NULL);
        assertThat(h.priorities).containsExactly(Compactor.PRIO_ASYNC, Compactor.PRIO_SYNC_LIGHT);
        h.reset();
        assertThat(mm.allocPages(mayfail, 3)).isEqualTo(PageHandle.NULL);
        assertThat(h.priorities).containsExactly(Compactor.PRIO_ASYNC, Compactor.PRIO_SYNC_LIGHT,
                Compactor.PRIO_SYNC_FULL);
        assertThat(h.ooms.get()).as("RETRY_MAYFAIL never OOMs").isZero();
        freeAll(mm, held);
    }

    // ------------------------------------------------------------------ __GFP_NOFAIL

    @Test
    void nofailWhenTheOomKillerMakesNoProgressWarnsUnlessNowarnAndIgnoresWatermarks() {
        Hooks h = new Hooks(); // OOM: no progress (a __GFP_FS request with nothing to kill)
        MemoryManager mm = small(h);
        List<Long> held = exhaust(mm, Gfp.KERNEL, new ArrayList<>());
        h.reset();
        long quiet = mm.allocPages(Gfp.KERNEL | Gfp.NOFAIL | Gfp.NOWARN, 0);
        assertThat(quiet).as("ALLOC_NO_WATERMARKS fallback after the OOM attempt").isNotEqualTo(PageHandle.NULL);
        assertThat(h.ooms.get()).isEqualTo(1);
        assertThat(h.reclaims.get()).isEqualTo(1);
        assertThat(mm.log().warnCount()).as("WARN_ON_ONCE_GFP: silenced by __GFP_NOWARN").isZero();

        long loud = mm.allocPages(Gfp.KERNEL | Gfp.NOFAIL, 0);
        assertThat(loud).isNotEqualTo(PageHandle.NULL);
        assertThat(h.ooms.get()).isEqualTo(2);
        assertThat(mm.log().warnCount()).isEqualTo(1);
        assertThat(mm.log().dmesg()).contains("at mm/page_alloc.c __alloc_pages_may_oom")
                .contains("__GFP_NOFAIL request and the OOM killer made no progress: order:0");
        mm.freePages(quiet);
        mm.freePages(loud);
        freeAll(mm, held);
    }

    @Test
    void nofailTakesTheMinReserveAtNopageButNoDeeper() throws Exception {
        Hooks h = new Hooks();
        MemoryManager mm = small(h);
        List<Long> held = exhaust(mm, Gfp.KERNEL, new ArrayList<>()); // down to the min watermark
        h.reset();
        assertThat(mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, 0)).isEqualTo(PageHandle.NULL);
        long h1 = mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOFAIL, 0);
        assertThat(h1).as("ALLOC_MIN_RESERVE (min/2) at nopage").isNotEqualTo(PageHandle.NULL);
        assertThat(h.reclaims.get()).isEqualTo(2);
        assertThat(h.ooms.get()).as("NORETRY never OOMs").isZero();

        // Below min/2 the nopage fallback fails too, and it never uses ALLOC_NO_WATERMARKS: the
        // request loops (one reclaim per loop) until memory is freed.
        exhaust(mm, Gfp.KERNEL | Gfp.HIGH, held);
        h.reset();
        Freer freer = freeWhen(() -> h.reclaims.get() >= 5, mm, held);
        long h2 = mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOFAIL, 0);
        freer.join();
        assertThat(h2).isNotEqualTo(PageHandle.NULL);
        assertThat(h.reclaims.get()).isGreaterThanOrEqualTo(5);
        assertThat(h.ooms.get()).isZero();
        assertThat(mm.log().warnCount()).isZero();
        mm.freePages(h1);
        mm.freePages(h2);
    }

    @Test
    void nofailFromPfMemallocWarnsEvenWithNowarn() throws Exception {
        Hooks h = new Hooks();
        MemoryManager mm = small(h);
        List<Long> held = exhaust(mm, Gfp.KERNEL, new ArrayList<>()); // the slow path will be entered
        h.reset();
        long[] got = new long[1];
        Thread t = Thread.ofPlatform().start(() -> {
            Task.current().becomeKernelThread(Task.PF_MEMALLOC);
            got[0] = mm.allocPages(Gfp.KERNEL | Gfp.NOFAIL | Gfp.NOWARN, 0);
        });
        t.join();
        assertThat(got[0]).as("PF_MEMALLOC: ALLOC_NO_WATERMARKS").isNotEqualTo(PageHandle.NULL);
        assertThat(h.reclaims.get()).isZero();
        assertThat(mm.log().warnCount()).isEqualTo(1);
        assertThat(mm.log().dmesg()).contains("at mm/page_alloc.c __alloc_pages_slowpath")
                .contains("__GFP_NOFAIL from a PF_MEMALLOC context: order:0");
        mm.freePages(got[0]);
        freeAll(mm, held);
    }

    @Test
    void nofailLoopsBackToRetryKeepingCompactionPriority() {
        Hooks h = new Hooks();
        MemoryManager mm = small(h);
        // Below min/2: the nopage MIN_RESERVE fallback cannot serve order 4 either.
        List<Long> held = exhaust(mm, Gfp.KERNEL | Gfp.HIGH, exhaust(mm, Gfp.KERNEL, new ArrayList<>()));
        h.reset();
        h.onCompact = n -> {
            if (n < 4) {
                return Compactor.Result.COMPLETE;
            }
            freeAll(mm, held); // the fourth compaction "finds" the memory
            return Compactor.Result.SUCCESS;
        };
        long page = mm.allocPages(Gfp.KERNEL | Gfp.NOFAIL, 4);
        assertThat(page).isNotEqualTo(PageHandle.NULL);
        // Async compaction once (compact_first), then SYNC_LIGHT on every loop: nopage goes back to
        // retry, not restart, so neither compact_first nor the priority is set up again.
        assertThat(h.priorities).containsExactly(Compactor.PRIO_ASYNC, Compactor.PRIO_SYNC_LIGHT,
                Compactor.PRIO_SYNC_LIGHT, Compactor.PRIO_SYNC_LIGHT);
        assertThat(h.reclaims.get()).isEqualTo(3);
        assertThat(h.ooms.get()).isZero();
        mm.freePages(page);
    }

    @Test
    void nofailLoopsBackToRetryKeepingNoProgressLoops() {
        Hooks h = new Hooks();
        h.reclaimable = 1 << 20; // should_reclaim_retry would pass its watermark check every time
        MemoryManager mm = small(h);
        List<Long> held = exhaust(mm, Gfp.KERNEL | Gfp.HIGH, exhaust(mm, Gfp.KERNEL, new ArrayList<>()));
        h.reset();
        h.onReclaim = n -> {
            if (n < 20) {
                return 0;
            }
            int freed = held.size();
            freeAll(mm, held);
            return freed;
        };
        // THISNODE: no OOM killer, so every loop that gives up reaches nopage.
        long page = mm.allocPages(Gfp.KERNEL | Gfp.THISNODE | Gfp.NOFAIL, 0);
        assertThat(page).isNotEqualTo(PageHandle.NULL);
        assertThat(h.reclaims.get()).isEqualTo(20);
        // Loops 1-16 check the zones; from loop 17 on no_progress_loops > 16 gives up at once. A
        // restart would have reset the counter and checked the zones again on loops 18 and 19.
        assertThat(h.reclaimableCalls.get()).isEqualTo(SlowPath.MAX_RECLAIM_RETRIES);
        assertThat(h.ooms.get()).isZero();
        mm.freePages(page);
    }

    @Test
    void nofailWithNoEligibleZoneLoopsUntilMemoryIsFreed() throws Exception {
        Hooks h = new Hooks();
        // Node 0: DMA32 + Normal; node 1: Normal only.
        MemoryManager mm = machines.create(b -> b.zonePages(new long[][] {{0, 1024, 1024, 0}, {0, 0, 1024, 0}})
                .cpuSlots(1).quarantinePages(0).directReclaimer(h).oomKiller(h).compactor(h).panicOnWarn(false));
        List<Long> held = exhaust(mm, Gfp.KERNEL | Gfp.DMA32 | Gfp.MEMALLOC,
                exhaust(mm, Gfp.KERNEL | Gfp.DMA32, new ArrayList<>()));
        assertThat(held).allMatch(p -> mm.pages().zoneOf(PageHandle.pfn(p)).toString().equals("Node 0 DMA32"));
        h.reset();
        Freer freer = freeWhen(() -> h.reclaims.get() >= 3, mm, held);
        // A DMA32 request bound to node 1, which has no DMA32 zone: no eligible zone, so the slow path
        // starts at nopage. NOFAIL goes on to retry, where __GFP_MEMALLOC drops the nodemask; node 0's
        // DMA32 zone is empty down to its last page, so it loops until the freer gives memory back.
        long page = mm.pages().allocInternal(Task.current(), 1, Gfp.KERNEL | Gfp.DMA32 | Gfp.MEMALLOC | Gfp.NOFAIL, 0,
                1L << 1);
        freer.join();
        assertThat(page).as("__GFP_NOFAIL never returns NULL").isNotEqualTo(PageHandle.NULL);
        assertThat(mm.pages().zoneOf(PageHandle.pfn(page)).toString()).isEqualTo("Node 0 DMA32");
        assertThat(h.reclaims.get()).isGreaterThanOrEqualTo(3);
        assertThat(h.ooms.get()).as("DMA32-only requests never OOM").isZero();
        assertThat(mm.log().dmesg()).doesNotContain("page allocation failure");
        mm.freePages(page);
    }

    // ------------------------------------------------------------------ cpuset cookie

    @Test
    void aCpusetChangeDuringTheSlowPathRestartsIt() throws Exception {
        Hooks h = new Hooks();
        h.reclaimable = 1 << 20;
        MemoryManager mm = small(h);
        List<Long> held = exhaust(mm, Gfp.KERNEL, new ArrayList<>());
        h.reset();
        h.onReclaim = n -> {
            if (n == 5) {
                Task.current().setMemsAllowed(1L); // the task is moved to a cpuset (read_mems_allowed_retry)
            }
            return 0;
        };
        long[] got = new long[1];
        Thread t = Thread.ofPlatform().start(() -> got[0] = mm.allocPages(Gfp.KERNEL | Gfp.RETRY_MAYFAIL | Gfp.NOWARN, 0));
        t.join();
        assertThat(got[0]).isEqualTo(PageHandle.NULL);
        // 5 reclaims, then restart (no_progress_loops reset), then the full 17 before giving up.
        assertThat(h.reclaims.get()).isEqualTo(5 + SlowPath.MAX_RECLAIM_RETRIES + 1);
        freeAll(mm, held);
    }

    /** A thread that frees {@code held} once {@code ready} holds (or after 5 s in any case). */
    private record Freer(Thread thread, AtomicReference<Throwable> failure) {
        void join() throws InterruptedException {
            thread.join();
            assertThat(failure.get()).as("the freeing thread").isNull();
        }
    }

    private static Freer freeWhen(BooleanSupplier ready, MemoryManager mm, List<Long> held) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!ready.getAsBoolean() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            try {
                freeAll(mm, held); // memory comes back only now; the request must still be waiting
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        return new Freer(t, failure);
    }
}
