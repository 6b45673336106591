package io.memscope.locking;

/**
 * The kinds of lock lockdep knows, with their wait types ({@code enum lockdep_wait_type} in
 * {@code include/linux/lockdep_types.h}, the layout with {@code CONFIG_PROVE_RAW_LOCK_NESTING}:
 * 0 invalid/pseudo, 1 free, 2 spin, 3 config, 4 sleep). Reports print them as {@code -{outer:inner}}.
 */
public enum LockType {
    /** {@code raw_spinlock_t}: always spins, stays atomic on PREEMPT_RT. */
    RAW_SPINLOCK(2, 2),
    /** {@code spinlock_t}: spins, but sleeps on PREEMPT_RT. */
    SPINLOCK(3, 3),
    /** {@code struct mutex}. */
    MUTEX(4, 4),
    /** {@code struct rw_semaphore}. */
    RWSEM(4, 4),
    /** A pseudo lock such as {@code fs_reclaim} or a user annotation ({@code STATIC_LOCKDEP_MAP_INIT}). */
    PSEUDO(0, 0);

    final int waitOuter;
    final int waitInner;

    LockType(int outer, int inner) {
        this.waitOuter = outer;
        this.waitInner = inner;
    }
}
