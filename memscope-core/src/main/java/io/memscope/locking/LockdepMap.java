package io.memscope.locking;

/**
 * The lockdep identity of one lock instance ({@code struct lockdep_map}). Every memscope lock
 * owns one; code that keeps its own {@code ReentrantLock} or {@code synchronized} block creates
 * one with {@link Lockdep#newMap(String)} and calls {@link Lockdep#acquire(LockdepMap)} /
 * {@link Lockdep#release(LockdepMap)} around it, so lockdep checks it like any other lock.
 *
 * <p>Invariant: the map belongs to exactly one {@link Lockdep} and one {@link LockClass}
 * (null when lockdep was off at creation, in which case the map is inert).
 */
public final class LockdepMap {
    final Lockdep lockdep;
    final LockClass lockClass;
    private final String name;

    LockdepMap(Lockdep lockdep, LockClass lockClass, String name) {
        this.lockdep = lockdep;
        this.lockClass = lockClass;
        this.name = name;
    }

    /** The instance's name. */
    public String name() {
        return name;
    }

    /** The class, or null when lockdep was off when the map was created. */
    public LockClass lockClass() {
        return lockClass;
    }

    /** A stable pseudo address for reports ({@code %px} of the instance). */
    String address() {
        return String.format("%016x", 0xffff888000000000L | (System.identityHashCode(this) & 0xffffffffL) << 4);
    }

    @Override
    public String toString() {
        return name;
    }
}
