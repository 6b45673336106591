package io.memscope.locking;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One task's stack of held locks for one {@link Lockdep} ({@code current->held_locks[]} and
 * {@code lockdep_depth}).
 *
 * <p>Only the owning thread pushes and pops; reports on other threads (the hung-task watchdog,
 * {@code debug_show_all_locks}) take a {@link #snapshot()}. All methods synchronize on this
 * object: uncontended except during such a report, and only paid when lockdep is on.
 */
final class HeldLocks {
    /** {@code MAX_LOCK_DEPTH}. */
    static final int MAX_LOCK_DEPTH = 48;

    /** One held lock ({@code struct held_lock}). */
    static final class HeldLock {
        final LockdepMap map;
        /** 0 exclusive, 1 shared (down_read), 2 recursive read (read_lock). */
        final int read;
        final boolean trylock;
        final String site;
        /** What this acquisition is for: the reclaim context holding fs_reclaim, or the allocation's mask. */
        volatile String note;
        /** 0 task, 1 softirq, 2 hardirq: dependencies are only recorded within one context. */
        final int irqContext;

        HeldLock(LockdepMap map, int read, boolean trylock, String site, String note, int irqContext) {
            this.map = map;
            this.read = read;
            this.trylock = trylock;
            this.site = site;
            this.note = note;
            this.irqContext = irqContext;
        }

        LockClass lockClass() {
            return map.lockClass;
        }
    }

    final Thread thread;
    private HeldLock[] stack = new HeldLock[8];
    private int depth;

    HeldLocks(Thread thread) {
        this.thread = thread;
    }

    synchronized int depth() {
        return depth;
    }

    synchronized HeldLock get(int i) {
        return stack[i];
    }

    /** Pushes; false when {@link #MAX_LOCK_DEPTH} would be exceeded. */
    synchronized boolean push(HeldLock h) {
        if (depth == MAX_LOCK_DEPTH) {
            return false;
        }
        if (depth == stack.length) {
            stack = Arrays.copyOf(stack, stack.length * 2);
        }
        stack[depth++] = h;
        return true;
    }

    /** {@code find_held_lock()}: the topmost entry for {@code map}, or -1. */
    synchronized int find(LockdepMap map) {
        for (int i = depth - 1; i >= 0; i--) {
            if (stack[i].map == map) {
                return i;
            }
        }
        return -1;
    }

    /** Removes entry {@code i}, keeping the order of the others (non-LIFO release is legal). */
    synchronized HeldLock remove(int i) {
        HeldLock h = stack[i];
        System.arraycopy(stack, i + 1, stack, i, depth - i - 1);
        stack[--depth] = null;
        return h;
    }

    /** {@code iterate_chain_key()} over the stack plus {@code next}: identifies the chain of classes. */
    synchronized long chainKey(LockClass next, int nextRead) {
        long key = 0;
        for (int i = 0; i < depth; i++) {
            key = mix(key, stack[i].lockClass().id, stack[i].read);
        }
        return mix(key, next.id, nextRead);
    }

    private static long mix(long key, int classId, int read) {
        long x = key * 0x9E3779B97F4A7C15L + (classId * 4L + read) + 1;
        x ^= x >>> 29;
        return x * 0xBF58476D1CE4E5B9L;
    }

    synchronized List<HeldLock> snapshot() {
        return new ArrayList<>(Arrays.asList(stack).subList(0, depth));
    }
}
