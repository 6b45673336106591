package io.memscope.pagecache;

import java.util.BitSet;
import java.util.concurrent.locks.StampedLock;

/**
 * One mapping's index → page-frame map with its search marks: the {@code i_pages} xarray of
 * {@code struct address_space} with {@code PAGECACHE_TAG_DIRTY}, {@code PAGECACHE_TAG_WRITEBACK}
 * and {@code PAGECACHE_TAG_TOWRITE} ({@code include/linux/fs.h}, {@code lib/xarray.c}).
 *
 * <p><b>Layout.</b> No object per entry: an open-addressing table of {@code int} keys (page index)
 * and {@code int} values (pfn), linear probing with backward-shift deletion, kept at most half full;
 * plus one {@link BitSet} per mark and one for presence, indexed by page index, so that
 * writeback and truncation walk entries in index order ({@code xa_find} / {@code
 * filemap_get_folios_tag}) with {@link BitSet#nextSetBit}. Indices are {@code 0 ..
 * Integer.MAX_VALUE} (the page table's index word is an {@code int}); the bit sets cost one bit per
 * index up to the highest one used, so a file of {@code n} pages costs {@code 3n/8} bytes of marks.
 *
 * <p><b>Locking.</b> The {@code xa_lock} is {@link #lock}: writers hold it exclusively, lookups
 * and tagged walks hold it shared (a {@link StampedLock} read lock: one CAS, no blocking among
 * readers). The kernel's lookups run under RCU instead; see {@code AddressSpace.getEntry} for why
 * memscope takes its reference under the shared lock.
 *
 * <p>Invariants (checked by {@link #check()}): {@code size} equals the number of live keys and of
 * set presence bits; every mark bit is also a presence bit.
 */
final class PageCacheIndex {
    /** Empty key: indices are never negative. */
    private static final int EMPTY = -1;
    /** Absent value returned by lookups. */
    static final int NONE = -1;

    /** Mark numbers ({@code xa_mark_t}). */
    static final int TAG_DIRTY = 0;
    static final int TAG_WRITEBACK = 1;
    static final int TAG_TOWRITE = 2;

    /** The xa_lock. */
    final StampedLock lock = new StampedLock();
    private int[] keys = newKeys(16);
    private int[] vals = new int[16];
    private int size;
    private final BitSet present = new BitSet();
    private final BitSet[] marks = {new BitSet(), new BitSet(), new BitSet()};

    private static int[] newKeys(int n) {
        int[] k = new int[n];
        java.util.Arrays.fill(k, EMPTY);
        return k;
    }

    private static int slot(int index, int mask) {
        int h = index * 0x9E3779B9;
        return (h ^ (h >>> 16)) & mask;
    }

    /** Linear probe for {@code index}; bounded by the table length. */
    private static int probe(int[] k, int[] v, int index) {
        int mask = k.length - 1;
        int i = slot(index, mask);
        for (int n = 0; n <= mask; n++) {
            int key = k[i];
            if (key == index) {
                return v[i];
            }
            if (key == EMPTY) {
                return NONE;
            }
            i = (i + 1) & mask;
        }
        return NONE;
    }

    /** Entry at {@code index}; caller holds the lock (either mode). */
    int get(int index) {
        return probe(keys, vals, index);
    }

    /**
     * Stores {@code pfn} at {@code index}; caller holds the write lock.
     *
     * @return false if the index is already occupied ({@code -EEXIST})
     */
    boolean insert(int index, int pfn) {
        if (index < 0) {
            throw new IllegalArgumentException("page index must be >= 0, was " + index);
        }
        if (probe(keys, vals, index) != NONE) {
            return false;
        }
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        put(keys, vals, index, pfn);
        size++;
        present.set(index);
        return true;
    }

    private static void put(int[] k, int[] v, int index, int pfn) {
        int mask = k.length - 1;
        int i = slot(index, mask);
        while (k[i] != EMPTY) {
            i = (i + 1) & mask;
        }
        k[i] = index;
        v[i] = pfn;
    }

    private void grow() {
        int[] nk = newKeys(keys.length * 2);
        int[] nv = new int[nk.length];
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != EMPTY) {
                put(nk, nv, keys[i], vals[i]);
            }
        }
        vals = nv;
        keys = nk;
    }

    /**
     * Removes the entry at {@code index} and clears its marks; caller holds the write lock.
     *
     * @return the pfn that was stored, or {@link #NONE}
     */
    int remove(int index) {
        int[] k = keys;
        int mask = k.length - 1;
        int i = slot(index, mask);
        while (k[i] != index) {
            if (k[i] == EMPTY) {
                return NONE;
            }
            i = (i + 1) & mask;
        }
        int pfn = vals[i];
        // Backward-shift deletion keeps every probe chain unbroken without tombstones.
        int hole = i;
        int j = (i + 1) & mask;
        while (k[j] != EMPTY) {
            int home = slot(k[j], mask);
            boolean movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
            if (movable) {
                k[hole] = k[j];
                vals[hole] = vals[j];
                hole = j;
            }
            j = (j + 1) & mask;
        }
        k[hole] = EMPTY;
        size--;
        present.clear(index);
        for (BitSet m : marks) {
            m.clear(index);
        }
        return pfn;
    }

    /** Number of entries ({@code nrpages}); caller holds the lock. */
    int size() {
        return size;
    }

    /** {@code xa_set_mark()}; caller holds the write lock. */
    void setMark(int index, int mark) {
        marks[mark].set(index);
    }

    /** {@code xa_clear_mark()}; caller holds the write lock. */
    void clearMark(int index, int mark) {
        marks[mark].clear(index);
    }

    /** {@code xa_get_mark()}; caller holds the lock. */
    boolean getMark(int index, int mark) {
        return marks[mark].get(index);
    }

    /** True when any entry carries the mark ({@code mapping_tagged()}); caller holds the lock. */
    boolean tagged(int mark) {
        return !marks[mark].isEmpty();
    }

    /** Entries with the mark; caller holds the lock. */
    int countMark(int mark) {
        return marks[mark].cardinality();
    }

    /** First index ≥ {@code from} carrying {@code mark}, or -1; caller holds the lock. */
    int nextMarked(int from, int mark) {
        return from < 0 ? -1 : marks[mark].nextSetBit(from);
    }

    /** First present index ≥ {@code from}, or -1; caller holds the lock. */
    int nextPresent(int from) {
        return from < 0 ? -1 : present.nextSetBit(from);
    }

    /**
     * {@code tag_pages_for_writeback()}: copies DIRTY to TOWRITE on {@code [start, end]} so that
     * data-integrity writeback writes exactly the pages dirty now and cannot be livelocked by
     * writers dirtying new pages behind it. Caller holds the write lock.
     */
    void tagForWriteback(int start, int end) {
        BitSet d = marks[TAG_DIRTY];
        for (int i = d.nextSetBit(start); i >= 0 && i <= end; i = d.nextSetBit(i + 1)) {
            marks[TAG_TOWRITE].set(i);
            if (i == Integer.MAX_VALUE) {
                break;
            }
        }
    }

    /** Errors in the invariants (0 when sound); caller holds the lock. */
    int check() {
        int errors = 0;
        int live = 0;
        for (int key : keys) {
            if (key != EMPTY) {
                live++;
                if (!present.get(key)) {
                    errors++;
                }
            }
        }
        if (live != size || present.cardinality() != size) {
            errors++;
        }
        for (BitSet m : marks) {
            BitSet stray = (BitSet) m.clone();
            stray.andNot(present);
            errors += stray.cardinality();
        }
        return errors;
    }
}
