package io.memscope.locking;

import io.memscope.locking.LockMisuseException.LockHeldException;
import io.memscope.locking.LockMisuseException.LockNotHeldException;
import io.memscope.sched.Task;
import java.util.Objects;

/**
 * A spinlock that stays a spinlock everywhere: {@code raw_spinlock_t}
 * ({@code include/linux/spinlock.h}).
 *
 * <p>Holding it makes the task atomic (preemption count + 1, {@code preempt_disable()}) on every
 * kernel configuration, PREEMPT_RT included, so sleeping — or, on PREEMPT_RT, allocating memory —
 * under it is a bug ({@code seeds/004}). The holder is also counted in the task's raw-lock depth,
 * which the allocator reads for the PREEMPT_RT rules. Never sleeps; waits by spinning.
 */
public final class RawSpinLock {
    private final Lockdep dep;
    private final LockdepMap map;
    private final String name;
    private final SpinCore core = new SpinCore();

    /** A raw spinlock of class {@code name} + the calling line ({@code DEFINE_RAW_SPINLOCK}). */
    public RawSpinLock(Lockdep lockdep, String name) {
        this(lockdep, name, null);
    }

    /** A raw spinlock whose class is {@code key}. */
    public RawSpinLock(Lockdep lockdep, String name, LockClassKey key) {
        this.dep = Objects.requireNonNull(lockdep, "lockdep");
        this.name = Objects.requireNonNull(name, "name");
        this.map = lockdep.newMap(name, LockType.RAW_SPINLOCK, key);
    }

    /** {@code raw_spin_lock()}: disables preemption, then spins. */
    public void lock() {
        Task t = Task.current();
        t.preemptCountAdd(Task.PREEMPT_OFFSET);
        t.rawLockEnter();
        if (dep.checking) {
            try {
                dep.lockAcquire(map, 0, false, null);
            } catch (RuntimeException panic) {
                t.rawLockExit();
                t.preemptCountSub(Task.PREEMPT_OFFSET);
                throw panic;
            }
        }
        core.lock();
    }

    /** {@code raw_spin_lock_irq()}: disables interrupts, then locks. */
    public void lockIrq() {
        Task.current().localIrqDisable();
        lock();
    }

    /** {@code raw_spin_trylock()}. */
    public boolean tryLock() {
        Task t = Task.current();
        t.preemptCountAdd(Task.PREEMPT_OFFSET);
        if (!core.tryLock()) {
            t.preemptCountSub(Task.PREEMPT_OFFSET);
            return false;
        }
        t.rawLockEnter();
        if (dep.checking) {
            dep.lockAcquire(map, 0, true, null);
        }
        return true;
    }

    /**
     * {@code raw_spin_unlock()}.
     *
     * @throws LockNotHeldException when the caller does not hold it (lockdep reports first)
     */
    public void unlock() {
        if (core.owner() != Thread.currentThread()) {
            if (dep.checking) {
                dep.lockRelease(map, true);
            }
            throw new LockNotHeldException(name, Thread.currentThread(), core.owner());
        }
        if (dep.checking) {
            dep.lockRelease(map, true);
        }
        core.unlock();
        Task t = Task.current();
        t.rawLockExit();
        t.preemptCountSub(Task.PREEMPT_OFFSET);
    }

    /** {@code raw_spin_unlock_irq()}. */
    public void unlockIrq() {
        unlock();
        Task.current().localIrqEnable();
    }

    /**
     * {@code raw_spin_lock_init()} on an existing lock.
     *
     * @throws LockHeldException when it is held (lockdep reports "held lock freed!" first)
     */
    public void reinit() {
        dep.checkNotHeldOnInit(map);
        if (core.isLocked()) {
            throw new LockHeldException(name);
        }
    }

    /** {@code raw_spin_is_locked()}. */
    public boolean isLocked() {
        return core.isLocked();
    }

    public LockdepMap lockdepMap() {
        return map;
    }

    @Override
    public String toString() {
        return "RawSpinLock[" + name + "]";
    }
}
