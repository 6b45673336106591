package io.memscope.page;

import static io.memscope.page.PageTableDescriptor.NIL;
import static io.memscope.page.PageTableDescriptor.STATE_PCP;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.MigrateType;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * 128 bytes of padding before the hot fields (JCTools style: padding is its own class layer, made of
 * bytes). Bytes, not longs: since JDK 15 the field layout fills holes of a superclass with fields of
 * its subclasses, so with eight {@code long}s here the lock word landed in the 4-byte gap after the
 * object header, in front of the padding. 128 rather than 64 bytes because the adjacent-line
 * prefetcher pulls cache lines in pairs.
 */
abstract class PcpPadBefore {
    byte b000, b001, b002, b003, b004, b005, b006, b007, b008, b009, b010, b011, b012, b013, b014, b015;
    byte b016, b017, b018, b019, b020, b021, b022, b023, b024, b025, b026, b027, b028, b029, b030, b031;
    byte b032, b033, b034, b035, b036, b037, b038, b039, b040, b041, b042, b043, b044, b045, b046, b047;
    byte b048, b049, b050, b051, b052, b053, b054, b055, b056, b057, b058, b059, b060, b061, b062, b063;
    byte b064, b065, b066, b067, b068, b069, b070, b071, b072, b073, b074, b075, b076, b077, b078, b079;
    byte b080, b081, b082, b083, b084, b085, b086, b087, b088, b089, b090, b091, b092, b093, b094, b095;
    byte b096, b097, b098, b099, b100, b101, b102, b103, b104, b105, b106, b107, b108, b109, b110, b111;
    byte b112, b113, b114, b115, b116, b117, b118, b119, b120, b121, b122, b123, b124, b125, b126, b127;
}

/** The slot lock word. */
abstract class PcpLockField extends PcpPadBefore {
    /** 0 = free, 1 = held. Accessed only through {@link PerCpuPages#LOCK}. */
    volatile int lock;
}

/** The hot counters, on the lock's cache line. */
abstract class PcpHot extends PcpLockField {
    int count;
    long pgalloc;
    long pgfree;
}

