package io.memscope.locking;

/**
 * Thrown from a sleeping lock's wait when the machine aborted every waiter
 * ({@link Lockdep#abortAllWaiters()}), the only way out of an uninterruptible wait in a real
 * deadlock. The lock was not acquired.
 */
public final class WaitAbortedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    WaitAbortedException(String lock) {
        super("wait for " + lock + " aborted: the machine released all blocked tasks");
    }
}
