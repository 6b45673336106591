package io.memscope.stress;

import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.mempool.LongMempool;
import io.memscope.mempool.MempoolConfig;
import java.util.concurrent.atomic.AtomicLong;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.jetbrains.lincheck.datastructures.ThreadIdGen;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Lincheck check of the mempool reserve (RELIABILITY C5): non-blocking {@code mempool_alloc}
 * ({@code GFP_NOWAIT}, {@code GFP_ATOMIC}, {@code mempool_alloc_preallocated}), {@code mempool_free}
 * and {@code curr_nr} are linearizable against a sequential model of the reserve as a LIFO stack,
 * with the <em>exact</em> element each call returns — so an element handed out twice, a lost
 * element, or a reserve that refills out of order is a visible wrong result, not only a broken
 * count. {@link MempoolLincheckTest} covers the sleeping allocation and its wake-up.
 *
 * <p><b>Why the backing allocator is exhausted.</b> The pool is created with three elements
 * (1, 2, 3) and then its allocator always fails: the OOM edge a mempool exists for, where every
 * element comes from the reserve. With a working allocator the pool is deliberately <em>not</em>
 * linearizable, as in the kernel: {@code mempool_free} reads {@code curr_nr} without the lock and
 * may give an element to the allocator while a concurrent allocation is taking the last reserved
 * one (the benign race the kernel's comment in {@code mempool_free} accepts: the pool is one short
 * until the next free, and waiters exist only when it is empty). At the OOM edge that race cannot
 * happen — an element in the caller's hands means the reserve is below {@code min_nr} — so the
 * model is exact.
 *
 * <p>Operations take the Lincheck thread number ({@link ThreadIdGen}); each thread frees the
 * element it allocated most recently. After every invocation {@link State#booksBalance} requires
 * {@code curr_nr + held == min_nr}, {@code outstanding == held} and no element freed to the
 * allocator ({@code outstanding} and {@code curr_nr} move at different points of a free, so they
 * are checked at rest, not as concurrent operations).
 */
@Tag("stress")
class MempoolReserveLincheckTest {
    static final int MIN_NR = 3;
    static final int THREADS = 8;

    /** The implementation under test. */
    public static final class State {
        private final AtomicLong backingFrees = new AtomicLong();
        private final LongMempool pool;
        private final long[][] held = new long[THREADS][MIN_NR];
        private final int[] nHeld = new int[THREADS];

        public State() {
            long[] next = {1};
            pool = LongMempool.create(MempoolConfig.defaults(new KernelLog(64, true), "lincheck-reserve"), MIN_NR,
                    gfp -> next[0] <= MIN_NR ? next[0]++ : LongMempool.NULL, e -> backingFrees.incrementAndGet());
        }

        private long keep(int tid, long e) {
            if (e != LongMempool.NULL) {
                held[tid][nHeld[tid]++] = e;
            }
            return e;
        }

        @Operation
        public long allocNowait(@Param(gen = ThreadIdGen.class) int tid) {
            return keep(tid, pool.mempoolAlloc(Gfp.NOWAIT));
        }

        @Operation
        public long allocAtomic(@Param(gen = ThreadIdGen.class) int tid) {
            return keep(tid, pool.mempoolAlloc(Gfp.ATOMIC | Gfp.NOWARN));
        }

        @Operation
        public long allocPreallocated(@Param(gen = ThreadIdGen.class) int tid) {
            return keep(tid, pool.mempoolAllocPreallocated());
        }

        /** Frees this thread's most recent element; returns it (0: the thread held none). */
        @Operation
        public long free(@Param(gen = ThreadIdGen.class) int tid) {
            if (nHeld[tid] == 0) {
                return LongMempool.NULL;
            }
            long e = held[tid][--nHeld[tid]];
            pool.mempoolFree(e);
            return e;
        }

        @Operation
        public int currNr() {
            return pool.currNr();
        }

        @Validate
        public void booksBalance() {
            int total = 0;
            for (int n : nHeld) {
                total += n;
            }
            if (pool.currNr() + total != MIN_NR || pool.outstanding() != total || backingFrees.get() != 0) {
                throw new IllegalStateException("mempool books: curr_nr " + pool.currNr() + " + held " + total
                        + " (expected " + MIN_NR + "), outstanding " + pool.outstanding() + " (expected " + total
                        + "), " + backingFrees.get() + " element(s) freed to the allocator (expected 0)");
            }
        }
    }

    /** The sequential model: the reserve as a LIFO stack of element numbers, per-thread held stacks. */
    public static final class Spec {
        private final long[] reserve = {1, 2, 3};
        private int curr = MIN_NR;
        private final long[][] held = new long[THREADS][MIN_NR];
        private final int[] nHeld = new int[THREADS];

        private long alloc(int tid) {
            if (curr == 0) {
                return LongMempool.NULL;
            }
            long e = reserve[--curr];
            held[tid][nHeld[tid]++] = e;
            return e;
        }

        public long allocNowait(int tid) {
            return alloc(tid);
        }

        public long allocAtomic(int tid) {
            return alloc(tid);
        }

        public long allocPreallocated(int tid) {
            return alloc(tid);
        }

        public long free(int tid) {
            if (nHeld[tid] == 0) {
                return LongMempool.NULL;
            }
            long e = held[tid][--nHeld[tid]];
            reserve[curr++] = e;
            return e;
        }

        public int currNr() {
            return curr;
        }
    }

    @Test
    void modelChecking() {
        new ModelCheckingOptions()
                .iterations(30)
                .invocationsPerIteration(500)
                .threads(3)
                .actorsPerThread(3)
                .sequentialSpecification(Spec.class)
                .check(State.class);
    }

    @Test
    void stress() {
        new StressOptions()
                .iterations(30)
                .invocationsPerIteration(1_000)
                .threads(3)
                .actorsPerThread(4)
                .sequentialSpecification(Spec.class)
                .check(State.class);
    }
}
