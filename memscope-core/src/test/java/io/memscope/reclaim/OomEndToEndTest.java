package io.memscope.reclaim;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.gfp.ZoneType;
import io.memscope.page.PageHandle;
import io.memscope.page.Zone;
import io.memscope.stat.VmItem;
import io.memscope.testkit.Machines;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The OOM path end to end through the real allocator, direct reclaim and OOM killer (no stub
 * killer, no stub memory report): a GFP_KERNEL request that cannot be served kills the worst
 * victim and its retry succeeds; a killed task's own requests get the ALLOC_OOM part of the
 * reserves and then fail instead of looping. (The {@code !__GFP_FS} rule at OOM is covered end to
 * end by {@link ReclaimThrottleRulesTest#oomKillerKillsNothingForGfpNofs}.)
 *
 * <p>One Normal zone of 4096 pages, one CPU slot: pcp batch 1, so page counts are exact.
 */
// The allocator's retry loops are uninterruptible, as the kernel's are: only a separate-thread timeout can end them.
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class OomEndToEndTest {
    /** Pins pages down to the min watermark: no reclaim, no reserves, no failure report. */
    private static final int GFP_PIN = ReclaimTestMachine.GFP_PIN;

    @RegisterExtension
    final Machines machines = new Machines(); // validates and closes every machine after each test

    /** An OOM victim holding real pages; its kill action frees all but {@code keepOnKill} of them. */
    static final class Holder implements OomVictim {
        final MemoryManager mm;
        final String name;
        final int adj;
        final int keepOnKill;
        final List<Long> pages = new ArrayList<>();
        final AtomicInteger kills = new AtomicInteger();

        Holder(MemoryManager mm, String name, int adj, int keepOnKill) {
            this.mm = mm;
            this.name = name;
            this.adj = adj;
            this.keepOnKill = keepOnKill;
        }

        Holder take(int n) {
            synchronized (pages) {
                pages.addAll(pin(mm, n));
            }
            return this;
        }

        void freeDownTo(int keep) {
            synchronized (pages) {
                while (pages.size() > keep) {
                    mm.freePages(pages.removeLast(), 0);
                }
            }
        }

        @Override public String name() { return name; }
        @Override public long rssAnonPages() { synchronized (pages) { return pages.size(); } }
        @Override public int oomScoreAdj() { return adj; }
        @Override public void kill() {
            kills.incrementAndGet();
            freeDownTo(keepOnKill); // the OOM reaper's work: the victim's memory comes back
        }
    }

    private MemoryManager machine(Consumer<MemoryManager.Builder> more) {
        return machines.create(b -> {
            b.zonePages(new long[][] {{0, 0, 4096, 0}}).cpuSlots(1).quarantinePages(0);
            more.accept(b);
        });
    }

    /** Up to {@code n} order-0 pages with {@link #GFP_PIN}. */
    private static List<Long> pin(MemoryManager mm, int n) {
        List<Long> got = new ArrayList<>();
        for (long h; got.size() < n && (h = mm.allocPages(GFP_PIN, 0)) != PageHandle.NULL; ) {
            got.add(h);
        }
        return got;
    }

    private static void freeAll(MemoryManager mm, List<Long> handles) {
        handles.forEach(h -> mm.freePages(h, 0));
        handles.clear();
    }

    /** Runs {@code body} on a new platform thread named {@code name} and returns its result. */
    private static <T> T onThread(String name, Callable<T> body) throws Exception {
        FutureTask<T> task = new FutureTask<>(body);
        Thread.ofPlatform().name(name).start(task);
        try {
            return task.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw (Exception) e.getCause();
        }
    }

    /** Every page is back on the free lists and the books balance. */
    private static void assertNoLeak(MemoryManager mm, Zone zone, long bootFree) {
        mm.drainAllPages();
        assertThat(mm.pages().allocatedPages()).as("pages still allocated").isZero();
        assertThat(zone.freePages()).as("free pages after everything was freed").isEqualTo(bootFree);
        assertThat(mm.validate()).as("validate()").isZero();
    }

    /**
     * {@code __alloc_pages_slowpath()} → {@code __alloc_pages_may_oom()} → {@code out_of_memory()} /
     * {@code select_bad_process()}: by size alone the biggest killable victim dies, once, and the
     * retry succeeds.
     */
    @Test
    void anUnservableGfpKernelRequestKillsTheBiggestVictimAndItsRetrySucceeds() throws Exception {
        oomKillsTheWorstVictimAndTheRetrySucceeds(0, "big");
    }

    /**
     * {@code oom_badness()} (mm/oom_kill.c): pages + oom_score_adj × (totalpages / 1000), so an
     * adjusted smaller victim (600 + 500 × 4 = 2600) is killed before a bigger one (1320).
     */
    @Test
    void oomScoreAdjOutweighsSizeInTheRealOomSequence() throws Exception {
        oomKillsTheWorstVictimAndTheRetrySucceeds(500, "small");
    }

    private void oomKillsTheWorstVictimAndTheRetrySucceeds(int smallAdj, String expected) throws Exception {
        MemoryManager mm = machine(b -> { });
        Zone zone = mm.pages().zone(0, ZoneType.NORMAL);
        long bootFree = zone.freePages();
        // The biggest footprint is unkillable (OOM_SCORE_ADJ_MIN); the rest fills memory to the min watermark.
        Holder unkillable = new Holder(mm, "unkillable", OomKiller.OOM_SCORE_ADJ_MIN, 0).take(2048);
        Holder small = new Holder(mm, "small", smallAdj, 0).take(600);
        Holder big = new Holder(mm, "big", 0, 0).take(Integer.MAX_VALUE);
        assertThat(zone.freePages()).as("memory exhausted down to min").isEqualTo(zone.minWmark());
        assertThat(big.pages).hasSize((int) (bootFree - zone.minWmark() - 2048 - 600));
        Holder victim = expected.equals("big") ? big : small;
        Holder spared = victim == big ? small : big;
        long adjUnit = mm.pages().totalPages() / 1000; // 4 pages per oom_score_adj point here
        assertThat(600 + smallAdj * adjUnit > big.pages.size())
                .as("precondition, by the kernel's formula: small's badness beats big's").isEqualTo(victim == small);
        var regs = List.of(mm.oomKiller().register(unkillable), mm.oomKiller().register(small),
                mm.oomKiller().register(big));
        var victimReg = regs.get(victim == big ? 2 : 1);
        long victimPages = victim.pages.size();
        CountDownLatch reaped = new CountDownLatch(1);
        String reapedLine = "oom_reaper: reaped process " + victimReg.pid() + " (" + expected + "), now anon-rss:0kB";
        mm.log().addListener(e -> {
            if (e.text().contains(reapedLine)) {
                reaped.countDown();
            }
        });
        long kills = mm.vmstat().get(VmItem.OOM_KILL);
        long stalls = mm.vmstat().get(VmItem.ALLOCSTALL_NORMAL);
        long steal = mm.vmstat().get(VmItem.PGSTEAL_DIRECT);

        long h = onThread("oom-trigger", () -> mm.allocPages(Gfp.KERNEL, 0));

        assertThat(h).as("the retry after the kill").isNotEqualTo(PageHandle.NULL);
        assertThat(PageHandle.order(h)).isZero();
        assertThat(zone.spans(PageHandle.pfn(h))).isTrue();
        mm.segment(h).set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 0x0ddba11L); // usable memory
        assertThat(victim.kills).as(expected + " killed exactly once").hasValue(1);
        assertThat(spared.kills).hasValue(0);
        assertThat(unkillable.kills).hasValue(0);
        assertThat(victimReg.isKilled()).isTrue();
        assertThat(mm.vmstat().get(VmItem.OOM_KILL) - kills).as("oom_kill").isEqualTo(1);
        assertThat(mm.oomKiller().oomKills()).isEqualTo(1);
        assertThat(mm.vmstat().get(VmItem.ALLOCSTALL_NORMAL) - stalls).as("direct reclaim entered").isPositive();
        assertThat(mm.vmstat().get(VmItem.PGSTEAL_DIRECT) - steal).as("direct reclaim made no progress").isZero();
        assertThat(mm.log().dmesg())
                .contains("oom-trigger invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0")
                .contains("global_oom,task_memcg=/,task=" + expected + ",pid=" + victimReg.pid() + ",uid=0")
                .contains("Out of memory: Killed process " + victimReg.pid() + " (" + expected + ") total-vm:")
                .contains("anon-rss:" + victimPages * 4 + "kB");
        assertThat(reaped.await(10, TimeUnit.SECONDS)).as("oom_reaper passed over the victim").isTrue();
        assertThat(victimReg.isReaped()).isTrue();

        mm.freePages(h, 0);
        for (Holder x : List.of(unkillable, small, big)) {
            x.freeDownTo(0);
        }
        regs.forEach(OomKiller.Registration::close);
        assertNoLeak(mm, zone, bootFree);
    }

    /** What the killed task's own requests returned. */
    private record VictimRun(long noMemalloc, long freeAfterNoMemalloc, List<Long> reserve, long freeAfterReserve,
                             long plain) {}

    /**
     * {@code __gfp_pfmemalloc_flags()} / {@code __zone_watermark_ok()} / {@code __alloc_pages_slowpath()}:
     * a killed task (tsk_is_oom_victim) gets ALLOC_OOM, min − min/2, where a non-victim's identical
     * request fails; with __GFP_NOMEMALLOC it gets no reserve; and once the reserve is gone, or with
     * __GFP_NOMEMALLOC, "avoid allocations with no watermarks from looping endlessly" makes even a
     * plain GFP_KERNEL request return NULL.
     */
    @Test
    void aKilledTaskGetsHalfTheMinReserveThenFailsInsteadOfLooping() throws Exception {
        // Reaper checks a minute apart: the victim stays "dying, not yet reaped" (no MMF_OOM_SKIP) throughout,
        // the window in which the kernel's task_will_free_mem(current) holds.
        MemoryManager mm = machine(b -> b.reclaimOptions(new Reclaim.Options(false, 100_000_000L, 60_000)));
        Zone zone = mm.pages().zone(0, ZoneType.NORMAL);
        long bootFree = zone.freePages();
        long min = zone.minWmark();
        assertThat(zone.pcpBatch()).as("precondition: exact counts").isEqualTo(1);
        assertThat(zone.lowmemReserve(ZoneType.NORMAL.ordinal())).isZero();
        Holder victim = new Holder(mm, "victim", 0, 1).take(Integer.MAX_VALUE);
        OomKiller.Registration reg = mm.oomKiller().register(victim);
        CountDownLatch attached = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        FutureTask<VictimRun> victimTask = new FutureTask<>(() -> {
            reg.attachCurrentThread();
            try {
                attached.countDown();
                go.await();
                long noMemalloc = mm.allocPages(Gfp.KERNEL | Gfp.NOMEMALLOC | Gfp.NOWARN, 0);
                long freeAfterNoMemalloc = zone.freePages();
                List<Long> reserve = new ArrayList<>();
                for (long p; (p = mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, 0)) != PageHandle.NULL; ) {
                    reserve.add(p);
                }
                long freeAfterReserve = zone.freePages();
                long plain = mm.allocPages(Gfp.KERNEL | Gfp.NOWARN, 0);
                return new VictimRun(noMemalloc, freeAfterNoMemalloc, reserve, freeAfterReserve, plain);
            } finally {
                reg.detachCurrentThread();
            }
        });
        Thread.ofPlatform().name("victim-task").start(victimTask);
        attached.await();

        // An ordinary task's GFP_KERNEL request at OOM kills the victim; its retry is served.
        long h = onThread("oom-trigger", () -> mm.allocPages(Gfp.KERNEL, 0));
        assertThat(h).isNotEqualTo(PageHandle.NULL);
        assertThat(reg.isKilled()).isTrue();
        assertThat(victim.kills).hasValue(1);
        // Back to the edge: exactly min free, nothing on the per-CPU lists.
        mm.drainAllPages();
        List<Long> edge = pin(mm, Integer.MAX_VALUE);
        assertThat(zone.freePages()).isEqualTo(min);
        assertThat(zone.pcpPagesRacy()).isZero();
        // A non-victim's request at the min watermark fails.
        assertThat(mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, 0)).as("non-victim at min").isEqualTo(PageHandle.NULL);
        assertThat(zone.freePages()).isEqualTo(min);

        go.countDown();
        VictimRun run;
        try {
            run = victimTask.get(10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("the killed task's allocation loops instead of failing (nopage)", e);
        }

        assertThat(run.noMemalloc()).as("__GFP_NOMEMALLOC victim: no reserve, fails").isEqualTo(PageHandle.NULL);
        assertThat(run.freeAfterNoMemalloc()).isEqualTo(min);
        assertThat(run.reserve()).as("ALLOC_OOM pages: min/2 of min=" + min).hasSize((int) (min / 2));
        assertThat(run.freeAfterReserve()).as("ALLOC_OOM floor: min - min/2").isEqualTo(min - min / 2);
        assertThat(run.plain()).as("victim's GFP_KERNEL once the reserve is gone").isEqualTo(PageHandle.NULL);
        assertThat(mm.oomKiller().oomKills()).as("the victim's own OOM entries kill nobody else").isEqualTo(1);
        assertThat(mm.vmstat().get(VmItem.OOM_KILL)).isEqualTo(1);
        assertThat(reg.isReaped()).as("still inside the not-yet-reaped window").isFalse();

        mm.freePages(h, 0);
        freeAll(mm, edge);
        freeAll(mm, new ArrayList<>(run.reserve()));
        victim.freeDownTo(0);
        reg.close();
        assertNoLeak(mm, zone, bootFree);
    }
}
