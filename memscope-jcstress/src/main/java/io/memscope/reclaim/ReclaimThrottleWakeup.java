package io.memscope.reclaim;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Mode;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.Signal;
import org.openjdk.jcstress.annotations.State;

/**
 * A reclaimer throttled on {@code VMSCAN_THROTTLE_WRITEBACK} must be woken by the writeback
 * completion that crosses the threshold ({@code acct_reclaim_writeback}: more than
 * {@code SWAP_CLUSTER_MAX} pages written per throttled task since the first one went to sleep).
 *
 * <p>The kernel's throttle always ends by timeout ({@code HZ/10}, 100 ms here), which would hide a
 * lost wake-up from a termination test. So the actor sleeps again whenever a sleep ends by
 * timeout, and terminates only when a sleep ends <em>early</em>: only a delivered wake-up lets it
 * finish, and a lost one shows as STALE. The signal waits until the actor is on the wait queue
 * ({@link ReclaimThrottle#hasSleepers}, hence this package), because a completion that comes
 * before the sleeper is queued wakes nobody by design — in the kernel too the counter is raised
 * before {@code prepare_to_wait}, and the timeout covers that window. (The one interleaving that
 * could still read as STALE without a bug — the actor's 100 ms timeout expiring between the
 * signal's queue check and its wake — needs the signal thread stalled for about 100 ms between
 * two calls.)
 */
@JCStressTest(Mode.Termination)
@Outcome(id = "TERMINATED", expect = Expect.ACCEPTABLE, desc = "the writeback completion woke the throttled reclaimer")
@Outcome(id = "STALE", expect = Expect.FORBIDDEN, desc = "lost wake-up: the reclaimer only ever times out")
@State
public class ReclaimThrottleWakeup {
    private final ReclaimThrottle throttle = new ReclaimThrottle(0);

    @Actor
    public void reclaimer() {
        while (throttle.throttle(ReclaimThrottle.Reason.WRITEBACK, () -> false) == 0) {
            // timed out: not woken; sleep again
        }
    }

    @Signal
    public void writebackCompletes() {
        while (!throttle.hasSleepers(ReclaimThrottle.Reason.WRITEBACK)) {
            Thread.onSpinWait();
        }
        throttle.acctReclaimWriteback(ReclaimThrottle.SWAP_CLUSTER_MAX + 1);
    }
}
