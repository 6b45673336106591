package io.memscope.locking;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The busy-waiting word under {@link SpinLock} and {@link RawSpinLock} ({@code arch_spinlock_t}).
 *
 * <p><b>Memory ordering.</b> Taking the lock is a CAS of {@code locked} 0 → 1 with acquire
 * semantics ({@code compareAndExchangeAcquire}); dropping it is {@code setRelease(0)}. So the
 * critical sections of successive holders are ordered, and nothing a holder wrote can be seen
 * by the next holder as unwritten. The spin itself reads opaquely ({@code getOpaque}) so it cannot
 * be hoisted out of the loop, and retries the CAS only when the word looks free (test-and-test-
 * and-set, to avoid hammering the cache line). {@code owner} is plain: written by the holder after
 * the acquire and cleared before the release, read racily only by reports.
 */
final class SpinCore {
    private static final VarHandle LOCKED;

    static {
        try {
            LOCKED = MethodHandles.lookup().findVarHandle(SpinCore.class, "locked", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // accessed through LOCKED
    private int locked;
    private Thread owner;

    /**
     * Spins until held. After a short spin the waiter yields: a holder running on a virtual thread
     * that was unmounted (it blocked, which lockdep reports as a bug, or it waits for a carrier)
     * must get a carrier back, or spinning waiters on every carrier would livelock.
     */
    void lock() {
        int spins = 0;
        while ((int) LOCKED.compareAndExchangeAcquire(this, 0, 1) != 0) {
            do {
                if (++spins < 128) {
                    Thread.onSpinWait();
                } else {
                    spins = 0;
                    Thread.yield();
                }
            } while ((int) LOCKED.getOpaque(this) != 0);
        }
        owner = Thread.currentThread();
    }

    boolean tryLock() {
        if ((int) LOCKED.compareAndExchangeAcquire(this, 0, 1) == 0) {
            owner = Thread.currentThread();
            return true;
        }
        return false;
    }

    void unlock() {
        owner = null;
        LOCKED.setRelease(this, 0);
    }

    boolean isLocked() {
        return (int) LOCKED.getOpaque(this) != 0;
    }

    Thread owner() {
        return owner;
    }
}
