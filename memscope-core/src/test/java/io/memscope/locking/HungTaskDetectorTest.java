package io.memscope.locking;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.debug.KernelLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** RELIABILITY C4 (lock part): kernel/hung_task.c on a real ABBA deadlock with lockdep off. */
class HungTaskDetectorTest {
    private final KernelLog log = new KernelLog(4096, false);
    private final Lockdep dep = new Lockdep(Lockdep.Options.off(), log);
    private final List<Thread> threads = new ArrayList<>();
    private final List<AtomicReference<Throwable>> outcomes = new ArrayList<>();

    /** Two threads deadlocked ABBA on real Mutexes; returns once both are blocked. */
    private void deadlock(Mutex a, Mutex b) throws InterruptedException {
        CountDownLatch bothHold = new CountDownLatch(2);
        threads.add(start("worker-ab", a, b, bothHold));
        threads.add(start("worker-ba", b, a, bothHold));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (dep.waiters().size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(dep.waiters()).hasSize(2);
    }

    private Thread start(String name, Mutex first, Mutex second, CountDownLatch bothHold) {
        AtomicReference<Throwable> out = new AtomicReference<>();
        outcomes.add(out);
        return Thread.ofPlatform().name(name).start(() -> {
            first.lock();
            try {
                bothHold.countDown();
                bothHold.await();
                second.lock();
                second.unlock();
            } catch (Throwable t) {
                out.set(t);
            } finally {
                first.unlock();
            }
        });
    }

    @AfterEach
    void breakTheDeadlock() throws InterruptedException {
        dep.abortAllWaiters();
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(t.isAlive()).as("thread %s must end", t.getName()).isFalse();
        }
    }

    @Test
    void reportsOnlyAfterTheTimeoutAndNamesOwnerCycleAndLocks() throws InterruptedException {
        Mutex a = new Mutex(dep, "&inode->i_rwsem");
        Mutex b = new Mutex(dep, "&journal->j_lock");
        deadlock(a, b);
        HungTaskDetector d = new HungTaskDetector(dep, Duration.ofSeconds(120), Duration.ofSeconds(120), 10);
        long first = dep.waiters().stream().mapToLong(w -> w.sinceNanos).min().orElseThrow();
        long last = dep.waiters().stream().mapToLong(w -> w.sinceNanos).max().orElseThrow();
        assertThat(d.check(first + TimeUnit.SECONDS.toNanos(120) - 1)).isZero();
        assertThat(d.check(last + TimeUnit.SECONDS.toNanos(120))).isEqualTo(2);
        String r = log.dmesg();
        long ab = threads.get(0).threadId();
        long ba = threads.get(1).threadId();
        assertThat(r).contains("INFO: task worker-ab:" + ab + " blocked for more than 120 seconds.",
                "\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.",
                "INFO: task worker-ab:" + ab + " is blocked on a mutex likely owned by task worker-ba:" + ba + ".",
                "INFO: task worker-ba:" + ba + " is blocked on a mutex likely owned by task worker-ab:" + ab + ".",
                "INFO: deadlock: task worker-ab:" + ab + " waits for (&journal->j_lock) owned by task worker-ba:" + ba
                        + " waits for (&inode->i_rwsem) owned by task worker-ab:" + ab,
                "Showing all locks held in the system:",
                "1 lock held by worker-ba/" + ba + ":",
                " #0: (&journal->j_lock), waited for by worker-ab:" + ab);
        assertThat(d.warningsLeft()).isEqualTo(8);
    }

    @Test
    void reportsStopAfterHungTaskWarnings() throws InterruptedException {
        deadlock(new Mutex(dep, "A"), new Mutex(dep, "B"));
        HungTaskDetector d = new HungTaskDetector(dep, Duration.ofMillis(1), Duration.ofMillis(1), 3);
        long later = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        assertThat(d.check(later)).isEqualTo(2);
        assertThat(d.check(later)).isEqualTo(1);
        assertThat(d.check(later)).isZero();
        assertThat(log.dmesg().split("blocked for more than", -1)).hasSize(4);
    }

    @Test
    void daemonThreadReportsARealDeadlockAndAbortReleasesIt() throws InterruptedException {
        Mutex a = new Mutex(dep, "A");
        Mutex b = new Mutex(dep, "B");
        deadlock(a, b);
        try (HungTaskDetector d = new HungTaskDetector(dep, Duration.ofMillis(100), Duration.ofMillis(20), 10).start()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!log.dmesg().contains("INFO: deadlock:") && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(log.dmesg()).contains("blocked for more than", "INFO: deadlock:");
        }
        assertThat(dep.abortAllWaiters()).isEqualTo(2);
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(t.isAlive()).as("no task stays blocked").isFalse();
        }
        // The first aborted worker releases its lock on the way out, so the second may win that
        // lock before it notices its own abort: each ends aborted or with both locks taken and
        // released, and at least one was aborted.
        assertThat(outcomes).allSatisfy(o -> assertThat(o.get()).satisfiesAnyOf(
                v -> assertThat(v).isNull(), v -> assertThat(v).isInstanceOf(WaitAbortedException.class)));
        assertThat(outcomes).anySatisfy(o -> assertThat(o.get()).isInstanceOf(WaitAbortedException.class));
        assertThat(a.isLocked()).isFalse();
        assertThat(b.isLocked()).isFalse();
    }

    @Test
    void killableWaitIsNotHungAndEndsOnInterrupt() throws InterruptedException {
        Mutex a = new Mutex(dep, "A");
        a.lock();
        AtomicReference<Boolean> got = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("killable").start(() -> got.set(a.lockKillable()));
        while (dep.waiters().isEmpty()) {
            Thread.sleep(5);
        }
        HungTaskDetector d = new HungTaskDetector(dep, Duration.ofMillis(1), Duration.ofMillis(1), 10);
        assertThat(d.check(System.nanoTime() + TimeUnit.SECONDS.toNanos(1))).isZero();
        t.interrupt();
        t.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(got.get()).isFalse();
        a.unlock();
    }
}
