package io.memscope.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

/**
 * The stall watchdog catches a real deadlock: two virtual threads take two locks in opposite
 * order and stop making progress; the watchdog trips and its dump names both threads and what
 * they wait on. A canary in the RELIABILITY sense: if the watchdog could not see this, B2's
 * "no deadlock" would mean nothing.
 */
class ProgressWatchdogTest {

    @Test
    void aRealDeadlockTripsTheWatchdogWithEveryThreadsStack() throws Exception {
        ReentrantLock a = new ReentrantLock();
        ReentrantLock b = new ReentrantLock();
        AtomicLong work = new AtomicLong();
        CountDownLatch bothHoldOne = new CountDownLatch(2);
        Thread t1 = Thread.ofVirtual().name("deadlock-ab").start(() -> lockBoth(a, b, bothHoldOne, work));
        Thread t2 = Thread.ofVirtual().name("deadlock-ba").start(() -> lockBoth(b, a, bothHoldOne, work));
        try (ProgressWatchdog w = ProgressWatchdog.start(work::get, Duration.ofSeconds(2))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!w.tripped() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(w.tripped()).as("the watchdog saw the stall").isTrue();
            assertThat(w.dump())
                    .startsWith("no progress for ")
                    .contains("deadlock-ab", "deadlock-ba")
                    .contains("ReentrantLock")
                    .contains(getClass().getName() + ".lockBoth");
        } finally {
            t1.interrupt();
            t2.interrupt();
            t1.join();
            t2.join();
        }
    }

    @Test
    void steadyProgressNeverTrips() throws Exception {
        AtomicLong work = new AtomicLong();
        try (ProgressWatchdog w = ProgressWatchdog.start(work::get, Duration.ofSeconds(2))) {
            long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            while (System.nanoTime() < end) {
                work.incrementAndGet();
                Thread.sleep(100);
            }
            assertThat(w.tripped()).isFalse();
            assertThat(w.dump()).isNull();
        }
    }

    @Test
    void oneStalledCounterTripsWhileAnotherKeepsMoving() throws Exception {
        AtomicLong writes = new AtomicLong();
        AtomicLong reads = new AtomicLong(7);
        try (ProgressWatchdog w = ProgressWatchdog.start(Duration.ofSeconds(2), new String[] {"writes", "reads"},
                writes::get, reads::get)) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!w.tripped() && System.nanoTime() < deadline) {
                writes.incrementAndGet(); // the writers run on; the readers do not
                Thread.sleep(50);
            }
            assertThat(w.tripped()).as("a stall of the reads alone trips the watchdog").isTrue();
            assertThat(w.dump()).startsWith("no progress for ").contains("(reads stuck at 7)");
        }
    }

    private static void lockBoth(ReentrantLock first, ReentrantLock second, CountDownLatch bothHoldOne, AtomicLong work) {
        try {
            first.lockInterruptibly();
            try {
                work.incrementAndGet();
                bothHoldOne.countDown();
                bothHoldOne.await();
                second.lockInterruptibly(); // each waits for the other's first lock: deadlock
                second.unlock();
            } finally {
                first.unlock();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // released by the test's clean-up
        }
    }
}