/** 128 bytes of padding after the hot fields (see {@link PcpPadBefore}). */
abstract class PcpPadAfter extends PcpHot {
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
 * One per-CPU pageset of one zone: {@code struct per_cpu_pages} of {@code include/linux/mmzone.h}
 * and the pcp functions of {@code mm/page_alloc.c} ({@code rmqueue_pcplist},
 * {@code rmqueue_bulk}, {@code free_frozen_page_commit}, {@code free_pcppages_bulk},
 * {@code drain_pages_zone}).
 *
 * <p><b>Slots instead of CPUs.</b> Java has no CPU id, so a machine has N "cpu" slots and a thread
 * uses the slot its thread id hashes to. Memory stays bounded by N × high whatever the number of
 * (virtual) threads, and correctness never depends on a thread staying on a carrier: the slot is
 * protected by its own lock word, acquired only by {@link #tryLock()} (the kernel's
 * {@code pcp_spin_trylock}). A caller that fails to get its slot tries one neighbour and then goes
 * to the zone's buddy lists under the zone lock, exactly as the kernel falls back to
 * {@code rmqueue_buddy}/{@code free_one_page} when the trylock fails.
 *
 * <p><b>Lists.</b> {@code NR_PCP_LISTS} = 3 migratetypes × orders 0..3 plus two THP lists for
 * pageblock-order blocks (one for MOVABLE, one for the others): 14. Lists are threaded through the
 * page table's next/prev words; blocks on them are in state PCP. {@code count} is in pages.
 *
 * <p><b>Memory ordering.</b> {@code tryLock} is a CAS with volatile semantics (acquire), and
 * {@code unlock} a release store. Everything a holder writes (list links in the page table, the
 * heads here, {@code count}) is therefore visible to the next holder on any thread. The counters
 * {@code pgalloc/pgfree} are written only by holders but read lock-free by vmstat, so they are
 * written with opaque stores (no tearing; readers may lag, like the kernel's per-cpu vmstat diffs).
 * {@code count} is read lock-free only by reports, which tolerate staleness.
 */
final class PerCpuPages extends PcpPadAfter {
    static final int NR_LOWORDER_PCP_LISTS = MigrateType.PCPTYPES * (Gfp.PAGE_ALLOC_COSTLY_ORDER + 1);
    static final int NR_PCP_THP = 2;
    static final int NR_PCP_LISTS = NR_LOWORDER_PCP_LISTS + NR_PCP_THP;
    /** Padding ints (128 bytes) on each side of the list ends, so that two slots' arrays never share a line pair. */
    private static final int PAD = 32;

    static final VarHandle LOCK;
    private static final VarHandle PGALLOC;
    private static final VarHandle PGFREE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            LOCK = l.findVarHandle(PcpLockField.class, "lock", int.class);
            PGALLOC = l.findVarHandle(PcpHot.class, "pgalloc", long.class);
            PGFREE = l.findVarHandle(PcpHot.class, "pgfree", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final PageTable pt;
    final Zone zone;
    final int slot;
    /** heads at PAD + i, tails at PAD + NR_PCP_LISTS + i. */
    private final int[] ends = new int[PAD + 2 * NR_PCP_LISTS + PAD];

    PerCpuPages(Zone zone, int slot, PageTable pt) {
        this.zone = zone;
        this.slot = slot;
        this.pt = pt;
        java.util.Arrays.fill(ends, NIL);
    }

    /** {@code pcp_allowed_order()}: orders 0..3 and the THP (pageblock) order. */
    static boolean allowedOrder(int order) {
        return order <= Gfp.PAGE_ALLOC_COSTLY_ORDER || order == Zone.PAGEBLOCK_ORDER;
    }

    /** {@code order_to_pindex()}. */
    static int pindex(int order, int mt) {
        if (order > Gfp.PAGE_ALLOC_COSTLY_ORDER) {
            return NR_LOWORDER_PCP_LISTS + (mt == MigrateType.MOVABLE.ordinal() ? 1 : 0);
        }
        return MigrateType.PCPTYPES * order + mt;
    }

    /** {@code pindex_to_order()}. */
    static int pindexToOrder(int pindex) {
        return pindex >= NR_LOWORDER_PCP_LISTS ? Zone.PAGEBLOCK_ORDER : pindex / MigrateType.PCPTYPES;
    }

    // ---------------------------------------------------------------- lock

    /** {@code pcp_spin_trylock}: one CAS, never waits. */
    boolean tryLock() {
        // A plain volatile read first avoids a failing CAS bouncing the line when the slot is busy.
        return lock == 0 && LOCK.compareAndSet(this, 0, 1);
    }

    /** Release store: publishes every write made under the lock to the next holder. */
    void unlock() {
        LOCK.setRelease(this, 0);
    }

    /**
     * Waits until held: only for drains and validation, never on the allocation path. A holder can
     * block (it takes the zone lock to refill or trim), and a holder that is a virtual thread then
     * needs a carrier to finish: so after a short spin the waiter parks briefly — on a virtual thread that
     * gives the carrier back. Spinning alone livelocked two carriers against a parked holder.
     */
    void lockSpin() {
        int spins = 0;
        while (!tryLock()) {
            if (++spins < SPINS_BEFORE_YIELD) {
                Thread.onSpinWait();
            } else {
                spins = 0;
                // A timed park, not Thread.yield(): a yielding virtual thread can be rescheduled
                // first on its own carrier, so only a park surely lets the holder run.
                java.util.concurrent.locks.LockSupport.parkNanos(20_000L);
            }
        }
    }

    /** Busy-wait rounds before {@link #lockSpin()} yields the processor (or the carrier). */
    static final int SPINS_BEFORE_YIELD = 64;

    // ---------------------------------------------------------------- lists (lock held)

    int head(int pindex) {
        return ends[PAD + pindex];
    }

    private int tail(int pindex) {
        return ends[PAD + NR_PCP_LISTS + pindex];
    }

    /**
     * Links block {@code pfn} at the head (hot end) of list {@code pindex}. The flags word is
     * written whole: one store sets state PCP and clears the page flags the freed block still
     * carries ({@code free_pages_prepare} clears them; {@link PageTable#releaseRecord} leaves the
     * word to this store).
     */
    void pushHead(int pindex, int pfn, int order, int mt) {
        int h = ends[PAD + pindex];
        pt.setFlagsWord(pfn, PageTableDescriptor.withBlock(0, STATE_PCP, order, mt));
        pt.setPrev(pfn, NIL);
        pt.setNext(pfn, h);
        if (h == NIL) {
            ends[PAD + NR_PCP_LISTS + pindex] = pfn;
        } else {
            pt.setPrev(h, pfn);
        }
        ends[PAD + pindex] = pfn;
    }

    /** Links block {@code pfn} at the tail (cold end) of list {@code pindex} ({@code rmqueue_bulk}). */
    private void pushTail(int pindex, int pfn, int order, int mt) {
        int t = tail(pindex);
        pt.setBlock(pfn, STATE_PCP, order, mt);
        pt.setNext(pfn, NIL);
        pt.setPrev(pfn, t);
        if (t == NIL) {
            ends[PAD + pindex] = pfn;
        } else {
            pt.setNext(t, pfn);
        }
        ends[PAD + NR_PCP_LISTS + pindex] = pfn;
    }

    /**
     * {@link #unlink} for the head of list {@code pindex}, whose prev link is already NIL. The
     * block's own record is left as it is: the only callers hand the block straight to
     * {@code prep_new_page} ({@link PageAllocator}), which writes its flags word whole, and the link
     * words of a block that is on no list are never read.
     */
    private void unlinkHead(int pindex, int pfn) {
        int n = pt.next(pfn);
        ends[PAD + pindex] = n;
        if (n == NIL) {
            ends[PAD + NR_PCP_LISTS + pindex] = NIL;
        } else {
            pt.setPrev(n, NIL);
        }
    }

    /** Unlinks block {@code pfn} from list {@code pindex}. */
    private void unlink(int pindex, int pfn) {
        int p = pt.prev(pfn);
        int n = pt.next(pfn);
        if (p == NIL) {
            ends[PAD + pindex] = n;
        } else {
            pt.setNext(p, n);
        }
        if (n == NIL) {
            ends[PAD + NR_PCP_LISTS + pindex] = p;
        } else {
            pt.setPrev(n, p);
        }
        pt.setNext(pfn, NIL);
        pt.setPrev(pfn, NIL);
        pt.clearBlock(pfn);
    }

    /**
     * {@code __rmqueue_pcplist()}: a block from list (order, mt), refilled from the buddy with
     * {@code batch} pages' worth ({@code max(batch >> order, 2)} blocks for order > 0) when empty.
     * Returns NIL when the buddy has nothing either. Lock held. The caller must {@code prep_new_page}
     * the block: its record still says PCP.
     */
    int rmqueue(int order, int mt, int allocFlags) {
        int pindex = pindex(order, mt);
        int pfn = head(pindex);
        if (pfn == NIL) {
            int blocks = order == 0 ? zone.pcpBatch : Math.max(zone.pcpBatch >> order, 2);
            // The kernel's max_nr_alloc bound: never refill past high, so count <= high holds at rest.
            blocks = Math.min(blocks, 1 + (Math.max(0, zone.pcpHigh - count) >> order));
            rmqueueBulk(order, blocks, pindex, mt, allocFlags);
            pfn = head(pindex);
            if (pfn == NIL) {
                return NIL;
            }
        }
        unlinkHead(pindex, pfn);
        count -= 1 << order;
        PGALLOC.setOpaque(this, pgalloc + (1L << order));
        return pfn;
    }

    /** {@code rmqueue_bulk()}: takes up to {@code blocks} blocks from the buddy under the zone lock. */
    private void rmqueueBulk(int order, int blocks, int pindex, int mt, int allocFlags) {
        zone.lock.lock();
        try {
            for (int i = 0; i < blocks; i++) {
                int pfn = zone.rmqueue(order, mt, allocFlags);
                if (pfn == NIL) {
                    break;
                }
                pushTail(pindex, pfn, order, mt);
                count += 1 << order;
            }
        } finally {
            zone.lock.unlock();
        }
    }

    /**
     * {@code free_frozen_page_commit()}: puts a freed block on its list and, when the count reaches
     * {@code high}, returns enough blocks to the buddy that {@code high - batch} pages remain. Lock held.
     */
    void free(int pfn, int order, int mt) {
        int pindex = pindex(order, mt);
        pushHead(pindex, pfn, order, mt);
        count += 1 << order;
        PGFREE.setOpaque(this, pgfree + (1L << order));
        int high = zone.pcpHigh;
        if (count >= high) {
            freeBulk(count - high + zone.pcpBatch, pindex);
        }
    }

    /**
     * {@code free_pcppages_bulk()}: frees {@code toFree} pages, round-robin over the lists starting at
     * {@code pindex}, coldest first, each to the free list of its pageblock's current type.
     */
    void freeBulk(int toFree, int pindex) {
        if (count == 0) {
            return;
        }
        toFree = Math.min(toFree, count);
        pindex = pindex - 1;
        zone.lock.lock();
        try {
            while (toFree > 0) {
                do {
                    if (++pindex > NR_PCP_LISTS - 1) {
                        pindex = 0;
                    }
                } while (head(pindex) == NIL);
                int order = pindexToOrder(pindex);
                do {
                    int pfn = tail(pindex);
                    int mt = zone.pageblockMt(pfn);
                    unlink(pindex, pfn);
                    toFree -= 1 << order;
                    count -= 1 << order;
                    zone.freeOneBlock(pfn, order, mt);
                } while (toFree > 0 && head(pindex) != NIL);
            }
        } finally {
            zone.lock.unlock();
        }
    }

    /** {@code drain_pages_zone()}: everything back to the buddy. Lock held. Returns pages drained. */
    int drain() {
        int n = count;
        if (n > 0) {
            freeBulk(n, 0);
        }
        return n;
    }

    /** Pages on this pageset (racy outside the lock). */
    int countRacy() {
        return count;
    }

    long pgallocRacy() {
        return (long) PGALLOC.getOpaque(this);
    }

    long pgfreeRacy() {
        return (long) PGFREE.getOpaque(this);
    }

    /** Walks list {@code pindex} (lock held), for validation. */
    int walk(int pindex, java.util.function.IntConsumer each) {
        int n = 0;
        for (int p = head(pindex); p != NIL; p = pt.next(p)) {
            each.accept(p);
            n++;
        }
        return n;
    }
}
