package io.memscope.reclaim;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.gfp.Gfp;
import io.memscope.page.PageHandle;
import io.memscope.sched.Task;
import io.memscope.stat.VmItem;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** throttle_direct_reclaim (T52, T53) and the OOM gate for GFP_NOFS end to end (T30). */
class ReclaimThrottleRulesTest {

    /** Reserves below min/2 with reclaimable pages, and a kswapd held inside balance_pgdat by a slow cache. */
    private static CountDownLatch depleteWithKswapdStuck(ReclaimTestMachine m) throws InterruptedException {
        for (int i = 0; i < 64; i++) {
            m.files.addPage(Gfp.KERNEL, false);
        }
        m.files.refuseRemove = true;
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        m.mm.shrinkers().register("slow-for-kswapd", DirectReclaimTest.callbacks(sc -> {
            if (Task.current().isKswapd()) {
                entered.countDown();
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return 0;
        }));
        m.pinAll(Gfp.ATOMIC | Gfp.NOWARN); // GFP_ATOMIC may go to 37.5% of min: below min/2
        assertThat(m.mm.reclaim().node(0).allowDirectReclaim()).isFalse(); // also wakes kswapd
        assertThat(entered.await(20, TimeUnit.SECONDS)).as("kswapd is in balance_pgdat").isTrue();
        return release;
    }

    /** T52: GFP_KERNEL waits until kswapd restores the reserves; GFP_NOFS waits at most HZ. */
    @Test
    void directReclaimersWaitOnPfmemallocUntilKswapdRestoresReserves() throws Exception {
        try (ReclaimTestMachine m = new ReclaimTestMachine(64L << 20, false)) {
            CountDownLatch release = depleteWithKswapdStuck(m);
            ReclaimNode node = m.mm.reclaim().node(0);
            AtomicBoolean kernelDone = new AtomicBoolean();
            Thread kernel = Thread.ofPlatform().start(() -> {
                m.tryToFreePages(Gfp.KERNEL);
                kernelDone.set(true);
            });
            ReclaimTestMachine.await(() -> node.pfmemallocWaiters() == 1, "GFP_KERNEL reclaimer throttled");
            Thread nofs = Thread.ofPlatform().start(() -> m.tryToFreePages(Gfp.NOFS));
            nofs.join(TimeUnit.SECONDS.toMillis(20));
            assertThat(nofs.isAlive()).as("GFP_NOFS gives up waiting after HZ").isFalse();
            assertThat(m.mm.vmstat().get(VmItem.PGSCAN_DIRECT_THROTTLE)).isEqualTo(2);
            assertThat(kernelDone.get()).as("GFP_KERNEL still waits for kswapd").isFalse();
            assertThat(kernel.isAlive()).isTrue();
            m.unpin(Integer.MAX_VALUE); // memory comes back...
            release.countDown();        // ...and kswapd, done with its pass, wakes the waiters
            kernel.join(TimeUnit.SECONDS.toMillis(20));
            assertThat(kernelDone.get()).isTrue();
        }
    }

    /** T53: kernel threads are never throttled. */
    @Test
    void kernelThreadsAreNeverThrottled() throws Exception {
        try (ReclaimTestMachine m = new ReclaimTestMachine(64L << 20, false)) {
            CountDownLatch release = depleteWithKswapdStuck(m);
            Thread kthread = Thread.ofPlatform().start(() -> {
                Task.current().becomeKernelThread(Task.PF_KTHREAD);
                m.tryToFreePages(Gfp.KERNEL);
            });
            kthread.join(TimeUnit.SECONDS.toMillis(20));
            assertThat(kthread.isAlive()).isFalse();
            assertThat(m.mm.vmstat().get(VmItem.PGSCAN_DIRECT_THROTTLE)).isZero();
            release.countDown();
        }
    }

    /** T30 end to end: at OOM a GFP_NOFS allocation never kills — it loops until memory appears. */
    @Test
    void oomKillerKillsNothingForGfpNofs() throws Exception {
        try (ReclaimTestMachine m = new ReclaimTestMachine(64L << 20, false)) {
            AtomicBoolean killed = new AtomicBoolean();
            m.mm.oomKiller().register(new OomVictim() {
                @Override public String name() { return "tenant"; }
                @Override public long rssAnonPages() { return 1000; }
                @Override public int oomScoreAdj() { return 0; }
                @Override public void kill() { killed.set(true); }
            });
            m.pinAll(ReclaimTestMachine.GFP_PIN);
            AtomicLong got = new AtomicLong();
            Thread t = Thread.ofPlatform().start(() -> got.set(m.mm.allocPages(Gfp.NOFS, 0)));
            // Well past MAX_RECLAIM_RETRIES no-progress loops, so __alloc_pages_may_oom was reached.
            ReclaimTestMachine.await(() -> m.mm.vmstat().get(VmItem.ALLOCSTALL_NORMAL) > 40, "NOFS allocation loops");
            assertThat(killed.get()).isFalse();
            assertThat(m.mm.oomKiller().oomKills()).isZero();
            assertThat(t.isAlive()).as("no failure either").isTrue();
            m.unpin(64);
            t.join(TimeUnit.SECONDS.toMillis(20));
            assertThat(got.get()).isNotEqualTo(PageHandle.NULL);
            m.mm.freePages(got.get());
        }
    }
}
