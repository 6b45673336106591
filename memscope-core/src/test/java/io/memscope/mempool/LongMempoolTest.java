package io.memscope.mempool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memscope.debug.FaultAttr;
import io.memscope.debug.KernelLog;
import io.memscope.debug.KernelPanicException;
import io.memscope.gfp.Gfp;
import io.memscope.sched.Task;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The rules of mm/mempool.c: KERNEL.md T55–T58 and the documented contracts. */
class LongMempoolTest {
    static final long SEED = Long.getLong("memscope.test.seed", 20261122L);

    final KernelLog log = new KernelLog(4096, true);
    final RecordingAllocator a = new RecordingAllocator();

    MempoolConfig config(Duration wait) {
        return MempoolConfig.defaults(log, "test").withWait(wait);
    }

    LongMempool pool(int minNr) {
        LongMempool p = LongMempool.create(config(Duration.ofMillis(20)), minNr, a, a);
        assertThat(p).isNotNull();
        a.masks.clear();
        return p;
    }

    /** Runs body on a new platform thread and fails (instead of hanging) if it does not end in time. */
    static Thread startBounded(Runnable body) {
        Thread t = Thread.ofPlatform().name("mempool-test").start(body);
        return t;
    }

    static void joinBounded(Thread t) throws InterruptedException {
        t.join(Duration.ofSeconds(10));
        assertThat(t.isAlive()).as("thread %s still running after 10 s (hang)", t.getName()).isFalse();
    }

    @Test
    void createPreallocatesMinNrWithGfpKernel() {
        LongMempool p = LongMempool.create(config(Duration.ofMillis(20)), 3, a, a);
        assertThat(p.currNr()).isEqualTo(3);
        assertThat(a.masks).containsExactly(Gfp.KERNEL, Gfp.KERNEL, Gfp.KERNEL);
        assertThat(a.live).hasSize(3);
        p.destroy();
        assertThat(a.live).isEmpty();
    }

    @Test
    void zeroMinimumPoolStillPreallocatesOneElement() {
        LongMempool p = LongMempool.create(config(Duration.ofMillis(20)), 0, a, a);
        assertThat(p.currNr()).isEqualTo(1);
        p.destroy();
    }

    @Test
    void createFailsCleanlyFreeingWhatItGot() {
        a.failWhen = gfp -> a.masks.size() >= 3;
        assertThat(LongMempool.create(config(Duration.ofMillis(20)), 4, a, a)).isNull();
        assertThat(a.masks).hasSize(3);
        assertThat(a.live).isEmpty();
        assertThat(a.frees.get()).isEqualTo(2);
    }

    @Test
    void firstPassWithoutReclaimOrIoThenFullMask_T55() {
        LongMempool p = pool(1);
        long reserved = p.mempoolAllocPreallocated();
        assertThat(reserved).isNotEqualTo(LongMempool.NULL);
        assertThat(a.masks).as("alloc_preallocated never calls alloc_fn").isEmpty();
        a.failNext.set(1);
        long e = p.mempoolAlloc(Gfp.KERNEL);
        assertThat(e).isNotEqualTo(LongMempool.NULL);
        assertThat(a.masks).containsExactly(0x92880, 0x92cc0);
        p.mempoolFree(e);
        p.mempoolFree(reserved);
        p.destroy();
    }

    @Test
    void backingAllocatorFirstReserveOnlyWhenItFails() {
        LongMempool p = pool(2);
        long e = p.mempoolAlloc(Gfp.KERNEL);
        assertThat(p.currNr()).as("allocator succeeded: reserve untouched").isEqualTo(2);
        a.failAlways();
        long r1 = p.mempoolAlloc(Gfp.KERNEL);
        long r2 = p.mempoolAlloc(Gfp.KERNEL);
        assertThat(p.currNr()).isZero();
        assertThat(r1).as("reserve is LIFO: the last preallocated comes out first").isGreaterThan(r2);
        p.mempoolFree(r2);
        p.mempoolFree(r1);
        p.mempoolFree(e);
        p.destroy();
    }

