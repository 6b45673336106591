package io.memscope.jcstress;

import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.mempool.LongMempool;
import io.memscope.mempool.MempoolConfig;
import java.time.Duration;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Mode;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.Signal;
import org.openjdk.jcstress.annotations.State;

/**
 * A {@code mempoolAlloc(GFP_KERNEL)} sleeping on an empty pool (the backing allocator always
 * fails) must be woken by the {@code mempoolFree} that refills it. The wait period per round is
 * a minute, so a lost wake-up cannot be hidden by the periodic retry: it shows as STALE.
 */
@JCStressTest(Mode.Termination)
@Outcome(id = "TERMINATED", expect = Expect.ACCEPTABLE, desc = "the free woke the sleeping allocation")
@Outcome(id = "STALE", expect = Expect.FORBIDDEN, desc = "lost wake-up: the allocation still sleeps")
@State
public class MempoolWakeup {
    private final LongMempool pool;
    private final long taken;

    public MempoolWakeup() {
        boolean[] boot = {true};
        pool = LongMempool.create(MempoolConfig.defaults(new KernelLog(8, false), "jcstress")
                .withWait(Duration.ofMinutes(1)), 1, gfp -> boot[0] ? 4096L : LongMempool.NULL, e -> { });
        boot[0] = false;
        taken = pool.mempoolAlloc(Gfp.KERNEL); // the only element: the pool is empty now
    }

    @Actor
    public void sleeper() {
        long e = pool.mempoolAlloc(Gfp.KERNEL); // sleeps until the signal frees the element
        pool.mempoolFree(e);
    }

    @Signal
    public void free() {
        pool.mempoolFree(taken);
    }
}
