package io.memscope.reclaim;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.page.PageHandle;
import io.memscope.stat.VmItem;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The OOM path end to end, through the real allocator, direct reclaim and OOM killer (no stub
 * killer, no stub memory report): memory held by registered victims, an allocation that cannot
 * be served, the kill, the memory coming back and the retry; the reserves a killed victim's own
 * allocations get; and the {@code !__GFP_FS} request that reaches the OOM step, kills nothing and
 * keeps retrying until memory comes back.
 */
class OomEndToEndTest {

    /** A victim holding real pages of {@code mm}; when killed it frees up to {@code freeOnKill} of them. */
    static final class Holder implements OomVictim {
        final MemoryManager mm;
        final String name;
        final int adj;
        final List<Long> pages = new ArrayList<>();
        final int freeOnKill;
        final AtomicInteger kills = new AtomicInteger();

        Holder(MemoryManager mm, String name, int adj, int freeOnKill) {
            this.mm = mm;
            this.name = name;
            this.adj = adj;
            this.freeOnKill = freeOnKill;
        }

        /** Takes up to {@code n} pages without reclaim (stops at the min watermark). Returns how many. */
        int take(int n) {
            int got = 0;
            for (long h; got < n && (h = mm.allocPages(ReclaimTestMachine.GFP_PIN, 0)) != PageHandle.NULL; got++) {
                synchronized (pages) {
                    pages.add(h);
                }
            }
            return got;
        }

        void freeSome(int n) {
            synchronized (pages) {
                for (int i = 0; i < n && !pages.isEmpty(); i++) {
                    mm.freePages(pages.remove(pages.size() - 1), 0);
                }
            }
        }

        @Override public String name() { return name; }
        @Override public long rssAnonPages() { synchronized (pages) { return pages.size(); } }
        @Override public int oomScoreAdj() { return adj; }
        @Override public void kill() {
            kills.incrementAndGet();
            freeSome(freeOnKill); // the reaper's work: the victim's memory comes back
        }
    }

    private static MemoryManager machine() {
        return MemoryManager.builder().memoryBytes(32L << 20).cpuSlots(2).panicOnWarn(false).build();
    }

    /**
     * {@code __alloc_pages_slowpath()} → {@code __alloc_pages_may_oom()} → {@code out_of_memory()}:
     * with every page held, a GFP_KERNEL order-0 request kills the victim with the highest
     * {@code oom_badness()} (size plus {@code oom_score_adj} × totalpages / 1000), once, and its
     * retry succeeds with the memory the kill gave back.
     */
    @Test
    void anUnservableGfpKernelRequestKillsTheWorstVictimAndThenSucceeds() {
        try (MemoryManager mm = machine()) {
            Holder small = new Holder(mm, "small", 0, Integer.MAX_VALUE);
            Holder big = new Holder(mm, "big", 0, Integer.MAX_VALUE);
            small.take(200);
            big.take(Integer.MAX_VALUE); // the rest: memory is now exhausted down to the min watermark
            var rs = mm.oomKiller().register(small);
            var rb = mm.oomKiller().register(big);
            var rf = mm.oomKiller().register(new Holder(mm, "pinned", OomKiller.OOM_SCORE_ADJ_MIN, 0));
            long before = mm.vmstat().get(VmItem.OOM_KILL);

            long h = mm.allocPages(Gfp.KERNEL, 0);

            assertThat(h).as("the retry after the kill").isNotEqualTo(PageHandle.NULL);
            assertThat(big.kills).as("the biggest victim, once").hasValue(1);
            assertThat(small.kills).hasValue(0);
            assertThat(mm.vmstat().get(VmItem.OOM_KILL) - before).isEqualTo(1);
            assertThat(mm.log().dmesg())
                    .contains(" invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0")
                    .contains("(big)");
            mm.freePages(h, 0);
            small.freeSome(Integer.MAX_VALUE);
            big.freeSome(Integer.MAX_VALUE);
            rs.close();
            rb.close();
            rf.close();
            assertThat(mm.validate()).isZero();
        }
    }

