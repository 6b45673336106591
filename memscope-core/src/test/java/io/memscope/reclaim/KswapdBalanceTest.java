package io.memscope.reclaim;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.ZoneType;
import io.memscope.page.Zone;
import io.memscope.sched.Task;
import io.memscope.stat.VmItem;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** balance_pgdat / pgdat_balanced / kswapd_failures: KERNEL.md §4.4, T45 (kswapd side), T54. */
class KswapdBalanceTest {

    /** Allocations below the low watermark wake kswapd, which reclaims until a zone is above high. */
    @Test
    void kswapdIsWokenBelowLowAndReclaimsToTheHighWatermark() throws Exception {
        try (ReclaimTestMachine m = new ReclaimTestMachine(64L << 20, false)) {
            ReclaimNode node = m.mm.reclaim().node(0);
            Kswapd k = m.mm.reclaim().kswapd(0);
            // Stop filling as soon as the allocator has woken kswapd: nothing else frees pages, so
            // kswapd must find the node unbalanced whenever the scheduler gets round to running it.
            int added = 0;
            while (k.wakeups() == 0 && added < 20_000) {
                if (m.files.addPage(Gfp.KERNEL, false) >= 0) {
                    added++;
                }
            }
            assertThat(k.wakeups()).as("the slow path woke kswapd below the low watermark").isPositive();
            ReclaimTestMachine.await(() -> m.mm.vmstat().get(VmItem.KSWAPD_WAKE) > 0, "kswapd ran balance_pgdat");
            ReclaimTestMachine.await(() -> k.isSleeping() && node.balanced(0, ZoneType.NORMAL.ordinal()),
                    "kswapd balanced the node and went to sleep");
            Zone normal = m.mm.pages().zone(0, ZoneType.NORMAL);
            assertThat(normal.freePages()).isGreaterThan(normal.highWmark());
            assertThat(m.mm.vmstat().get(VmItem.PGSTEAL_KSWAPD)).isPositive();
            assertThat(m.mm.vmstat().get(VmItem.PGSCAN_KSWAPD)).isGreaterThanOrEqualTo(m.mm.vmstat().get(VmItem.PGSTEAL_KSWAPD));
            assertThat(m.mm.vmstat().get(VmItem.PAGEOUTRUN)).isPositive();
            assertThat(m.trace).anyMatch(l -> l.startsWith("mm_vmscan_kswapd_wake: nid=0 order=0"));
        }
    }

    /** T45: kswapd reclaims with GFP_KERNEL whatever woke it, as PF_MEMALLOC|PF_KSWAPD. */
    @Test
    void kswapdShrinkersSeeGfpKernel() throws Exception {
        try (ReclaimTestMachine m = new ReclaimTestMachine(64L << 20, false)) {
            List<String> seen = new CopyOnWriteArrayList<>();
            m.mm.shrinkers().register("recorder", DirectReclaimTest.callbacks(sc -> {
                int pf = Task.current().flags();
                seen.add(sc.gfpMask() + "/" + ((pf & (Task.PF_MEMALLOC | Task.PF_KSWAPD)) == (Task.PF_MEMALLOC | Task.PF_KSWAPD)));
                return 0;
            }));
            m.pinAll(ReclaimTestMachine.GFP_PIN);
            try (var scope = io.memscope.sched.Memalloc.nofsScope()) {
                m.mm.reclaim().wakeupKswapd(m.mm.pages().zone(0, ZoneType.NORMAL), Gfp.NOFS, 0, 2);
            }
            ReclaimTestMachine.await(() -> !seen.isEmpty(), "kswapd calls the shrinker");
            assertThat(seen).allMatch(s -> s.equals(Gfp.KERNEL + "/true"));
        }
    }

    /** T54: 16 runs with nothing reclaimed make the node hopeless; wake-ups are then ignored. */
    @Test
    void nodeBecomesHopelessAfterSixteenFailedRunsAndIgnoresWakeups() throws Exception {
        try (ReclaimTestMachine m = new ReclaimTestMachine(64L << 20, false)) {
            m.pinAll(ReclaimTestMachine.GFP_PIN);
            Kswapd k = m.mm.reclaim().kswapd(0);
            ReclaimNode node = m.mm.reclaim().node(0);
            assertThat(node.balanced(0, 2)).isFalse();
            k.wakeup(Gfp.KERNEL, 0, 2);
            ReclaimTestMachine.await(() -> node.hopeless() && k.isSleeping(), "hopeless, asleep");
            assertThat(m.mm.reclaim().kswapdFailures(0)).isGreaterThanOrEqualTo(ReclaimNode.MAX_RECLAIM_RETRIES);
            long runs = k.runs();
            for (int i = 0; i < 5; i++) {
                k.wakeup(Gfp.KERNEL, 0, 2);
            }
            Thread.sleep(50);
            assertThat(k.runs()).as("hopeless node: wakeup_kswapd returns early").isEqualTo(runs);
            // Direct reclaim that frees something clears the failures.
            m.unpin(100);
            m.files.addPage(Gfp.KERNEL, false);
            m.files.addPage(Gfp.KERNEL, false);
            m.tryToFreePages(Gfp.KERNEL);
            assertThat(node.hopeless()).isFalse();
        }
    }

    /** T54: balanced as soon as any eligible zone is above its high watermark. */
    @Test
    void balancedWhenAnyEligibleZoneIsAboveHigh() {
        try (ReclaimTestMachine m = new ReclaimTestMachine(64L << 20, false)) {
            ReclaimNode node = m.mm.reclaim().node(0);
            assertThat(node.balanced(0, 2)).isTrue();
            m.pinAll(ReclaimTestMachine.GFP_PIN);
            assertThat(node.balanced(0, 2)).isFalse();
            m.unpin(Integer.MAX_VALUE);
            assertThat(node.balanced(0, ZoneType.DMA.ordinal())).isTrue();
        }
    }
}
