package io.memscope.slab;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Padding before the hot fields (JCTools style: padding is its own class layer). Bytes, not longs:
 * since JDK 15 HotSpot fills holes in a superclass's layout (such as the 4 bytes after a
 * compressed object header) with a subclass's small fields, so with long padding the lock word
 * lands at offset 12 — on the cache line of whatever was allocated just before (the slot array
 * every thread reads), which made two threads on different slots share a line. 128 bytes cover
 * the adjacent-line prefetcher too.
 */
abstract class SheafPadBefore {
    byte b000, b001, b002, b003, b004, b005, b006, b007, b008, b009, b010, b011, b012, b013, b014, b015;
    byte b016, b017, b018, b019, b020, b021, b022, b023, b024, b025, b026, b027, b028, b029, b030, b031;
    byte b032, b033, b034, b035, b036, b037, b038, b039, b040, b041, b042, b043, b044, b045, b046, b047;
    byte b048, b049, b050, b051, b052, b053, b054, b055, b056, b057, b058, b059, b060, b061, b062, b063;
    byte b064, b065, b066, b067, b068, b069, b070, b071, b072, b073, b074, b075, b076, b077, b078, b079;
    byte b080, b081, b082, b083, b084, b085, b086, b087, b088, b089, b090, b091, b092, b093, b094, b095;
    byte b096, b097, b098, b099, b100, b101, b102, b103, b104, b105, b106, b107, b108, b109, b110, b111;
    byte b112, b113, b114, b115, b116, b117, b118, b119, b120, b121, b122, b123, b124, b125, b126, b127;
}

/** The lock word and the hot fields, on one cache line. */
abstract class SheafHot extends SheafPadBefore {
    /** 0 = free, 1 = held. Accessed only through {@link Sheaf#LOCK}. */
    volatile int lock;
    /** Objects in {@link Sheaf#objects}; only the lock holder reads or writes it. */
    int count;
}

/** Padding after the hot fields (bytes, for the same reason as before them). */
abstract class SheafPadAfter extends SheafHot {
    byte a000, a001, a002, a003, a004, a005, a006, a007, a008, a009, a010, a011, a012, a013, a014, a015;
    byte a016, a017, a018, a019, a020, a021, a022, a023, a024, a025, a026, a027, a028, a029, a030, a031;
    byte a032, a033, a034, a035, a036, a037, a038, a039, a040, a041, a042, a043, a044, a045, a046, a047;
    byte a048, a049, a050, a051, a052, a053, a054, a055, a056, a057, a058, a059, a060, a061, a062, a063;
    byte a064, a065, a066, a067, a068, a069, a070, a071, a072, a073, a074, a075, a076, a077, a078, a079;
    byte a080, a081, a082, a083, a084, a085, a086, a087, a088, a089, a090, a091, a092, a093, a094, a095;
    byte a096, a097, a098, a099, a100, a101, a102, a103, a104, a105, a106, a107, a108, a109, a110, a111;
    byte a112, a113, a114, a115, a116, a117, a118, a119, a120, a121, a122, a123, a124, a125, a126, a127;
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
 * {@code count} as the last holder left them. Holders never allocate pages while holding the lock
 * (a new slab is allocated with no lock held); they may wait briefly for a node lock or free pages.
 */
final class Sheaf extends SheafPadAfter {
    static final VarHandle LOCK;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            LOCK = l.findVarHandle(SheafHot.class, "lock", int.class);
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

    /**
     * Waits until held; for flushes and shrinking, which must visit every slot. A holder may block
     * briefly (node lock, page allocator), and a virtual-thread holder then needs a carrier: after a
     * short spin the waiter yields, which on a virtual thread gives its carrier back.
     */
    void lock() {
        int spins = 0;
        while (!tryLock()) {
            if (++spins < 64) {
                Thread.onSpinWait();
            } else {
                spins = 0;
                Thread.yield();
            }
        }
    }

    /** Release store: publishes everything the holder wrote. */
    void unlock() {
        LOCK.setRelease(this, 0);
    }
}
