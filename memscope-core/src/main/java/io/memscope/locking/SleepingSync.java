package io.memscope.locking;

import java.util.concurrent.locks.AbstractQueuedSynchronizer;

/**
 * The wait queue under memscope's sleeping locks: state 0 free, -1 held for write (or by a
 * mutex), n &gt; 0 held by n readers.
 *
 * <p><b>Memory ordering.</b> {@code state} is volatile: a successful CAS is the acquire, the
 * volatile write in release is the release, so everything the previous owner wrote is visible to
 * the next. The owner fields are plain: the owner writes them after its CAS and clears them
 * before its releasing write, so a later owner never sees a stale value; only other threads'
 * reports (the watchdog) read them racily and may see a recent owner — which is why the kernel
 * words it "likely owned by".
 */
final class SleepingSync extends AbstractQueuedSynchronizer {
    private static final long serialVersionUID = 1L;
    private transient Thread lastReader;

    @Override
    protected boolean tryAcquire(int ignored) {
        if (getState() == 0 && compareAndSetState(0, -1)) {
            setExclusiveOwnerThread(Thread.currentThread());
            return true;
        }
        return false;
    }

    @Override
    protected boolean tryRelease(int ignored) {
        setExclusiveOwnerThread(null);
        setState(0);
        return true;
    }

    @Override
    protected int tryAcquireShared(int ignored) {
        for (;;) {
            int s = getState();
            // A queued writer blocks new readers (rwsem fairness), so read-after-read can deadlock,
            // which is why lockdep treats down_read as non-recursive.
            if (s < 0 || hasQueuedPredecessors()) {
                return -1;
            }
            if (compareAndSetState(s, s + 1)) {
                lastReader = Thread.currentThread();
                return 1;
            }
        }
    }

    @Override
    protected boolean tryReleaseShared(int ignored) {
        for (;;) {
            int s = getState();
            if (s <= 0) {
                throw new IllegalMonitorStateException("read release with no readers");
            }
            if (compareAndSetState(s, s - 1)) {
                return s == 1;
            }
        }
    }

    @Override
    protected boolean isHeldExclusively() {
        return getExclusiveOwnerThread() == Thread.currentThread();
    }

    boolean tryLockFast() {
        return tryAcquire(1);
    }

    boolean tryReadFast() {
        return tryAcquireShared(1) > 0;
    }

    Thread owner() {
        return getExclusiveOwnerThread();
    }

    Thread lastReader() {
        return lastReader;
    }

    int readers() {
        return Math.max(0, getState());
    }

    boolean isLocked() {
        return getState() != 0;
    }

    /**
     * Waits for the lock (exclusive or shared) registered as blocked in {@code dep}.
     * Uninterruptible waits ignore interrupts (re-asserting them afterwards) unless the machine
     * aborts them; killable waits give up on interrupt and return false.
     */
    boolean await(Lockdep dep, BlockingLock lock, boolean shared, boolean killable) {
        Lockdep.Waiter w = dep.blockStart(lock, !killable);
        boolean interrupted = false;
        try {
            for (;;) {
                try {
                    if (shared) {
                        acquireSharedInterruptibly(1);
                    } else {
                        acquireInterruptibly(1);
                    }
                    return true;
                } catch (InterruptedException e) {
                    if (w.aborted) {
                        throw new WaitAbortedException(lock.lockName());
                    }
                    if (killable) {
                        interrupted = true;
                        return false;
                    }
                    interrupted = true;
                }
            }
        } finally {
            dep.blockEnd(w);
            if (interrupted && !w.aborted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
