package io.memscope.page;

import static io.memscope.page.PageTableDescriptor.*;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The machine's page table: one 32-byte record per page frame (the kernel's {@code mem_map} of
 * {@code struct page}), laid out as {@link PageTableDescriptor} describes, in a single
 * {@code int[]} so that a page's metadata is one half cache line and no object exists per page.
 *
 * <p><b>Concurrency.</b> A record is owned by whoever owns the block it belongs to: the zone lock
 * for free buddy blocks, the per-CPU slot lock for pages on a per-CPU list, the caller for
 * allocated pages. Accesses under those locks are plain ("lp"/"sp" in JCTools terms); the lock's
 * acquire/release orders them. Only {@code _refcount} is also changed by holders of an allocated
 * page from several threads (page cache, get/put), so it has atomic accessors. Word 7 of a
 * pageblock's last page also holds the pageblock's type, which a zone-lock holder may change while
 * another thread owns the page; on that page alone every write of word 7 is a compare-and-set
 * ({@link #setPageblockMt}, {@link #bumpGen}).
 */
public final class PageTable {
    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);

    private final int[] t;
    private final int pages;

    /** A table for {@code pages} frames: every record zeroed, links NIL, generation 1. */
    public PageTable(int pages) {
        if (pages <= 0 || pages > (Integer.MAX_VALUE >> RECORD_SHIFT)) {
            throw new IllegalArgumentException("page count must be in 1.." + (Integer.MAX_VALUE >> RECORD_SHIFT)
                    + ", was " + pages);
        }
        this.pages = pages;
        this.t = new int[pages << RECORD_SHIFT];
        for (int pfn = 0; pfn < pages; pfn++) {
            int b = pfn << RECORD_SHIFT;
            t[b + NEXT_WORD] = NIL;
            t[b + PREV_WORD] = NIL;
            t[b + GEN_WORD] = 1;
        }
    }

    /** Number of page frames. */
    public int pages() {
        return pages;
    }

    /** Bytes of metadata per page frame, all included (the table array divided by its pages). */
    public double bytesPerPage() {
        return (double) t.length * Integer.BYTES / pages;
    }

    /** Total bytes of the table. */
    public long bytes() {
        return (long) t.length * Integer.BYTES;
    }

    // ---- word 0 ----
    int flagsWord(int pfn) {
        return t[(pfn << RECORD_SHIFT) + FLAGS_WORD];
    }

    void setFlagsWord(int pfn, int v) {
        t[(pfn << RECORD_SHIFT) + FLAGS_WORD] = v;
    }

    int state(int pfn) {
        return PageTableDescriptor.state(flagsWord(pfn));
    }

    int order(int pfn) {
        return PageTableDescriptor.order(flagsWord(pfn));
    }

    int listMt(int pfn) {
        return PageTableDescriptor.listMt(flagsWord(pfn));
    }

    /** Sets state, order and list type of a block head, keeping its page flags. */
    void setBlock(int pfn, int state, int order, int mt) {
        int i = (pfn << RECORD_SHIFT) + FLAGS_WORD;
        t[i] = withBlock(t[i], state, order, mt);
    }

    /**
     * {@link #setBlock} for a head whose page flags another holder may change at the same time (its
     * page lock is a compare-and-set on this word): only the state, order and list-type bits change.
     */
    void setBlockAtomic(int pfn, int state, int order, int mt) {
        int i = (pfn << RECORD_SHIFT) + FLAGS_WORD;
        for (int w = (int) INTS.getVolatile(t, i); ; ) {
            int seen = (int) INTS.compareAndExchange(t, i, w, withBlock(w, state, order, mt));
            if (seen == w) {
                return;
            }
            w = seen;
        }
    }

    /** Clears state/order/list type of a page (it becomes an inner page of some block). */
    void clearBlock(int pfn) {
        int i = (pfn << RECORD_SHIFT) + FLAGS_WORD;
        t[i] &= PAGE_FLAGS_MASK;
    }

    /** The page flags (bits 0-15) of a page. */
    public int pageFlags(int pfn) {
        return flagsWord(pfn) & PAGE_FLAGS_MASK;
    }

    /** Sets page-flag bits; the caller owns the page. */
    public void setPageFlags(int pfn, int bits) {
        t[(pfn << RECORD_SHIFT) + FLAGS_WORD] |= bits & PAGE_FLAGS_MASK;
    }

    /** Clears page-flag bits; the caller owns the page. */
    public void clearPageFlags(int pfn, int bits) {
        t[(pfn << RECORD_SHIFT) + FLAGS_WORD] &= ~(bits & PAGE_FLAGS_MASK);
    }

    // ---- links ----
    int next(int pfn) {
        return t[(pfn << RECORD_SHIFT) + NEXT_WORD];
    }

    void setNext(int pfn, int v) {
        t[(pfn << RECORD_SHIFT) + NEXT_WORD] = v;
    }

    int prev(int pfn) {
        return t[(pfn << RECORD_SHIFT) + PREV_WORD];
    }

    void setPrev(int pfn, int v) {
        t[(pfn << RECORD_SHIFT) + PREV_WORD] = v;
    }

    // ---- refcount ----
    /** {@code page_ref_count()} (plain read; exact only for the owner). */
    public int refcount(int pfn) {
        return (int) INTS.getOpaque(t, (pfn << RECORD_SHIFT) + REFCOUNT_WORD);
    }

    void setRefcount(int pfn, int v) {
        t[(pfn << RECORD_SHIFT) + REFCOUNT_WORD] = v;
    }

    /**
     * The free path's common case in one look at the record: the head of an allocated block of
     * {@code order} with the handle's generation ({@code __free_pages}' checks), a count of 1 (the
     * caller's reference only), no mapping, and none of {@code checkAtFree}'s flags
     * ({@code free_pages_prepare}'s). Plain reads of one half cache line, combined without
     * branches; false sends the free down the full path, which tells the cases apart. See
     * {@code FreePath.freePages} for why plain reads are enough.
     */
    boolean freeFastPathOk(int pfn, int order, int generation, int checkAtFree) {
        int b = pfn << RECORD_SHIFT;
        int[] t = this.t;
        int gen = t[b + GEN_WORD]; // the record's last word first: one bounds check covers the others
        int want = (STATE_ALLOC << STATE_SHIFT) | (order << ORDER_SHIFT);
        return (((t[b + FLAGS_WORD] & (STATE_MASK | ORDER_MASK | checkAtFree)) ^ want) | ((gen & GEN_MASK) ^ generation)
                | (t[b + REFCOUNT_WORD] - 1) | t[b + MAPPING_WORD]) == 0;
    }

    /** {@code page_ref_add_return()}: atomic add, full fence (volatile semantics), returns the new count. */
    public int refcountAddAndGet(int pfn, int delta) {
        return (int) INTS.getAndAdd(t, (pfn << RECORD_SHIFT) + REFCOUNT_WORD, delta) + delta;
    }

    // ---- owner fields ----
    /** Page-cache mapping id ({@code page->mapping}); 0 = none. */
    public int mapping(int pfn) {
        return t[(pfn << RECORD_SHIFT) + MAPPING_WORD];
    }

    /** Sets the mapping id; the caller owns the page. */
    public void setMapping(int pfn, int mappingId) {
        t[(pfn << RECORD_SHIFT) + MAPPING_WORD] = mappingId;
    }

    /** Index in the mapping, in pages ({@code page->index}). */
    public int index(int pfn) {
        return t[(pfn << RECORD_SHIFT) + INDEX_WORD];
    }

    /** Sets the index; the caller owns the page. */
    public void setIndex(int pfn, int index) {
        t[(pfn << RECORD_SHIFT) + INDEX_WORD] = index;
    }

    /** The owner's private word ({@code page->private}). */
    public int privateWord(int pfn) {
        return t[(pfn << RECORD_SHIFT) + PRIVATE_WORD];
    }

    /** Sets the private word; the caller owns the page. */
    public void setPrivateWord(int pfn, int v) {
        t[(pfn << RECORD_SHIFT) + PRIVATE_WORD] = v;
    }

    // ---- generation ----
    /**
     * The generation of {@code pfn}'s record (what {@link PageHandle#of} needs to rebuild a handle
     * from a pfn, e.g. when reclaim frees a page it found on an LRU list). Plain read: exact only
     * for a caller that owns the page (holds a reference or the last one).
     */
    public int generation(int pfn) {
        return gen(pfn);
    }

    int gen(int pfn) {
        return t[(pfn << RECORD_SHIFT) + GEN_WORD] & GEN_MASK;
    }

    /** Generation read from a thread that does not own the page (stale-handle checks): opaque. */
    int genOpaque(int pfn) {
        return (int) INTS.getOpaque(t, (pfn << RECORD_SHIFT) + GEN_WORD) & GEN_MASK;
    }

    void bumpGen(int pfn) {
        int i = (pfn << RECORD_SHIFT) + GEN_WORD;
        storeNextGen(pfn, i, t[i]);
    }

    /**
     * Advances the generation in word 7 at index {@code i} of {@code pfn}'s record, whose current
     * value the caller read as {@code w}. A pageblock's last page shares the word with the
     * pageblock type, which a zone-lock holder may retype at the same moment: there it is a
     * compare-and-set, so neither update is lost; everywhere else the owner's plain store.
     */
    private void storeNextGen(int pfn, int i, int w) {
        if ((pfn & PAGEBLOCK_LAST) != PAGEBLOCK_LAST) {
            t[i] = nextGenWord(w);
            return;
        }
        do {
            w = (int) INTS.getVolatile(t, i);
        } while (!INTS.compareAndSet(t, i, w, nextGenWord(w)));
    }

    // ---- pageblock type (word 7 of a pageblock's last page, see PageTableDescriptor) ----
    /** {@code pageblock_nr_pages - 1}: the offset of a pageblock's last page, which holds its type. */
    static final int PAGEBLOCK_LAST = (1 << Zone.PAGEBLOCK_ORDER) - 1;

    /** Word 7 whole: generation and, in a pageblock's last page, the pageblock type. For the validator. */
    int word7(int pfn) {
        return t[(pfn << RECORD_SHIFT) + GEN_WORD];
    }

    /**
     * {@code get_pfnblock_migratetype()}: the type of the pageblock holding {@code pfn}, from word 7
     * of its last page. A plain read (an int never tears): the free path reads it without the zone
     * lock and, like the kernel's, tolerates a type changed a moment later.
     */
    int pageblockMt(int pfn) {
        int w = t[((pfn | PAGEBLOCK_LAST) << RECORD_SHIFT) + GEN_WORD];
        return (w & PAGEBLOCK_MT_MASK) >>> PAGEBLOCK_MT_SHIFT;
    }

    /**
     * {@code set_pageblock_migratetype()}: compare-and-set on word 7 of the pageblock's last page,
     * since that page's owner may be bumping its generation at the same time. Caller holds the
     * zone lock (one retyper at a time).
     */
    void setPageblockMt(int pfn, int mt) {
        int i = ((pfn | PAGEBLOCK_LAST) << RECORD_SHIFT) + GEN_WORD;
        int w;
        do {
            w = (int) INTS.getVolatile(t, i);
        } while (!INTS.compareAndSet(t, i, w, (w & ~PAGEBLOCK_MT_MASK) | (mt << PAGEBLOCK_MT_SHIFT)));
    }

    /**
     * {@code prep_new_page()}'s record writes in one pass: block head in state ALLOC of
     * {@code order} from list {@code mt}, refcount 1. Returns the generation, for the handle. The
     * caller owns the block. A free block has no page flags (the free path cleared them,
     * as the kernel's {@code check_new_page} expects {@code PAGE_FLAGS_CHECK_AT_PREP} clear), so
     * the flags word is written whole: the allocation does not wait on the store that took the
     * block off its list.
     */
    int prepAllocated(int pfn, int state, int order, int mt) {
        int b = pfn << RECORD_SHIFT;
        int[] t = this.t;
        int gen = t[b + GEN_WORD]; // the record's last word first: one bounds check covers the others
        t[b + FLAGS_WORD] = withBlock(0, state, order, mt);
        t[b + REFCOUNT_WORD] = 1;
        return gen & GEN_MASK;
    }

    /**
     * The record writes of {@code __free_pages} in one pass: owner fields and refcount reset,
     * generation advanced when {@code bumpGen}. Returns the flags word as it was (the caller checks
     * PG_head). The flags word itself is left to the caller, which writes it whole when it puts the
     * block on a per-CPU or buddy list (page flags cleared, as {@code free_pages_prepare} clears
     * them): one store instead of two. The caller owns the block.
     */
    int releaseRecord(int pfn, boolean bumpGen) {
        int b = pfn << RECORD_SHIFT;
        int[] t = this.t;
        int w = t[b + FLAGS_WORD]; // before any store: the free check's load of it is reused
        int gen = t[b + GEN_WORD];
        if (bumpGen) {
            storeNextGen(pfn, b + GEN_WORD, gen);
        }
        t[b + REFCOUNT_WORD] = 0;
        t[b + MAPPING_WORD] = 0;
        t[b + INDEX_WORD] = 0;
        t[b + PRIVATE_WORD] = 0;
        return w;
    }

    // ---- atomic page flags: set_bit/clear_bit/test_and_set_bit on page->flags ----
    // Once a page is visible to other threads (in the page cache, on an LRU list), its page flags
    // change only through these atomic operations: reclaim, writeback completion and the page
    // cache act on the same word concurrently. The allocator's state bits in the same word are
    // never touched while the page is allocated, so the two uses do not race.

    /** {@code test_bit()}: an opaque read of one page flag. */
    public boolean testPageFlag(int pfn, int flag) {
        return ((int) INTS.getOpaque(t, (pfn << RECORD_SHIFT) + FLAGS_WORD) & flag) != 0;
    }

    /** All page flags with volatile (acquire) semantics. */
    public int pageFlagsAcquire(int pfn) {
        return (int) INTS.getAcquire(t, (pfn << RECORD_SHIFT) + FLAGS_WORD) & PAGE_FLAGS_MASK;
    }

    /** {@code test_and_set_bit()}: fully ordered; returns whether the flag was already set. */
    public boolean testAndSetPageFlag(int pfn, int flag) {
        return ((int) INTS.getAndBitwiseOr(t, (pfn << RECORD_SHIFT) + FLAGS_WORD, flag & PAGE_FLAGS_MASK) & flag) != 0;
    }

    /** {@code test_and_clear_bit()}: fully ordered; returns whether the flag was set. */
    public boolean testAndClearPageFlag(int pfn, int flag) {
        return ((int) INTS.getAndBitwiseAnd(t, (pfn << RECORD_SHIFT) + FLAGS_WORD, ~(flag & PAGE_FLAGS_MASK)) & flag) != 0;
    }

    /** {@code set_bit()}: atomic, fully ordered (the kernel's is unordered; stronger is safe). */
    public void setPageFlagAtomic(int pfn, int flag) {
        INTS.getAndBitwiseOr(t, (pfn << RECORD_SHIFT) + FLAGS_WORD, flag & PAGE_FLAGS_MASK);
    }

    /** {@code clear_bit_unlock()}: atomic with release semantics (everything before it is visible first). */
    public void clearPageFlagRelease(int pfn, int flag) {
        INTS.getAndBitwiseAndRelease(t, (pfn << RECORD_SHIFT) + FLAGS_WORD, ~(flag & PAGE_FLAGS_MASK));
    }

    // ---- reference count for shared pages ----

    /**
     * {@code folio_try_get()}: takes a reference unless the count is 0 (the page is being freed).
     *
     * <p>Contract: a <em>speculative</em> reference — one taken by a thread that does not already
     * hold one — may be taken only on pages whose last reference goes through
     * {@code PageAllocator.freeFrozenPages} or {@code putPage} (page-cache and LRU pages), never on a
     * page its owner frees with {@code freePages}: that free takes a sole reference back with plain
     * stores (see {@code FreePath.freePages}), so a speculative reference landing at the same moment
     * would be lost. memscope's own speculative references (page-cache lookups under the index
     * lock, LRU isolation of PG_lru pages) keep to this.
     */
    public boolean refcountTryGet(int pfn) {
        int i = (pfn << RECORD_SHIFT) + REFCOUNT_WORD;
        while (true) {
            int c = (int) INTS.getVolatile(t, i);
            if (c <= 0) {
                return false;
            }
            if (INTS.compareAndSet(t, i, c, c + 1)) {
                return true;
            }
        }
    }

    /**
     * {@code folio_ref_freeze()}: atomically replaces the count {@code expected} with 0, so no one
     * can take a new reference; false when someone else holds one. The CAS is fully ordered, which
     * gives the read-after barrier {@code __remove_mapping} needs before it tests PG_dirty.
     */
    public boolean refcountFreeze(int pfn, int expected) {
        return INTS.compareAndSet(t, (pfn << RECORD_SHIFT) + REFCOUNT_WORD, expected, 0);
    }

    /** {@code folio_ref_unfreeze()}: publishes a new count after a freeze (release). */
    public void refcountUnfreeze(int pfn, int count) {
        INTS.setRelease(t, (pfn << RECORD_SHIFT) + REFCOUNT_WORD, count);
    }

    // ---- LRU links ----
    // An allocated page on an LRU list uses the same two link words a free block uses on a free
    // list (the kernel's page->lru shares its union with the buddy list). They are accessed only
    // under the owning LRU's lock, and only while the page is allocated and PG_lru is set.

    /** Next pfn on the page's LRU list, or {@link PageTableDescriptor#NIL}. Caller holds the LRU lock. */
    public int lruNext(int pfn) {
        return next(pfn);
    }

    /** Sets the LRU successor. Caller holds the LRU lock. */
    public void setLruNext(int pfn, int v) {
        setNext(pfn, v);
    }

    /** Previous pfn on the page's LRU list, or NIL. Caller holds the LRU lock. */
    public int lruPrev(int pfn) {
        return prev(pfn);
    }

    /** Sets the LRU predecessor. Caller holds the LRU lock. */
    public void setLruPrev(int pfn, int v) {
        setPrev(pfn, v);
    }

    /** Word {@code 2i} and {@code 2i+1} of the record as one raw 64-bit word ({@code dump_page}'s "raw:" line), i in 0..3. */
    long rawWord(int pfn, int i) {
        int b = (pfn << RECORD_SHIFT) + 2 * i;
        return (t[b] & 0xffffffffL) | ((long) t[b + 1] << 32);
    }

    /** {@code %pGp}-style names of the page flags set on {@code pfn}, joined with '|'. */
    public String flagNames(int pfn) {
        int f = pageFlags(pfn);
        StringBuilder sb = new StringBuilder();
        for (int b = 0; b < FLAG_NAMES.length; b++) {
            if ((f & (1 << b)) != 0) {
                if (!sb.isEmpty()) {
                    sb.append('|');
                }
                sb.append(FLAG_NAMES[b]);
            }
        }
        return sb.toString();
    }
}
