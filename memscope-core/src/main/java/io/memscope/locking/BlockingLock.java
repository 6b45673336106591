package io.memscope.locking;

/**
 * What the hung-task watchdog needs to know about a sleeping lock a task is blocked on
 * ({@code task->blocker_mutex} / {@code blocker_sem} and {@code mutex_get_owner()} in
 * {@code kernel/hung_task.c}).
 */
interface BlockingLock {
    /** The lock's name. */
    String lockName();

    /** "a mutex", "an rw-semaphore", ... as the kernel's blocker line says it. */
    String kindPhrase();

    /** The thread that (likely) owns it now, or null. Read racily. */
    Thread likelyOwner();
}
