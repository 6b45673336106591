package io.memscope.reclaim;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.gfp.Gfp;
import io.memscope.sched.Task;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** mm/vmscan.c kswapd(), kswapd_try_to_sleep() and wakeup_kswapd() rules (KERNEL.md §4.4, T54). */
class KswapdTest {
    private Kswapd kswapd;

    @AfterEach
    void stop() {
        if (kswapd != null) {
            kswapd.close();
            assertThat(kswapd.thread().isAlive()).as("kthread_stop ends kswapd").isFalse();
        }
    }

    /** A node that is balanced or not as the test says; balance() makes it balanced. */
    static class Node implements KswapdNode {
        final AtomicBoolean balanced = new AtomicBoolean(true);
        final AtomicBoolean hopeless = new AtomicBoolean();
        final List<String> balanceCalls = new CopyOnWriteArrayList<>();
        final AtomicInteger pfmemallocWakes = new AtomicInteger();

        @Override public int nid() { return 0; }
        @Override public boolean balanced(int order, int idx) { return balanced.get(); }
        @Override public boolean hopeless() { return hopeless.get(); }
        @Override public int balance(int order, int idx) {
            int pf = Task.current().flags();
            balanceCalls.add("order=" + order + " zoneidx=" + idx
                    + ((pf & Task.PF_MEMALLOC) != 0 ? " PF_MEMALLOC" : "")
                    + ((pf & Task.PF_KSWAPD) != 0 ? " PF_KSWAPD" : "") + " " + Thread.currentThread().getName());
            balanced.set(true);
            return order;
        }
        @Override public void wakePfmemallocWaiters() { pfmemallocWakes.incrementAndGet(); }
    }

    private static void await(BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!cond.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(cond.getAsBoolean()).as("condition within 10 s").isTrue();
    }

    @Test
    void wakeupOfAnUnbalancedNodeRunsBalanceOnKswapdWithReclaimFlags() throws Exception {
        Node node = new Node();
        // A long nap: kswapd must still be asleep when the wakeup comes (with a short one it could
        // wake, find the node unbalanced and balance on its own first).
        kswapd = new Kswapd(node, TimeUnit.SECONDS.toNanos(30));
        await(kswapd::isSleeping);
        node.balanced.set(false);
        kswapd.wakeup(Gfp.KERNEL, 2, 2);
        await(() -> !node.balanceCalls.isEmpty());
        assertThat(node.balanceCalls.get(0)).isEqualTo("order=2 zoneidx=2 PF_MEMALLOC PF_KSWAPD kswapd0");
        assertThat(kswapd.wakeups()).isEqualTo(1);
        await(kswapd::isSleeping);
        assertThat(node.pfmemallocWakes.get()).as("prepare_kswapd_sleep wakes throttled reclaimers").isPositive();
    }

    @Test
    void aBalancedOrHopelessNodeIsNotWoken() throws Exception {
        Node node = new Node();
        kswapd = new Kswapd(node, TimeUnit.MILLISECONDS.toNanos(1));
        await(kswapd::isSleeping);
        kswapd.wakeup(Gfp.ATOMIC, 0, 2);
        node.balanced.set(false);
        node.hopeless.set(true);
        kswapd.wakeup(Gfp.ATOMIC, 0, 2);
        Thread.sleep(20);
        assertThat(kswapd.wakeups()).isZero();
        assertThat(node.balanceCalls).isEmpty();
    }

    @Test
    void wakeDuringTheNapIsPrematureAndCarriesTheRequest() throws Exception {
        Node node = new Node();
        kswapd = new Kswapd(node, TimeUnit.SECONDS.toNanos(30)); // the nap outlasts the test
        await(kswapd::isSleeping); // balanced: napping before a full sleep
        node.balanced.set(false);
        kswapd.wakeup(Gfp.KERNEL, 3, 1);
        await(() -> node.balanceCalls.size() == 1);
        assertThat(kswapd.lowWmarkHitQuickly()).as("woken during the nap").isEqualTo(1);
        assertThat(node.balanceCalls.get(0)).startsWith("order=3 zoneidx=1");
        await(kswapd::isSleeping); // napping again after the run
        node.balanced.set(false);
        kswapd.wakeup(Gfp.KERNEL, 0, 2);
        await(() -> node.balanceCalls.size() == 2);
        assertThat(kswapd.lowWmarkHitQuickly()).isEqualTo(2);
        assertThat(node.balanceCalls.get(1)).startsWith("order=0 zoneidx=2");
    }

    @Test
    void anUnbalancedNodeAtStartIsBalancedWithoutAWakeup() throws Exception {
        Node node = new Node();
        node.balanced.set(false);
        kswapd = new Kswapd(node, TimeUnit.MILLISECONDS.toNanos(1));
        await(() -> !node.balanceCalls.isEmpty());
        assertThat(kswapd.highWmarkHitQuickly()).as("could not sleep: not balanced").isEqualTo(1);
        assertThat(node.balanceCalls.get(0)).startsWith("order=0 zoneidx=3");
    }

    @Test
    void notBalancedWhenTryingToSleepCountsHighWmarkHitQuickly() throws Exception {
        Node node = new Node() {
            final AtomicInteger runs = new AtomicInteger();
            @Override public int balance(int order, int idx) {
                super.balance(order, idx);
                if (runs.incrementAndGet() < 3) {
                    balanced.set(false); // memory was consumed again right away
                }
                return order;
            }
        };
        kswapd = new Kswapd(node, TimeUnit.MILLISECONDS.toNanos(1));
        await(kswapd::isSleeping);
        node.balanced.set(false);
        kswapd.wakeup(Gfp.KERNEL, 0, 2);
        await(() -> node.balanceCalls.size() >= 3);
        assertThat(kswapd.highWmarkHitQuickly()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void closeStopsKswapdInAFullSleep() throws Exception {
        Node node = new Node();
        kswapd = new Kswapd(node, TimeUnit.MILLISECONDS.toNanos(1));
        await(kswapd::isSleeping);
        Thread.sleep(10); // past the nap: now in the full sleep
        // stop() in @AfterEach asserts the thread ended
    }
}
