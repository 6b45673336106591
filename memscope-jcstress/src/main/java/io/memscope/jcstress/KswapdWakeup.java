package io.memscope.jcstress;

import io.memscope.gfp.Gfp;
import io.memscope.reclaim.Kswapd;
import io.memscope.reclaim.KswapdNode;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Mode;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.Signal;
import org.openjdk.jcstress.annotations.State;

/**
 * {@code wakeup_kswapd()} racing with kswapd going to sleep: once a node needs balancing and an
 * allocator has called {@code wakeup()}, kswapd must run {@code balance_pgdat} — whether the wake
 * finds it asleep, napping, or on its way to sleep (it then re-reads the request). A lost wake-up
 * leaves kswapd asleep for good and the waiting actor spinning: STALE.
 */
@JCStressTest(Mode.Termination)
@Outcome(id = "TERMINATED", expect = Expect.ACCEPTABLE, desc = "kswapd ran balance_pgdat")
@Outcome(id = "STALE", expect = Expect.FORBIDDEN, desc = "lost wake-up: kswapd sleeps while the node needs it")
@State
public class KswapdWakeup {
    /** A node that needs balancing once {@code unbalanced} is set and is balanced again after one run. */
    static final class Node implements KswapdNode {
        volatile boolean unbalanced;

        @Override
        public int nid() {
            return 0;
        }

        @Override
        public boolean balanced(int order, int highestZoneIdx) {
            return !unbalanced;
        }

        @Override
        public boolean hopeless() {
            return false;
        }

        @Override
        public int balance(int order, int highestZoneIdx) {
            unbalanced = false;
            return order;
        }
    }

    private final Node node = new Node();
    /** A 1 ms nap, so a kswapd that was napping decides quickly. */
    private final Kswapd kswapd = new Kswapd(node, 1_000_000L);

    @Actor
    public void allocatorWaits() {
        while (kswapd.runs() == 0) {
            Thread.onSpinWait();
        }
        kswapd.close();
    }

    @Signal
    public void wake() {
        node.unbalanced = true;
        kswapd.wakeup(Gfp.KERNEL, 0, 2);
    }
}
