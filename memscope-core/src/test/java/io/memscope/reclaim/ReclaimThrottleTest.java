package io.memscope.reclaim;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.sched.Task;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** mm/vmscan.c reclaim_throttle() and __acct_reclaim_writeback() rules. */
class ReclaimThrottleTest {
    private final ReclaimThrottle throttle = new ReclaimThrottle(0);

    private CompletableFuture<Long> sleeper(ReclaimThrottle.Reason reason) throws InterruptedException {
        CompletableFuture<Long> f = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> f.complete(throttle.throttle(reason, () -> false)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!throttle.hasSleepers(reason) && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(throttle.hasSleepers(reason)).as("sleeper reached the wait queue").isTrue();
        return f;
    }

    @Test
    void writebackSleeperIsWokenOnlyAfterMoreThanSwapClusterMaxPagesWritten() throws Exception {
        CompletableFuture<Long> f = sleeper(ReclaimThrottle.Reason.WRITEBACK);
        assertThat(throttle.nrWritebackThrottled()).isEqualTo(1);
        throttle.acctReclaimWriteback(32); // not more than 32 per throttled task yet
        assertThat(throttle.hasSleepers(ReclaimThrottle.Reason.WRITEBACK)).isTrue();
        throttle.acctReclaimWriteback(1);
        long remaining = f.get(10, TimeUnit.SECONDS);
        assertThat(remaining).as("woken before the HZ/10 timeout").isPositive();
        assertThat(throttle.nrWritebackThrottled()).isZero();
        assertThat(throttle.nrThrottledWritten()).isEqualTo(33);
    }

    @Test
    void wakeThresholdScalesWithTheNumberOfSleepers() throws Exception {
        CompletableFuture<Long> a = new CompletableFuture<>();
        CompletableFuture<Long> b = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> a.complete(throttle.throttle(ReclaimThrottle.Reason.WRITEBACK, () -> false)));
        Thread.ofPlatform().start(() -> b.complete(throttle.throttle(ReclaimThrottle.Reason.WRITEBACK, () -> false)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (throttle.sleepers(ReclaimThrottle.Reason.WRITEBACK) < 2 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(throttle.sleepers(ReclaimThrottle.Reason.WRITEBACK)).isEqualTo(2);
        throttle.acctReclaimWriteback(64); // 64 is not more than 2 x SWAP_CLUSTER_MAX
        assertThat(throttle.sleepers(ReclaimThrottle.Reason.WRITEBACK)).isEqualTo(2);
        throttle.acctReclaimWriteback(1);
        assertThat(a.get(10, TimeUnit.SECONDS)).as("a woken early").isPositive();
        assertThat(b.get(10, TimeUnit.SECONDS)).as("b woken early").isPositive();
    }

    @Test
    void writebackSleepEndsAtTheTimeoutWithoutCompletions() throws Exception {
        CompletableFuture<Long> f = sleeper(ReclaimThrottle.Reason.WRITEBACK);
        assertThat(f.get(10, TimeUnit.SECONDS)).as("timed out, nothing left").isZero();
        assertThat(throttle.throttleEvents()).isEqualTo(1);
    }

    @Test
    void kernelThreadsOtherThanKswapdAreNeverThrottled() throws Exception {
        CompletableFuture<long[]> f = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            Task.current().becomeKernelThread(0);
            f.complete(new long[] {throttle.throttle(ReclaimThrottle.Reason.WRITEBACK, () -> false),
                throttle.throttleEvents(), throttle.nrWritebackThrottled()});
        });
        long[] r = f.get(10, TimeUnit.SECONDS);
        assertThat(r[0]).isZero();
        assertThat(r[1]).as("no sleep counted").isZero();
        CompletableFuture<Long> kswapd = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            Task.current().becomeKernelThread(Task.PF_KSWAPD | Task.PF_MEMALLOC);
            kswapd.complete(throttle.throttle(ReclaimThrottle.Reason.ISOLATED, () -> false));
        });
        kswapd.get(10, TimeUnit.SECONDS);
        assertThat(throttle.throttleEvents()).as("kswapd is throttled").isEqualTo(1);
    }

    @Test
    void noProgressIsSkippedWhenTheNodeIsHopelessOrWritebackHeavy() {
        assertThat(throttle.throttle(ReclaimThrottle.Reason.NOPROGRESS, () -> true)).isZero();
        assertThat(throttle.throttle(ReclaimThrottle.Reason.CONGESTED, () -> true)).isZero();
        assertThat(throttle.throttleEvents()).isZero();
        throttle.throttle(ReclaimThrottle.Reason.NOPROGRESS, () -> false);
        assertThat(throttle.throttleEvents()).isEqualTo(1);
    }

    @Test
    void traceLineHasTheKernelShape() {
        List<String> lines = new ArrayList<>();
        throttle.setTrace(lines::add);
        throttle.throttle(ReclaimThrottle.Reason.NOPROGRESS, () -> false);
        assertThat(lines).singleElement().asString()
                .matches("mm_vmscan_throttled: nid=0 usec_timeout=4000 usect_delayed=\\d+ reason=VMSCAN_THROTTLE_NOPROGRESS");
    }
}
