package io.memscope.page;

/**
 * Layout of one page-table record: memscope's {@code struct page} ({@code include/linux/mm_types.h},
 * {@code include/linux/page-flags.h}), in the Agrona {@code *Descriptor} style. The code that reads
 * the table never hard-codes an offset; it goes through the constants and helpers here.
 *
 * <p>The table is one {@code int[]} with {@link #INTS_PER_PAGE} ints per page frame, indexed by
 * page frame number (pfn): record {@code pfn} starts at {@code pfn << 3}. A record is 32 bytes,
 * half a cache line, and holds <em>all</em> per-page metadata (the kernel spends 64 bytes):
 *
 * <pre>
 *  word  bits   field
 *  ----  -----  ---------------------------------------------------------------
 *   0    0-15   page flags: PG_locked, PG_referenced, PG_uptodate, PG_dirty,
 *               PG_lru, PG_active, PG_workingset, PG_writeback, PG_reclaim,
 *               PG_head, PG_tail, PG_reserved, PG_swapbacked, PG_unevictable,
 *               PG_private, PG_mlocked           (see FLAG_* below)
 *        16-18  allocator state: NONE / BUDDY / PCP / ALLOC / QUARANTINE
 *        19-22  order of the block this page heads (free block, pcp block,
 *               allocation); kernel: page_private() of a PageBuddy page
 *        23-25  migratetype of the list the block is on / was allocated from
 *        26-31  spare
 *   1           _refcount
 *   2           next pfn on a free list or per-CPU list (-1 = none)
 *   3           prev pfn on a free list or per-CPU list (-1 = none)
 *   4           mapping id (page cache owner; 0 = none)      kernel: ->mapping
 *   5           index in the mapping, in pages               kernel: ->index
 *   6           private (owner's word: slab, buffer heads)    kernel: ->private
 *   7    0-23   generation, never 0: bumped on every free; the same value is
 *               carried in the handle (see PageHandle) so a stale handle is
 *               recognised
 *        24-26  pageblock migratetype, kept in the pageblock's LAST page only
 *               (see below); 0 in every other page      kernel: pageblock_flags
 *        27-31  spare
 * </pre>
 *
 * <p><b>Why the pageblock type lives in word 7.</b> It replaces the byte-per-pageblock side
 * array that grew with memory, so that the record is <em>all</em> the per-page metadata: exactly
 * {@link #BYTES_PER_PAGE} bytes per page. (The zone of a page needs no per-page field: zones are
 * contiguous pfn ranges, see {@code PageAllocator#zoneOf}.) The type is written under the zone
 * lock by whoever retypes the pageblock, while the page holding it may be allocated to, and being
 * freed by, another thread. So on that page alone every write of word 7 is a compare-and-set (its
 * generation bump included); every other page's word 7 is written plainly by its owner. The last
 * page is chosen because it can only ever head an order-0 block (a block of order k starts at a
 * multiple of 2^k) and buddy splitting hands it out last: the compare-and-set is rare on the free
 * path, and a thread reading the type seldom finds the line being written by another. (An earlier
 * layout kept the type in the pageblock's <em>first</em> page, often some thread's working page:
 * every other thread freeing into the pageblock missed on its line.)
 *
 * <p>Only the head page of a block carries the state, order and migratetype; pages inside a
 * free or allocated block have state NONE (like the kernel, which marks only the first page of
 * a free block PageBuddy). A compound allocation ({@code __GFP_COMP}) additionally sets
 * {@link #FLAG_HEAD} on the head and {@link #FLAG_TAIL} on every other page.
 */
public final class PageTableDescriptor {
    private PageTableDescriptor() {}

    /** Ints per record (32 bytes). */
    public static final int INTS_PER_PAGE = 8;
    /** log2 of {@link #INTS_PER_PAGE}. */
    public static final int RECORD_SHIFT = 3;
    /** Bytes of metadata per page, all included. */
    public static final int BYTES_PER_PAGE = INTS_PER_PAGE * Integer.BYTES;

    // ---- word offsets ----
    public static final int FLAGS_WORD = 0;
    public static final int REFCOUNT_WORD = 1;
    public static final int NEXT_WORD = 2;
    public static final int PREV_WORD = 3;
    public static final int MAPPING_WORD = 4;
    public static final int INDEX_WORD = 5;
    public static final int PRIVATE_WORD = 6;
    public static final int GEN_WORD = 7;

