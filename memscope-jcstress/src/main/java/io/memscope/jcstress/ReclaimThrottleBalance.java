package io.memscope.jcstress;

import io.memscope.reclaim.ReclaimThrottle;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * {@code reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK)} racing with writeback completion
 * ({@code acct_reclaim_writeback}): the sleeper either is woken early (the completion saw it
 * registered) or sleeps its whole timeout (the completion came first) — both are the kernel's
 * behaviour. What may never happen is a sleeper left counted after it returned: the
 * {@code nr_writeback_throttled} count must be 0 once both are done, or later completions would
 * wake nobody and throttle decisions would be wrong forever.
 */
@JCStressTest
@Outcome(id = "1, 0", expect = Expect.ACCEPTABLE, desc = "woken early by the completion")
@Outcome(id = "0, 0", expect = Expect.ACCEPTABLE, desc = "slept the whole timeout (completion came first)")
@Outcome(expect = Expect.FORBIDDEN, desc = "a sleeper is still counted after it returned")
@State
public class ReclaimThrottleBalance {
    private final ReclaimThrottle throttle = new ReclaimThrottle(0);

    @Actor
    public void reclaimer(II_Result r) {
        long left = throttle.throttle(ReclaimThrottle.Reason.WRITEBACK, () -> false);
        r.r1 = left > 0 ? 1 : 0;
    }

    @Actor
    public void writebackCompletes() {
        throttle.acctReclaimWriteback(1_000);
    }

    @Arbiter
    public void books(II_Result r) {
        r.r2 = throttle.nrWritebackThrottled();
    }
}
