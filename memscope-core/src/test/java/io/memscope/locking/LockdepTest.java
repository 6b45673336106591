package io.memscope.locking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memscope.debug.KernelLog;
import io.memscope.debug.KernelPanicException;
import io.memscope.locking.LockMisuseException.LockNotHeldException;
import io.memscope.sched.Task;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

/** Lockdep's rules (kernel/locking/lockdep.c): cycles, recursion, imbalance, usage states, options. */
class LockdepTest {
    private final KernelLog log = new KernelLog(4096, false);
    private final Lockdep dep = new Lockdep(Lockdep.Options.defaults(), log);

    private static Mutex mutex(Lockdep d, String name) {
        return new Mutex(d, name);
    }

    @Test
    void abbaOnMutexesIsReportedInTheKernelsShape() {
        Mutex a = new Mutex(dep, "lock_A");
        Mutex b = new Mutex(dep, "lock_B");
        a.lock();
        b.lock();
        b.unlock();
        a.unlock();
        assertThat(dep.reportCount()).isZero();

        b.lock();
        a.lock(); // check_noncircular: A -> B exists, adding B -> A
        a.unlock();
        b.unlock();

        assertThat(dep.reportCount()).isEqualTo(1);
        List<String> l = log.entries().get(0).lines();
        String me = Thread.currentThread().getName() + "/" + Thread.currentThread().threadId();
        assertThat(l).containsSubsequence(
                "======================================================",
                "WARNING: possible circular locking dependency detected",
                "------------------------------------------------------",
                me + " is trying to acquire lock:",
                "but task is already holding lock:",
                "which lock already depends on the new lock.",
                "the existing dependency chain (in reverse order) is:",
                "-> #1 (lock_B){+.+.}-{4:4}:",
                "-> #0 (lock_A){+.+.}-{4:4}:",
                "other info that might help us debug this:",
                " Possible unsafe locking scenario:",
                "       CPU0                    CPU1",
                "       ----                    ----",
                "  lock(lock_B);",
                "                               lock(lock_A);",
                "                               lock(lock_B);",
                "  lock(lock_A);",
                " *** DEADLOCK ***",
                "1 lock held by " + me + ":",
                "stack backtrace:");
        assertThat(String.join("\n", l)).contains("(lock_B){+.+.}-{4:4}, at: LockdepTest.abbaOnMutexesIsReportedInTheKernelsShape(LockdepTest.java:");
    }

    @Test
    void consistentOrderIsNeverReported() {
        Mutex a = new Mutex(dep, "a");
        Mutex b = new Mutex(dep, "b");
        Mutex c = new Mutex(dep, "c");
        for (int i = 0; i < 3; i++) {
            a.lock();
            b.lock();
            c.lock();
            c.unlock();
            b.unlock();
            a.unlock();
            b.lock();
            c.lock();
            c.unlock();
            b.unlock();
        }
        assertThat(dep.reportCount()).isZero();
        assertThat(dep.dependencyCount()).isEqualTo(2); // a->b, b->c (a->c only through b)
    }

    @Test
    void longerCycleNamesTheChain() {
        Mutex a = new Mutex(dep, "A");
        Mutex b = new Mutex(dep, "B");
        Mutex c = new Mutex(dep, "C");
        lu2(a, b);
        lu2(b, c);
        lu2(c, a);
        assertThat(log.dmesg()).contains("Chain exists of:\n  A --> B --> C", "-> #2 (C)", "-> #1 (B)", "-> #0 (A)");
    }

    private static void lu2(Mutex x, Mutex y) {
        x.lock();
        y.lock();
        y.unlock();
        x.unlock();
    }

    @Test
    void oneChainIsReportedOnce() {
        Mutex a = new Mutex(dep, "A");
        Mutex b = new Mutex(dep, "B");
        for (int i = 0; i < 3; i++) {
            lu2(a, b);
            lu2(b, a);
        }
        assertThat(dep.reportCount()).isEqualTo(1);
    }

    @Test
    void recursiveLockingOfOneClassIsReported() {
        Mutex x1 = mutex(dep, "X");
        Mutex x2 = mutex(dep, "X");
        x1.lock();
        x2.lock();
        assertThat(log.dmesg()).contains("WARNING: possible recursive locking detected", "  lock(X);\n  lock(X);",
                " May be due to missing lock nesting notation", "1 lock held by");
        x2.unlock();
        x1.unlock();
    }

