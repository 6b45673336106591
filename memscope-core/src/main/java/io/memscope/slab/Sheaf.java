package io.memscope.slab;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** Padding before the hot fields (JCTools style: padding is its own class layer). */
abstract class SheafPadBefore {
    long p00, p01, p02, p03, p04, p05, p06, p07;
}

/** The lock word and the hot fields, on one cache line. */
abstract class SheafHot extends SheafPadBefore {
    /** 0 = free, 1 = held. Accessed only through {@link Sheaf#LOCK}. */
    volatile int lock;
    /** Objects in {@link Sheaf#objects}; only the lock holder reads or writes it. */
    int count;
    /** Allocations and frees served here; written by the holder with opaque stores, read lock-free. */
    long allocs;
    long frees;
}

/** Padding after the hot fields. */
abstract class SheafPadAfter extends SheafHot {
    long p10, p11, p12, p13, p14, p15, p16, p17;
}

/**
 * One CPU slot's array of free objects of one cache: the current kernel's per-CPU
 * <em>sheaf</em> ({@code struct slub_percpu_sheaves} / {@code struct slab_sheaf} in
 * {@code mm/slub.c}, served by {@code alloc_from_pcs()} and {@code free_to_pcs()}).
 *
 * <p><b>Why an array.</b> Since Linux 6.18 SLUB's fast path is a per-CPU array of object
 * pointers taken with {@code local_trylock}: allocation pops, free pushes, and only an empty or
 * full array touches the slabs. That is also the cheapest shape on the JVM: the fast path is a
 * CAS on a lock word, an array access and a release store — no object is created, no slab
 * metadata is touched. The kernel keeps a spare sheaf and a per-node "barn" of full and empty
 * sheaves; memscope refills and flushes half a sheaf directly from and to the node's slabs
 * (the SLAB allocator's {@code batchcount} idea), which keeps the same bounded footprint.
 *
 * <p><b>Invariants.</b> {@code 0 <= count <= objects.length}; every object in
 * {@code objects[0..count)} belongs to this sheaf's cache, is counted as in use by its slab
 * ({@code inuse}) and is free from the user's point of view. Memory is bounded by
 * slots × capacity per cache, whatever the number of (virtual) threads.
 *
 * <p><b>Memory ordering.</b> {@link #tryLock()} is a CAS with volatile semantics (acquire) and
 * {@link #unlock()} a release store, so the next holder on any thread sees the array and
 * {@code count} as the last holder left them. Holders never block or allocate pages while
 * holding the lock, so a spinning {@link #lock()} (used only by flushes) always terminates.
 */
final class Sheaf extends SheafPadAfter {
    static final VarHandle LOCK;
    static final VarHandle ALLOCS;
    static final VarHandle FREES;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            LOCK = l.findVarHandle(SheafHot.class, "lock", int.class);
            ALLOCS = l.findVarHandle(SheafHot.class, "allocs", long.class);
            FREES = l.findVarHandle(SheafHot.class, "frees", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The objects (addresses); its own array, so two slots' objects never share a cache line's writes. */
    final long[] objects;

    /** Slabs emptied by a flush, discarded after the node lock is dropped (no allocation on the free path). */
    final int[] discards;

    Sheaf(int capacity, int batch) {
        this.objects = new long[capacity];
        this.discards = new int[Math.max(capacity, batch)];
    }

    /** {@code local_trylock()}: true when the caller now holds the sheaf. */
    boolean tryLock() {
        return lock == 0 && LOCK.compareAndSet(this, 0, 1);
    }

    /** Spins until held; for flushes and shrinking, which must visit every slot. */
    void lock() {
        while (!tryLock()) {
            Thread.onSpinWait();
        }
    }

    /** Release store: publishes everything the holder wrote. */
    void unlock() {
        LOCK.setRelease(this, 0);
    }

    void countAlloc() {
        ALLOCS.setOpaque(this, allocs + 1);
    }

    void countFree() {
        FREES.setOpaque(this, frees + 1);
    }

    long allocsOpaque() {
        return (long) ALLOCS.getOpaque(this);
    }

    long freesOpaque() {
        return (long) FREES.getOpaque(this);
    }
}
