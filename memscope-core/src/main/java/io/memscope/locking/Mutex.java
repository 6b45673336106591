package io.memscope.locking;

import io.memscope.locking.LockMisuseException.LockHeldException;
import io.memscope.locking.LockMisuseException.LockNotHeldException;
import io.memscope.locking.LockMisuseException.RecursiveLockingException;
import java.util.Objects;

/**
 * A sleeping mutual-exclusion lock that knows its owner: {@code struct mutex}
 * ({@code kernel/locking/mutex.c}), checked by lockdep.
 *
 * <p>Contract, as the kernel's: only one task holds it; only the holder may unlock it; it is not
 * recursive; it may sleep, so {@link #lock()} must not be called from atomic context
 * ({@code might_sleep()} reports that when the check is on). A task waiting in {@link #lock()} is
 * in uninterruptible sleep (the kernel's {@code D} state): interrupts do not end the wait, and the
 * hung-task watchdog reports it when it lasts too long. {@link #lockKillable()} is the
 * {@code mutex_lock_killable()} variant.
 *
 * <p>With lockdep and the atomic-sleep check off, lock and unlock cost one CAS and one
 * predictable branch each.
 */
public final class Mutex implements BlockingLock {
    private final Lockdep dep;
    private final LockdepMap map;
    private final String name;
    private volatile SleepingSync sync = new SleepingSync();

    /** A mutex of class {@code name} + the calling line ({@code DEFINE_MUTEX}/{@code mutex_init}). */
    public Mutex(Lockdep lockdep, String name) {
        this(lockdep, name, null);
    }

    /** A mutex whose class is the explicit {@code key}. */
    public Mutex(Lockdep lockdep, String name, LockClassKey key) {
        this.dep = Objects.requireNonNull(lockdep, "lockdep");
        this.name = Objects.requireNonNull(name, "name");
        this.map = lockdep.newMap(name, LockType.MUTEX, key);
    }

    /** {@code mutex_lock()}: may sleep, uninterruptibly. */
    public void lock() {
        if (dep.checking) {
            dep.mightSleep();
            dep.lockAcquire(map, 0, false, null);
        }
        SleepingSync s = sync;
        if (!s.tryLockFast()) {
            slowLock(s, false);
        }
    }

    /**
     * {@code mutex_lock_killable()}: like {@link #lock()}, but an interrupt (our fatal signal) ends
     * the wait. Returns false, with the interrupt status kept, when it did.
     */
    public boolean lockKillable() {
        if (dep.checking) {
            dep.mightSleep();
            dep.lockAcquire(map, 0, false, null);
        }
        SleepingSync s = sync;
        return s.tryLockFast() || slowLock(s, true);
    }

    private boolean slowLock(SleepingSync s, boolean killable) {
        boolean ok = false;
        try {
            if (s.owner() == Thread.currentThread() && dep.checking) {
                // lockdep has just reported "possible recursive locking detected"; the kernel
                // would now hang, we fail the acquisition instead. With checking off the task
                // really deadlocks on itself, as in the kernel, and the hung-task watchdog sees it.
                throw new RecursiveLockingException(name, Thread.currentThread());
            }
            ok = s.await(dep, this, false, killable);
            return ok;
        } finally {
            if (!ok && dep.checking) {
                dep.lockRelease(map, false);
            }
        }
    }

    /** {@code mutex_trylock()}: never sleeps; true when the lock was taken. */
    public boolean tryLock() {
        if (!sync.tryLockFast()) {
            return false;
        }
        if (dep.checking) {
            dep.lockAcquire(map, 0, true, null);
        }
        return true;
    }

    /**
     * {@code mutex_unlock()}.
     *
     * @throws LockNotHeldException when the caller does not own it (lockdep reports the imbalance first)
     */
    public void unlock() {
        SleepingSync s = sync;
        if (s.owner() != Thread.currentThread()) {
            if (dep.checking) {
                dep.lockRelease(map, true);
            }
            throw new LockNotHeldException(name, Thread.currentThread(), s.owner());
        }
        if (dep.checking) {
            dep.lockRelease(map, true);
        }
        s.release(1);
    }

    /**
     * {@code mutex_init()} on an existing mutex: makes it a fresh, unlocked mutex.
     *
     * @throws LockHeldException when it is held (lockdep reports "held lock freed!" first)
     */
    public void reinit() {
        dep.checkNotHeldOnInit(map);
        if (sync.isLocked()) {
            throw new LockHeldException(name);
        }
        sync = new SleepingSync();
    }

    /** {@code mutex_is_locked()}. */
    public boolean isLocked() {
        return sync.isLocked();
    }

    /** True when the calling thread owns it. */
    public boolean isHeldByCurrentThread() {
        return sync.owner() == Thread.currentThread();
    }

    /** The lockdep map (for {@code lockdep_assert_held}-style checks). */
    public LockdepMap lockdepMap() {
        return map;
    }

    @Override
    public String lockName() {
        return name;
    }

    @Override
    public String kindPhrase() {
        return "a mutex";
    }

    @Override
    public Thread likelyOwner() {
        return sync.owner();
    }

    @Override
    public String toString() {
        return "Mutex[" + name + "]";
    }
}