    @Test
    void doubleUnlockIsReportedThenRefused() {
        Mutex a = new Mutex(dep, "A");
        a.lock();
        a.unlock();
        assertThatThrownBy(a::unlock).isInstanceOf(LockNotHeldException.class).hasMessageContaining("not held");
        assertThat(log.dmesg()).contains("WARNING: bad unlock balance detected!",
                "is trying to release lock (A) at:", "but there are no more locks to release!");
        a.lock(); // the lock itself is intact
        a.unlock();
    }

    @Test
    void reinitializingAHeldLockIsReported() {
        SpinLock s = new SpinLock(dep, "S");
        s.lock();
        assertThatThrownBy(s::reinit).isInstanceOf(LockMisuseException.LockHeldException.class);
        s.unlock();
        assertThat(log.dmesg()).contains("WARNING: held lock freed!");
    }

    @Test
    void hardirqSafeLockTakenWithIrqsOnIsInconsistent() {
        SpinLock s = new SpinLock(dep, "irq_lock");
        Irq.hardirq(() -> {
            s.lock();
            s.unlock();
        });
        assertThat(dep.reportCount()).isZero();
        s.lock();
        s.unlock();
        assertThat(log.dmesg()).contains("WARNING: inconsistent lock state",
                "inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage.", "{IN-HARDIRQ-W} state was registered at:",
                "  <Interrupt>", "    lock(irq_lock);");
    }

    @Test
    void irqsOnFirstThenHardirqIsInconsistentTheOtherWay() {
        SpinLock s = new SpinLock(dep, "l");
        s.lock();
        s.unlock();
        Irq.hardirq(() -> {
            s.lock();
            s.unlock();
        });
        assertThat(log.dmesg()).contains("inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage.", "[HC1[1]:SC0[0]:HE0:SE1]");
    }

    @Test
    void hardirqSafeLockTakenWithIrqsDisabledIsFine() {
        SpinLock s = new SpinLock(dep, "l");
        Irq.hardirq(() -> {
            s.lock();
            s.unlock();
        });
        s.lockIrq();
        s.unlockIrq();
        assertThat(dep.reportCount()).isZero();
        assertThat(s.lockdepMap().lockClass().usageChars()).isEqualTo("-..."); // softirq-on is only recorded with hardirqs on (mark_usage)
    }

    @Test
    void softirqSafeLockTakenWithSoftirqsOnIsInconsistent() {
        SpinLock s = new SpinLock(dep, "bh_lock");
        Irq.softirq(() -> {
            s.lock();
            s.unlock();
        });
        s.lockBh();
        s.unlockBh();
        assertThat(dep.reportCount()).isZero();
        s.lock();
        s.unlock();
        assertThat(log.dmesg()).contains("inconsistent {IN-SOFTIRQ-W} -> {SOFTIRQ-ON-W} usage.");
    }

    @Test
    void userLocksAreCheckedThroughAnnotations() {
        ReentrantLock ra = new ReentrantLock();
        ReentrantLock rb = new ReentrantLock();
        LockdepMap ma = dep.newMap("cache->lock");
        LockdepMap mb = dep.newMap("journal->lock");
        ra.lock();
        dep.acquire(ma);
        rb.lock();
        dep.acquire(mb);
        dep.release(mb);
        rb.unlock();
        dep.release(ma);
        ra.unlock();
        synchronized (rb) {
            dep.acquire(mb);
            dep.acquire(ma);
            dep.release(ma);
            dep.release(mb);
        }
        assertThat(log.dmesg()).contains("possible circular locking dependency detected", "(journal->lock)");
    }

    @Test
    void trylockRecordsNoDependency() {
        Mutex a = new Mutex(dep, "A");
        Mutex b = new Mutex(dep, "B");
        a.lock();
        assertThat(b.tryLock()).isTrue();
        b.unlock();
        a.unlock();
        lu2(b, a);
        assertThat(dep.reportCount()).isZero();
    }

