package io.memscope.stress;

import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.mempool.LongMempool;
import io.memscope.mempool.MempoolConfig;
import java.util.concurrent.atomic.AtomicLong;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * RELIABILITY C5: {@code mempoolAlloc}/{@code mempoolFree} under every interleaving Lincheck's
 * model checker explores (and under stress). The backing allocator always fails (the OOM edge), so
 * the single reserved element is all there is: each operation takes it and gives it back, so a
 * sleeping allocation on the other thread must wait for that free and be woken by it — a lost
 * wake-up shows as a hang — and never returns NULL. After each run the books must balance:
 * reserve 1, nothing outstanding, nothing freed to the allocator.
 *
 * <p>(A first version let each thread take two elements of a two-element pool; Lincheck found the
 * deadlock that the kernel's rule forbids — a user must not wait for a second element while
 * holding one.)
 */
@Tag("stress")
public class MempoolLincheckTest {
    private final AtomicLong backingFrees = new AtomicLong();
    private final LongMempool pool;

    public MempoolLincheckTest() {
        long[] next = {1};
        boolean[] boot = {true};
        KernelLog log = new KernelLog(16, false);
        pool = LongMempool.create(MempoolConfig.defaults(log, "lincheck"), 1,
                gfp -> boot[0] ? next[0]++ : LongMempool.NULL, e -> backingFrees.incrementAndGet());
        boot[0] = false;
    }

    /**
     * A non-blocking allocation and, if it got one, its free. Whether it finds an element depends on
     * the other thread (which may hold both), so the operation returns nothing; the books are checked
     * after the run.
     */
    @Operation
    public void allocAtomicThenFree() {
        long e = pool.mempoolAlloc(Gfp.ATOMIC | Gfp.NOWARN);
        if (e != LongMempool.NULL) {
            pool.mempoolFree(e);
        }
    }

    /** A sleeping allocation (it never returns NULL) and its free. */
    @Operation
    public boolean allocKernelThenFree() {
        long e = pool.mempoolAlloc(Gfp.KERNEL);
        if (e == LongMempool.NULL) {
            return false;
        }
        pool.mempoolFree(e);
        return true;
    }

    @Validate
    public void booksBalance() {
        if (pool.currNr() != 1 || pool.outstanding() != 0 || backingFrees.get() != 0) {
            throw new IllegalStateException("mempool books: reserve " + pool.currNr() + " (expected 1), outstanding "
                    + pool.outstanding() + ", " + backingFrees.get() + " elements freed to the allocator");
        }
    }

    @Test
    void modelChecking() {
        new ModelCheckingOptions().iterations(30).invocationsPerIteration(300).threads(2).actorsPerThread(3)
                .check(MempoolLincheckTest.class);
    }

    @Test
    void stress() {
        new StressOptions().iterations(30).invocationsPerIteration(500).threads(2).actorsPerThread(3)
                .check(MempoolLincheckTest.class);
    }
}
