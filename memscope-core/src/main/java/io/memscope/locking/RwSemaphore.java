package io.memscope.locking;

import io.memscope.locking.LockMisuseException.LockHeldException;
import io.memscope.locking.LockMisuseException.LockNotHeldException;
import io.memscope.locking.LockMisuseException.RecursiveLockingException;
import java.util.Objects;

/**
 * A sleeping reader/writer lock: {@code struct rw_semaphore} ({@code kernel/locking/rwsem.c}).
 *
 * <p>Many readers or one writer. A waiting writer blocks new readers, so a reader that takes
 * the same rwsem twice can deadlock against a writer: lockdep therefore treats
 * {@link #downRead()} as a <em>non-recursive</em> read ({@code rwsem_acquire_read}), and the
 * self-test expects every cycle through rwsem readers to be reported. Both directions may sleep
 * (uninterruptibly, reported by the hung-task watchdog) and call {@code might_sleep()}.
 */
public final class RwSemaphore implements BlockingLock {
    private final Lockdep dep;
    private final LockdepMap map;
    private final String name;
    private volatile SleepingSync sync = new SleepingSync();

    /** An rwsem of class {@code name} + the calling line ({@code DECLARE_RWSEM}/{@code init_rwsem}). */
    public RwSemaphore(Lockdep lockdep, String name) {
        this(lockdep, name, null);
    }

    /** An rwsem whose class is {@code key}. */
    public RwSemaphore(Lockdep lockdep, String name, LockClassKey key) {
        this.dep = Objects.requireNonNull(lockdep, "lockdep");
        this.name = Objects.requireNonNull(name, "name");
        this.map = lockdep.newMap(name, LockType.RWSEM, key);
    }

    /** {@code down_read()}. */
    public void downRead() {
        if (dep.checking) {
            dep.mightSleep();
            dep.lockAcquire(map, 1, false, null);
        }
        SleepingSync s = sync;
        if (!s.tryReadFast()) {
            wait(s, true);
        }
    }

    /** {@code up_read()}. */
    public void upRead() {
        SleepingSync s = sync;
        if (s.readers() == 0) {
            if (dep.checking) {
                dep.lockRelease(map, true);
            }
            throw new LockNotHeldException(name, Thread.currentThread());
        }
        if (dep.checking) {
            dep.lockRelease(map, true);
        }
        s.releaseShared(1);
    }

    /** {@code down_write()}. */
    public void downWrite() {
        if (dep.checking) {
            dep.mightSleep();
            dep.lockAcquire(map, 0, false, null);
        }
        SleepingSync s = sync;
        if (!s.tryLockFast()) {
            wait(s, false);
        }
    }

    /** {@code up_write()}. */
    public void upWrite() {
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

    /** {@code down_read_trylock()}. */
    public boolean tryDownRead() {
        if (!sync.tryReadFast()) {
            return false;
        }
        if (dep.checking) {
            dep.lockAcquire(map, 1, true, null);
        }
        return true;
    }

    /** {@code down_write_trylock()}. */
    public boolean tryDownWrite() {
        if (!sync.tryLockFast()) {
            return false;
        }
        if (dep.checking) {
            dep.lockAcquire(map, 0, true, null);
        }
        return true;
    }

    private void wait(SleepingSync s, boolean shared) {
        boolean ok = false;
        try {
            if (s.owner() == Thread.currentThread()) {
                throw new RecursiveLockingException(name, Thread.currentThread());
            }
            ok = s.await(dep, this, shared, false);
        } finally {
            if (!ok && dep.checking) {
                dep.lockRelease(map, false);
            }
        }
    }

    /**
     * {@code init_rwsem()} on an existing rwsem.
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

    /** {@code rwsem_is_locked()}. */
    public boolean isLocked() {
        return sync.isLocked();
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
        return "an rw-semaphore";
    }

    @Override
    public Thread likelyOwner() {
        Thread w = sync.owner();
        return w != null ? w : sync.lastReader();
    }

    @Override
    public String toString() {
        return "RwSemaphore[" + name + "]";
    }
}