    /**
     * {@code __gfp_pfmemalloc_flags()} gives a killed victim's task ALLOC_OOM (part of the
     * reserves below the min watermark), and the slow path's "avoid allocations with no
     * watermarks from looping endlessly" ({@code tsk_is_oom_victim(current) && alloc_flags &
     * ALLOC_OOM} → nopage) makes its request fail rather than loop once even those are gone.
     */
    @Test
    void aKilledVictimDipsIntoTheReservesAndThenFailsInsteadOfLooping() throws Exception {
        try (MemoryManager mm = machine()) {
            // The victim gives back only a handful of pages: memory stays at the edge after the kill.
            Holder victim = new Holder(mm, "victim", 0, 16);
            victim.take(Integer.MAX_VALUE);
            var reg = mm.oomKiller().register(victim);
            CountDownLatch attached = new CountDownLatch(1);
            CountDownLatch killed = new CountDownLatch(1);
            AtomicLong reserveHits = new AtomicLong();
            AtomicLong lastResult = new AtomicLong(-1);
            List<Long> got = new ArrayList<>();
            Thread victimTask = Thread.ofPlatform().name("victim-task").start(() -> {
                reg.attachCurrentThread();
                attached.countDown();
                try {
                    killed.await();
                    // A killed task's own requests: served below the min watermark while anything is left there.
                    for (long p; (p = mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, 0)) != PageHandle.NULL; ) {
                        got.add(p);
                        reserveHits.incrementAndGet();
                    }
                    // And then a plain GFP_KERNEL request (which would loop for anyone else) fails.
                    lastResult.set(mm.allocPages(Gfp.KERNEL | Gfp.NOWARN, 0));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    reg.detachCurrentThread();
                }
            });
            attached.await();
            // An ordinary task's GFP_KERNEL request at the edge: the OOM killer kills the victim.
            long h = mm.allocPages(Gfp.KERNEL | Gfp.NOWARN, 0);
            assertThat(victim.kills).hasValue(1);
            assertThat(reg.isKilled()).isTrue();
            // Take what the kill gave back, down to the min watermark again.
            List<Long> edge = new ArrayList<>();
            for (long p; (p = mm.allocPages(ReclaimTestMachine.GFP_PIN, 0)) != PageHandle.NULL; ) {
                edge.add(p);
            }
            // An ordinary task gets nothing below the min watermark, even when allowed to reclaim once.
            long ordinary = mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, 0);
            assertThat(ordinary).as("a non-victim's request at the min watermark").isEqualTo(PageHandle.NULL);
            killed.countDown();
            victimTask.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(victimTask.isAlive()).as("the victim's GFP_KERNEL request returned instead of looping").isFalse();
            assertThat(reserveHits.get()).as("pages the victim got from the OOM reserve").isPositive();
            assertThat(lastResult.get()).as("the victim's request once the reserve is gone").isEqualTo(PageHandle.NULL);
            for (long p : got) {
                mm.freePages(p, 0);
            }
            for (long p : edge) {
                mm.freePages(p, 0);
            }
            if (h != PageHandle.NULL) {
                mm.freePages(h, 0);
            }
            victim.freeSome(Integer.MAX_VALUE);
            reg.close();
            assertThat(mm.validate()).isZero();
        }
    }

    /**
     * {@code __alloc_pages_may_oom()} for {@code !__GFP_FS}: the OOM step is entered, kills nothing
     * and reports progress, so a small GFP_NOFS request keeps retrying; it succeeds once another
     * task frees memory, and the victim is untouched.
     */
    @Test
    void aGfpNofsRequestAtOomKillsNothingAndRetriesUntilMemoryComesBack() throws Exception {
        try (MemoryManager mm = machine()) {
            Holder victim = new Holder(mm, "victim", 0, Integer.MAX_VALUE);
            victim.take(Integer.MAX_VALUE);
            var reg = mm.oomKiller().register(victim);
            long stallsBefore = mm.vmstat().get(VmItem.ALLOCSTALL_NORMAL) + mm.vmstat().get(VmItem.ALLOCSTALL_DMA32)
                    + mm.vmstat().get(VmItem.ALLOCSTALL_DMA);
            AtomicLong result = new AtomicLong(PageHandle.NULL);
            Thread fs = Thread.ofPlatform().name("nofs-writer").start(() -> result.set(mm.allocPages(Gfp.NOFS, 0)));
            // Wait until it is retrying (it has entered direct reclaim at least twice), then free memory.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (mm.vmstat().get(VmItem.ALLOCSTALL_NORMAL) + mm.vmstat().get(VmItem.ALLOCSTALL_DMA32)
                    + mm.vmstat().get(VmItem.ALLOCSTALL_DMA) < stallsBefore + 2 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(fs.isAlive()).as("still retrying, not failed").isTrue();
            victim.freeSome(256);
            fs.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(fs.isAlive()).isFalse();
            assertThat(result.get()).as("served once memory came back").isNotEqualTo(PageHandle.NULL);
            assertThat(victim.kills).as("the OOM killer kills nothing for !__GFP_FS").hasValue(0);
            assertThat(mm.vmstat().get(VmItem.OOM_KILL)).isZero();
            mm.freePages(result.get(), 0);
            victim.freeSome(Integer.MAX_VALUE);
            reg.close();
            assertThat(mm.validate()).isZero();
        }
    }
}