    // ---- page flags, word 0 bits 0-15 (names of include/linux/page-flags.h) ----
    public static final int FLAG_LOCKED = 1;
    public static final int FLAG_REFERENCED = 1 << 1;
    public static final int FLAG_UPTODATE = 1 << 2;
    public static final int FLAG_DIRTY = 1 << 3;
    public static final int FLAG_LRU = 1 << 4;
    public static final int FLAG_ACTIVE = 1 << 5;
    public static final int FLAG_WORKINGSET = 1 << 6;
    public static final int FLAG_WRITEBACK = 1 << 7;
    public static final int FLAG_RECLAIM = 1 << 8;
    public static final int FLAG_HEAD = 1 << 9;
    public static final int FLAG_TAIL = 1 << 10;
    public static final int FLAG_RESERVED = 1 << 11;
    public static final int FLAG_SWAPBACKED = 1 << 12;
    public static final int FLAG_UNEVICTABLE = 1 << 13;
    public static final int FLAG_PRIVATE = 1 << 14;
    public static final int FLAG_MLOCKED = 1 << 15;
    /** All page-flag bits. */
    public static final int PAGE_FLAGS_MASK = 0xffff;
    /** The kernel's names of the flag bits, bit 0 first (for dumps). */
    static final String[] FLAG_NAMES = {"locked", "referenced", "uptodate", "dirty", "lru", "active",
        "workingset", "writeback", "reclaim", "head", "tail", "reserved", "swapbacked", "unevictable",
        "private", "mlocked"};

    // ---- allocator state, word 0 bits 16-18 ----
    public static final int STATE_SHIFT = 16;
    public static final int STATE_MASK = 0x7 << STATE_SHIFT;
    /** Inside a block (or never used): carries no state of its own. */
    public static final int STATE_NONE = 0;
    /** Head of a free buddy block (kernel: PageBuddy). */
    public static final int STATE_BUDDY = 1;
    /** Head of a block on a per-CPU list. */
    public static final int STATE_PCP = 2;
    /** Head of an allocated block. */
    public static final int STATE_ALLOC = 3;
    /** Head of a freed block held in the debug quarantine. */
    public static final int STATE_QUARANTINE = 4;

    // ---- order, word 0 bits 19-22 ----
    public static final int ORDER_SHIFT = 19;
    public static final int ORDER_MASK = 0xf << ORDER_SHIFT;

    // ---- list migratetype, word 0 bits 23-25 ----
    public static final int LIST_MT_SHIFT = 23;
    public static final int LIST_MT_MASK = 0x7 << LIST_MT_SHIFT;

    /** Generation bits (word 7, bits 0-23). */
    public static final int GEN_MASK = 0xffffff;
    /** Pageblock migratetype in word 7 of the pageblock's last page, bits 24-26. */
    public static final int PAGEBLOCK_MT_SHIFT = 24;
    public static final int PAGEBLOCK_MT_MASK = 0x7 << PAGEBLOCK_MT_SHIFT;

    /** "No page" in a link word. */
    public static final int NIL = -1;

    /** Index of word {@code word} of record {@code pfn}. */
    public static int at(int pfn, int word) {
        return (pfn << RECORD_SHIFT) + word;
    }

    /** State of a flags word. */
    public static int state(int flagsWord) {
        return (flagsWord & STATE_MASK) >>> STATE_SHIFT;
    }

    /** Order of a flags word. */
    public static int order(int flagsWord) {
        return (flagsWord & ORDER_MASK) >>> ORDER_SHIFT;
    }

    /** List migratetype of a flags word. */
    public static int listMt(int flagsWord) {
        return (flagsWord & LIST_MT_MASK) >>> LIST_MT_SHIFT;
    }

    /**
     * A flags word with the allocator fields replaced and the page flags kept.
     */
    public static int withBlock(int flagsWord, int state, int order, int mt) {
        return (flagsWord & PAGE_FLAGS_MASK)
                | (state << STATE_SHIFT) | (order << ORDER_SHIFT) | (mt << LIST_MT_SHIFT);
    }

    /** Next generation: 24 bits, skipping 0 so that a live handle is never 0. */
    public static int nextGen(int gen) {
        int n = (gen + 1) & GEN_MASK;
        return n == 0 ? 1 : n;
    }

    /** Word 7 with its generation advanced and its pageblock type kept. */
    static int nextGenWord(int w) {
        return (w & ~GEN_MASK) | nextGen(w & GEN_MASK);
    }

    /** The state's name, for reports. */
    public static String stateName(int state) {
        return switch (state) {
            case STATE_NONE -> "none";
            case STATE_BUDDY -> "buddy";
            case STATE_PCP -> "pcp";
            case STATE_ALLOC -> "allocated";
            case STATE_QUARANTINE -> "quarantined";
            default -> "state" + state;
        };
    }
}