    @Test
    void panicOnWarnThrowsAndLeavesNothingHeld() {
        KernelLog panicking = new KernelLog(64, true);
        Lockdep d = new Lockdep(Lockdep.Options.defaults(), panicking);
        Mutex a = new Mutex(d, "A");
        Mutex b = new Mutex(d, "B");
        lu2(a, b);
        b.lock();
        assertThatThrownBy(a::lock).isInstanceOf(KernelPanicException.class)
                .hasMessageContaining("possible circular locking dependency detected");
        assertThat(a.isLocked()).isFalse();
        assertThat(d.isHeld(a.lockdepMap())).isFalse();
        b.unlock();
    }

    @Test
    void classCapDegradesGracefully() {
        Lockdep d = new Lockdep(Lockdep.Options.defaults().withMaxClasses(3), log); // fs_reclaim is #1
        Mutex a = new Mutex(d, "A");
        Mutex b = new Mutex(d, "B");
        Mutex c = new Mutex(d, "C");
        assertThat(d.debugLocks()).isFalse();
        assertThat(log.dmesg()).contains("BUG: MAX_LOCKDEP_KEYS too low!\nturning off the locking correctness validator.");
        lu2(a, b);
        lu2(b, a);
        lu2(c, a);
        assertThat(d.reportCount()).isZero();
    }

    @Test
    void offMeansNoChecksButRealLocking() {
        Lockdep off = Lockdep.disabled();
        Mutex a = new Mutex(off, "A");
        Mutex b = new Mutex(off, "B");
        lu2(a, b);
        lu2(b, a);
        assertThat(off.reportCount()).isZero();
        assertThat(a.lockdepMap().lockClass()).isNull();
        a.lock();
        assertThat(a.isHeldByCurrentThread()).isTrue();
        a.unlock();
    }

    @Test
    void withCheckingOffARecursiveAcquisitionReallyDeadlocksUntilAborted() throws Exception {
        Lockdep off = Lockdep.disabled();
        Mutex a = new Mutex(off, "A");
        java.util.concurrent.atomic.AtomicReference<Throwable> outcome = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            a.lock();
            try {
                a.lock(); // AA: the kernel hangs here, and so does memscope with checking off
            } catch (Throwable e) {
                outcome.set(e);
            } finally {
                a.unlock();
            }
        });
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (off.waiters().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        assertThat(off.waiters()).hasSize(1);
        assertThat(t.isAlive()).isTrue();
        assertThat(off.abortAllWaiters()).isEqualTo(1);
        t.join(10_000);
        assertThat(outcome.get()).isInstanceOf(WaitAbortedException.class);
        assertThat(a.isLocked()).isFalse();
    }

    @Test
    void spinlocksMakeTheTaskAtomicExceptSpinLockOnPreemptRt() {
        Task t = Task.current();
        SpinLock s = new SpinLock(dep, "s");
        RawSpinLock r = new RawSpinLock(dep, "r");
        s.lock();
        assertThat(t.inAtomic()).isTrue();
        s.unlock();
        assertThat(t.inAtomic()).isFalse();

        Lockdep rt = new Lockdep(Lockdep.Options.defaults().withPreemptRt(true), log);
        SpinLock srt = new SpinLock(rt, "s_rt");
        RawSpinLock rrt = new RawSpinLock(rt, "r_rt");
        srt.lock();
        assertThat(srt.isSleeping()).isTrue();
        assertThat(t.inAtomic()).isFalse();
        rrt.lock();
        assertThat(t.inAtomic()).isTrue();
        assertThat(t.rawLockDepth()).isEqualTo(1);
        rrt.unlock();
        srt.unlock();
        r.lock();
        r.unlock();
        assertThat(t.preemptCount()).isZero();
        assertThat(dep.reportCount() + rt.reportCount()).isZero();
    }

    @Test
    void rwsemReadersAreNonRecursiveForLockdep() {
        RwSemaphore a = new RwSemaphore(dep, "A");
        RwSemaphore b = new RwSemaphore(dep, "B");
        a.downRead();
        b.downRead();
        b.upRead();
        a.upRead();
        b.downRead();
        a.downRead();
        a.upRead();
        b.upRead();
        assertThat(log.dmesg()).contains("possible circular locking dependency detected", "  rlock(A);");
    }
}
