package io.memscope.locking;

import io.memscope.locking.LockMisuseException.LockHeldException;
import io.memscope.locking.LockMisuseException.LockNotHeldException;
import io.memscope.sched.Task;
import java.util.Objects;

/**
 * {@code spinlock_t} ({@code include/linux/spinlock.h}, {@code kernel/locking/spinlock_rt.c}).
 *
 * <p>Normally a spinlock: holding it makes the task atomic (preemption count + 1), so a sleeping
 * call under it is reported by {@code might_sleep()}. On a machine with the {@code preemptRt}
 * option it becomes what PREEMPT_RT makes it — a sleeping lock (an rt-mutex) that leaves the task
 * preemptible; only {@link RawSpinLock} keeps atomicity there. The {@code Irq}/{@code Bh} variants
 * additionally disable interrupts or bottom halves (not on PREEMPT_RT, where they are plain locks).
 */
public final class SpinLock implements BlockingLock {
    private final Lockdep dep;
    private final LockdepMap map;
    private final String name;
    private final boolean sleeping;
    private final SpinCore core;
    private final SleepingSync rt;

    /** A spinlock of class {@code name} + the calling line ({@code DEFINE_SPINLOCK}). */
    public SpinLock(Lockdep lockdep, String name) {
        this(lockdep, name, null);
    }

    /** A spinlock whose class is {@code key}. */
    public SpinLock(Lockdep lockdep, String name, LockClassKey key) {
        this.dep = Objects.requireNonNull(lockdep, "lockdep");
        this.name = Objects.requireNonNull(name, "name");
        this.map = lockdep.newMap(name, LockType.SPINLOCK, key);
        this.sleeping = lockdep.preemptRt;
        this.core = sleeping ? null : new SpinCore();
        this.rt = sleeping ? new SleepingSync() : null;
    }

    /** True when this lock sleeps (the machine is PREEMPT_RT). */
    public boolean isSleeping() {
        return sleeping;
    }

    /** {@code spin_lock()}. */
    public void lock() {
        if (sleeping) {
            if (dep.checking) {
                dep.mightSleep(); // rtlock_might_resched()
                dep.lockAcquire(map, 0, false, null);
            }
            if (!rt.tryLockFast()) {
                boolean ok = false;
                try {
                    if (rt.owner() == Thread.currentThread()) {
                        throw new LockMisuseException.RecursiveLockingException(name, Thread.currentThread());
                    }
                    ok = rt.await(dep, this, false, false);
                } finally {
                    if (!ok && dep.checking) {
                        dep.lockRelease(map, false);
                    }
                }
            }
            return;
        }
        Task t = Task.current();
        t.preemptCountAdd(Task.PREEMPT_OFFSET);
        if (dep.checking) {
            try {
                dep.lockAcquire(map, 0, false, null);
            } catch (RuntimeException panic) {
                t.preemptCountSub(Task.PREEMPT_OFFSET);
                throw panic;
            }
        }
        core.lock();
    }

    /** {@code spin_lock_irq()}: interrupts off, then lock (PREEMPT_RT: just lock). */
    public void lockIrq() {
        if (!sleeping) {
            Task.current().localIrqDisable();
        }
        lock();
    }

    /** {@code spin_lock_bh()}: bottom halves off, then lock. */
    public void lockBh() {
        Task.current().preemptCountAdd(Task.SOFTIRQ_DISABLE_OFFSET);
        lock();
    }

    /** {@code spin_trylock()}. */
    public boolean tryLock() {
        if (sleeping) {
            if (!rt.tryLockFast()) {
                return false;
            }
        } else {
            Task t = Task.current();
            t.preemptCountAdd(Task.PREEMPT_OFFSET);
            if (!core.tryLock()) {
                t.preemptCountSub(Task.PREEMPT_OFFSET);
                return false;
            }
        }
        if (dep.checking) {
            dep.lockAcquire(map, 0, true, null);
        }
        return true;
    }

    /**
     * {@code spin_unlock()}.
     *
     * @throws LockNotHeldException when the caller does not hold it (lockdep reports first)
     */
    public void unlock() {
        Thread owner = sleeping ? rt.owner() : core.owner();
        if (owner != Thread.currentThread()) {
            if (dep.checking) {
                dep.lockRelease(map, true);
            }
            throw new LockNotHeldException(name, Thread.currentThread(), owner);
        }
        if (dep.checking) {
            dep.lockRelease(map, true);
        }
        if (sleeping) {
            rt.release(1);
        } else {
            core.unlock();
            Task.current().preemptCountSub(Task.PREEMPT_OFFSET);
        }
    }

    /** {@code spin_unlock_irq()}. */
    public void unlockIrq() {
        unlock();
        if (!sleeping) {
            Task.current().localIrqEnable();
        }
    }

    /** {@code spin_unlock_bh()}. */
    public void unlockBh() {
        unlock();
        Task.current().preemptCountSub(Task.SOFTIRQ_DISABLE_OFFSET);
    }

    /**
     * {@code spin_lock_init()} on an existing lock.
     *
     * @throws LockHeldException when it is held (lockdep reports "held lock freed!" first)
     */
    public void reinit() {
        dep.checkNotHeldOnInit(map);
        if (isLocked()) {
            throw new LockHeldException(name);
        }
    }

    /** {@code spin_is_locked()}. */
    public boolean isLocked() {
        return sleeping ? rt.isLocked() : core.isLocked();
    }

    public LockdepMap lockdepMap() {
        return map;
    }

    @Override
    public String lockName() {
        return name;
    }

    @Override
    public String kindPhrase() {
        return "an rt-spinlock";
    }

    @Override
    public Thread likelyOwner() {
        return sleeping ? rt.owner() : core.owner();
    }

    @Override
    public String toString() {
        return "SpinLock[" + name + "]";
    }
}