    @Test
    void atomicAllocationFailsImmediatelyWhenReserveAndAllocatorAreEmpty_T57() {
        LongMempool p = pool(1);
        long reserved = p.mempoolAllocPreallocated();
        a.failAlways();
        assertThat(p.mempoolAlloc(Gfp.ATOMIC)).isEqualTo(LongMempool.NULL);
        assertThat(a.masks).as("one pass: GFP_ATOMIC has neither DIRECT_RECLAIM nor IO").containsExactly(0x92820);
        a.masks.clear();
        assertThat(p.mempoolAlloc(Gfp.NOWAIT)).isEqualTo(LongMempool.NULL);
        assertThat(a.masks).containsExactly(0x92800);
        assertThat(p.mempoolAllocPreallocated()).isEqualTo(LongMempool.NULL);
        p.mempoolFree(reserved);
        p.destroy();
    }

    @Test
    void sleepingAllocationRetriesTheAllocatorEveryRoundAndNeverReturnsNull_T56() {
        LongMempool p = pool(1);
        long reserved = p.mempoolAllocPreallocated();
        a.failNext.set(7); // 2 passes, then the allocator fails 5 more rounds before it recovers
        long e = p.mempoolAlloc(Gfp.KERNEL);
        assertThat(e).isNotEqualTo(LongMempool.NULL);
        assertThat(a.masks).hasSize(8);
        assertThat(a.masks.subList(1, 8)).containsOnly(0x92cc0);
        p.mempoolFree(e);
        p.mempoolFree(reserved);
        p.destroy();
    }

    @Test
    void freeRefillsReserveBelowMinNrElseFreesToAllocator_T58() {
        LongMempool p = pool(2);
        long x = p.mempoolAlloc(Gfp.KERNEL); // from the allocator
        a.failAlways();
        long r = p.mempoolAlloc(Gfp.KERNEL); // from the reserve: curr 1
        p.mempoolFree(x);
        assertThat(p.currNr()).as("curr_nr < min_nr: x refills the reserve").isEqualTo(2);
        assertThat(a.frees.get()).isZero();
        p.mempoolFree(r);
        assertThat(p.currNr()).isEqualTo(2);
        assertThat(a.frees.get()).as("reserve full: r goes to free_fn").isEqualTo(1);
        p.mempoolFree(LongMempool.NULL);
        assertThat(a.frees.get()).isEqualTo(1);
        p.destroy();
    }

    @Test
    void zeroMinimumPoolTakesOneElementBackWhenEmpty_T58() {
        LongMempool p = pool(0);
        a.failAlways();
        long r = p.mempoolAlloc(Gfp.KERNEL); // the one preallocated element
        a.succeedAlways();
        long x = p.mempoolAlloc(Gfp.KERNEL);
        p.mempoolFree(r);
        assertThat(p.currNr()).isEqualTo(1);
        p.mempoolFree(x);
        assertThat(p.currNr()).isEqualTo(1);
        assertThat(a.frees.get()).isEqualTo(1);
        p.destroy();
    }

    @Test
    void aWaiterIsWokenByAFreeFromAnotherThread() throws Exception {
        // A one-minute wait: only a wake-up can end the wait within the 10 s bound.
        LongMempool p = LongMempool.create(config(Duration.ofMinutes(1)), 1, a, a);
        long held = p.mempoolAlloc(Gfp.KERNEL); // allocator works: held from the allocator
        a.failAlways();
        long reserved = p.mempoolAlloc(Gfp.KERNEL);
        AtomicLong got = new AtomicLong();
        Thread waiter = startBounded(() -> got.set(p.mempoolAlloc(Gfp.KERNEL)));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (p.waiters() == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(p.waiters()).as("the allocating thread sleeps on the pool").isEqualTo(1);
        p.mempoolFree(reserved);
        joinBounded(waiter);
        assertThat(got.get()).isEqualTo(reserved);
        p.mempoolFree(got.get());
        p.mempoolFree(held);
        p.destroy();
    }

    @Test
    void sleepingAllocNeverReturnsNullUnderFullInjection_D3() throws Exception {
        FaultAttr backing = new FaultAttr("failslab", log, SEED).setProbability(100).setTimes(-1).setVerbose(0);
        a.failWhen = gfp -> backing.shouldFail(64);
        a.record = false;
        LongMempool p = LongMempool.create(config(Duration.ofMillis(50)), 2, a, a);
        long preallocInjections = backing.injectedCount();
        assertThat(p).as("create fails while injection is on").isNull();
        backing.setProbability(0);
        p = LongMempool.create(config(Duration.ofMillis(50)), 2, a, a);
        backing.setProbability(100);
        LongMempool pool = p;
        AtomicLong nulls = new AtomicLong();
        AtomicLong ops = new AtomicLong();
        Thread[] ts = new Thread[4];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = startBounded(() -> {
                for (int j = 0; j < 300; j++) {
                    long e = pool.mempoolAlloc(Gfp.KERNEL);
                    if (e == LongMempool.NULL) {
                        nulls.incrementAndGet();
                    } else {
                        ops.incrementAndGet();
                        pool.mempoolFree(e);
                    }
                }
            });
        }
        for (Thread t : ts) {
            joinBounded(t);
        }
        assertThat(nulls.get()).isZero();
        assertThat(ops.get()).isEqualTo(1200);
        assertThat(backing.injectedCount() - preallocInjections).as("every backing call was failed").isGreaterThanOrEqualTo(1200);
        assertThat(pool.currNr()).isEqualTo(2);
        pool.destroy();
        assertThat(a.live).isEmpty();
    }

