package io.memscope.locking;

/**
 * A lock used against its contract. Each kind of misuse has its own subclass whose message says
 * what was expected and what was found. Lockdep (when on) has already printed the kernel's
 * report for it; these exceptions keep the Java lock's own state intact.
 */
public abstract class LockMisuseException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    LockMisuseException(String message) {
        super(message);
    }

    /** Unlocking a lock the caller does not hold (double unlock, or unlock from another thread). */
    public static final class LockNotHeldException extends LockMisuseException {
        private static final long serialVersionUID = 1L;

        LockNotHeldException(String lock, Thread caller, Thread owner) {
            super("unlock of " + lock + " by " + LockdepReports.task(caller) + ": expected the owner, but the lock is "
                    + (owner == null ? "not held" : "held by " + LockdepReports.task(owner)));
        }

        LockNotHeldException(String lock, Thread caller) {
            super("release of " + lock + " by " + LockdepReports.task(caller)
                    + ": expected a held read or write lock, found none");
        }
    }

    /**
     * A thread blocking on a sleeping lock it already owns: a certain self-deadlock, refused
     * instead of hanging the thread forever (the kernel would hang; lockdep reports it first).
     */
    public static final class RecursiveLockingException extends LockMisuseException {
        private static final long serialVersionUID = 1L;

        RecursiveLockingException(String lock, Thread caller) {
            super("recursive acquisition of " + lock + " by " + LockdepReports.task(caller)
                    + ": expected the lock to be free or owned by another task, found it owned by the caller");
        }
    }

    /** Re-initializing a lock that is held ({@code spin_lock_init}/{@code mutex_init} on a held lock). */
    public static final class LockHeldException extends LockMisuseException {
        private static final long serialVersionUID = 1L;

        LockHeldException(String lock) {
            super("re-initialization of " + lock + ": expected an unlocked lock, found it held");
        }
    }

    /** Leaving an interrupt context, or enabling interrupts, that was never entered. */
    public static final class IrqStateException extends LockMisuseException {
        private static final long serialVersionUID = 1L;

        IrqStateException(String message) {
            super(message);
        }
    }
}
