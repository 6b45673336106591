package io.memscope.sched;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@link CondResched}: the voluntary preemption point that keeps CPU-bound virtual threads from
 * holding every carrier (the JDK's scheduler, like {@code CONFIG_PREEMPT_NONE}, never takes a
 * carrier away).
 */
class CondReschedTest {

    /** Carriers of the default virtual-thread scheduler. */
    private static int carriers() {
        return Integer.getInteger("jdk.virtualThreadScheduler.parallelism", Runtime.getRuntime().availableProcessors());
    }

    /**
     * As many virtual threads as there are carriers loop without blocking, calling
     * {@code condResched()} in each iteration; one more virtual thread, started after all of them
     * are running, must still get a carrier. Without the yield it would wait until the spinners
     * give up at their deadline.
     */
    @Test
    void cpuBoundVirtualThreadsThatCallCondReschedLetAnotherVirtualThreadRun() throws Exception {
        lateThreadRunsWhileSpinnersHoldEveryCarrier(false);
    }

    /**
     * The same with the spinners' interrupt status set: a park returns at once while it is set, so
     * condResched must clear it around the park (and set it again) to give the carrier away.
     */
    @Test
    void interruptedVirtualThreadsStillGiveTheirCarrierAwayAndStayInterrupted() throws Exception {
        lateThreadRunsWhileSpinnersHoldEveryCarrier(true);
    }

    private static void lateThreadRunsWhileSpinnersHoldEveryCarrier(boolean interrupted) throws Exception {
        int n = carriers();
        java.util.concurrent.atomic.AtomicInteger lostInterrupts = new java.util.concurrent.atomic.AtomicInteger();
        AtomicBoolean ran = new AtomicBoolean();
        CountDownLatch allSpinning = new CountDownLatch(n);
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<Thread> spinners = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            spinners.add(Thread.ofVirtual().name("spinner" + i).start(() -> {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                allSpinning.countDown();
                long x = 0;
                while (!ran.get() && System.nanoTime() < giveUp) {
                    x += System.identityHashCode(ran); // CPU-bound work, no blocking
                    CondResched.condResched();
                    if (interrupted && !Thread.currentThread().isInterrupted()) {
                        lostInterrupts.incrementAndGet();
                    }
                }
                assertThat(x).isNotNegative();
            }));
        }
        assertThat(allSpinning.await(10, TimeUnit.SECONDS)).as("every spinner got a carrier").isTrue();
        long start = System.nanoTime();
        Thread late = Thread.ofVirtual().name("late").start(() -> ran.set(true));
        late.join(TimeUnit.SECONDS.toMillis(10));
        long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        for (Thread t : spinners) {
            t.join();
        }
        assertThat(ran.get()).as("the late virtual thread ran while %d spinners held the %d carriers (waited %d ms)",
                n, n, waitedMs).isTrue();
        assertThat(giveUp - System.nanoTime()).as("it ran before the spinners gave up").isPositive();
        assertThat(lostInterrupts.get()).as("interrupt status kept").isZero();
    }

    @Test
    void platformThreadsNeverYield() {
        long end = System.nanoTime() + 3 * CondResched.SLICE_NANOS;
        boolean yielded = false;
        while (System.nanoTime() < end) {
            yielded |= CondResched.condResched();
        }
        assertThat(yielded).as("the operating system preempts platform threads").isFalse();
    }

    @Test
    void aVirtualThreadYieldsOnceItsSliceIsUsedAndNotBefore() throws Exception {
        boolean[] result = new boolean[3];
        Thread t = Thread.ofVirtual().start(() -> {
            Task.current(); // the first slice starts with the task
            spinFor(2 * CondResched.SLICE_NANOS);
            result[0] = CondResched.condResched(); // slice used: yields and starts a new one
            result[1] = CondResched.condResched(); // just yielded: the new slice has barely begun
            spinFor(2 * CondResched.SLICE_NANOS);
            result[2] = CondResched.condResched();
        });
        t.join();
        assertThat(result).containsExactly(true, false, true);
    }

    /** {@code should_resched(0)} is false in atomic context: a spinlock holder, interrupts off, an interrupt. */
    @Test
    void aVirtualThreadInAtomicContextNeverYields() throws Exception {
        boolean[] result = new boolean[4];
        Thread t = Thread.ofVirtual().start(() -> {
            Task task = Task.current();
            spinFor(2 * CondResched.SLICE_NANOS);
            task.preemptCountAdd(Task.PREEMPT_OFFSET); // spin_lock()
            result[0] = CondResched.condResched();
            task.preemptCountSub(Task.PREEMPT_OFFSET);
            task.localIrqDisable();
            result[1] = CondResched.condResched();
            task.localIrqEnable();
            task.preemptCountAdd(Task.HARDIRQ_OFFSET);
            result[2] = CondResched.condResched();
            task.preemptCountSub(Task.HARDIRQ_OFFSET);
            result[3] = CondResched.condResched(); // preemptible again, slice long used
        });
        t.join();
        assertThat(result).containsExactly(false, false, false, true);
    }

    private static void spinFor(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