    @Test
    void resizeUpAllocatesAndDownFreesSurplus() {
        LongMempool p = pool(2);
        p.mempoolResize(5);
        assertThat(p.minNr()).isEqualTo(5);
        assertThat(p.currNr()).isEqualTo(5);
        assertThat(a.masks).containsExactly(Gfp.KERNEL, Gfp.KERNEL, Gfp.KERNEL);
        p.mempoolResize(1);
        assertThat(p.currNr()).isEqualTo(1);
        assertThat(a.frees.get()).isEqualTo(4);
        assertThat(a.live).hasSize(1);
        assertThatThrownBy(() -> p.mempoolResize(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("new_min_nr must be > 0, was 0");
        p.destroy();
    }

    @Test
    void resizeUpWithFailingAllocatorIsRefilledByLaterFrees() {
        LongMempool p = pool(1);
        long e1 = p.mempoolAlloc(Gfp.KERNEL);
        long e2 = p.mempoolAlloc(Gfp.KERNEL);
        a.failAlways();
        p.mempoolResize(3);
        assertThat(p.minNr()).isEqualTo(3);
        assertThat(p.currNr()).isEqualTo(1);
        p.mempoolFree(e1);
        p.mempoolFree(e2);
        assertThat(p.currNr()).isEqualTo(3);
        assertThat(a.frees.get()).isZero();
        p.destroy();
    }

    @Test
    void destroyWithMissingElementsNamesHowMany() {
        LongMempool p = pool(2);
        long e1 = p.mempoolAlloc(Gfp.KERNEL);
        long e2 = p.mempoolAlloc(Gfp.KERNEL);
        assertThatThrownBy(p::destroy).isInstanceOf(MempoolLeakException.class)
                .hasMessage("mempool_destroy of test: expected every element returned (0 outstanding), found 2 outstanding")
                .satisfies(ex -> assertThat(((MempoolLeakException) ex).missing()).isEqualTo(2));
        assertThat(a.live).as("the reserve was still freed").containsExactlyInAnyOrder(e1, e2);
        p.mempoolFree(e1);
        p.mempoolFree(e2);
        assertThat(a.live).as("late frees go to the allocator").isEmpty();
        assertThatThrownBy(p::destroy).isInstanceOf(MempoolDestroyedException.class);
        assertThatThrownBy(() -> p.mempoolAlloc(Gfp.KERNEL)).isInstanceOf(MempoolDestroyedException.class)
                .hasMessage("mempool_alloc on test: expected a live pool, found one already destroyed");
    }

    @Test
    void freeingMoreThanWasHandedOutIsNamedAndLosesNothing() {
        LongMempool p = pool(1);
        long e = p.mempoolAlloc(Gfp.KERNEL);
        p.mempoolFree(e);
        assertThatThrownBy(() -> p.mempoolFree(e)).isInstanceOf(ForeignElementException.class)
                .hasMessage("mempool_free to test: expected at most 0 element(s) outstanding from this pool, found 1 returned");
        assertThat(p.currNr()).isEqualTo(1);
        p.destroy();
        assertThat(a.live).isEmpty();
    }

    @Test
    void gfpZeroIsWarnedOnce() {
        LongMempool p = pool(1);
        assertThatThrownBy(() -> p.mempoolAlloc(Gfp.KERNEL | Gfp.ZERO)).isInstanceOf(KernelPanicException.class)
                .hasMessageContaining("__GFP_ZERO is not supported");
        log.setPanicOnWarn(false);
        p.mempoolFree(p.mempoolAlloc(Gfp.KERNEL | Gfp.ZERO));
        assertThat(log.warnCount()).isEqualTo(1);
        p.destroy();
    }

    @Test
    void blockingAllocFromAtomicContextIsReported_mightAlloc() {
        LongMempool p = pool(1);
        Task t = Task.current();
        t.preemptCountAdd(Task.PREEMPT_OFFSET);
        try {
            long e = p.mempoolAlloc(Gfp.ATOMIC);
            p.mempoolFree(e);
            assertThat(log.entries()).as("GFP_ATOMIC is fine in atomic context").isEmpty();
            assertThatThrownBy(() -> p.mempoolAlloc(Gfp.KERNEL)).isInstanceOf(KernelPanicException.class)
                    .hasMessageContaining("BUG: sleeping function called from invalid context at mm/mempool.c")
                    .hasMessageContaining("in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: " + t.pid())
                    .hasMessageContaining("preempt_count: 1, expected: 0");
        } finally {
            t.preemptCountSub(Task.PREEMPT_OFFSET);
        }
        p.destroy();
    }

    @Test
    void failMempoolAllocForcesReserveUsage() {
        FaultAttr fail = new FaultAttr("fail_mempool_alloc", log, SEED).setProbability(100).setTimes(1);
        LongMempool p = LongMempool.create(config(Duration.ofMillis(20)).withFaultInjection(fail, null), 1, a, a);
        a.masks.clear();
        long e = p.mempoolAlloc(Gfp.KERNEL);
        assertThat(a.masks).as("alloc_fn skipped: the injected failure stands in for it").isEmpty();
        assertThat(p.currNr()).isZero();
        assertThat(fail.injectedCount()).isEqualTo(1);
        assertThat(log.lines()).as("FAULT_NOWARN: only the one-line notice")
                .containsExactly("forcing mempool usage for " + LongMempoolTest.class.getName() + ".failMempoolAllocForcesReserveUsage");
        p.mempoolFree(e);
        p.destroy();
    }

    @Test
    void bulkTakesMissingElementsFromTheReserveAllAtOnce() {
        LongMempool p = pool(3);
        a.failWhen = gfp -> a.masks.size() != 1; // the 1st call succeeds, every later one fails
        long[] elems = new long[3];
        p.mempoolAllocBulk(elems, 3);
        assertThat(elems).doesNotContain(LongMempool.NULL);
        assertThat(a.masks).as("first pass only: the reserve had both missing elements").containsExactly(0x92880, 0x92880);
        assertThat(p.currNr()).isEqualTo(1);
        assertThat(p.outstanding()).isEqualTo(3);
        long last = elems[2];
        int back = p.mempoolFreeBulk(elems, 3);
        assertThat(back).as("the reserve needed two").isEqualTo(2);
        assertThat(elems).containsExactly(LongMempool.NULL, LongMempool.NULL, last);
        assertThat(p.currNr()).isEqualTo(3);
        a.free(last); // the caller frees what the pool did not take
        p.destroy();
        assertThat(a.live).isEmpty();
    }

    @Test
    void bulkWaitsUntilTheReserveHoldsEveryMissingElement() throws Exception {
        LongMempool p = LongMempool.create(config(Duration.ofMinutes(1)), 2, a, a);
        a.failAlways();
        long one = p.mempoolAlloc(Gfp.KERNEL);
        long[] elems = new long[2];
        Thread t = startBounded(() -> p.mempoolAllocBulk(elems, 2));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (p.waiters() == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(p.waiters()).as("one element is not enough: all or nothing").isEqualTo(1);
        p.mempoolFree(one);
        joinBounded(t);
        assertThat(elems).doesNotContain(LongMempool.NULL);
        assertThat(p.mempoolFreeBulk(elems, 2)).isEqualTo(2);
        p.destroy();
    }
}
