package io.memscope.pagecache;

/**
 * Flags of a page-cache lookup, {@code fgf_t} of {@code include/linux/pagemap.h} with the
 * kernel's values, for {@link AddressSpace#filemapGetFolio(int, int, int)}.
 */
public final class Fgp {
    private Fgp() {}

    /** FGP_ACCESSED: mark the page accessed ({@code folio_mark_accessed}; a new page starts referenced). */
    public static final int ACCESSED = 0x01;
    /** FGP_LOCK: return the page locked (sleeps for the lock unless {@link #NOWAIT}). */
    public static final int LOCK = 0x02;
    /** FGP_CREAT: allocate and add a page if none is cached. */
    public static final int CREAT = 0x04;
    /** FGP_WRITE: the page will be written; a new page is allocated with {@code __GFP_WRITE}. */
    public static final int WRITE = 0x08;
    /** FGP_NOFS: clear {@code __GFP_FS} from the allocation mask. */
    public static final int NOFS = 0x10;
    /** FGP_NOWAIT: don't sleep: trylock only, and allocate without reclaim. */
    public static final int NOWAIT = 0x20;
    /** FGP_FOR_MMAP: a new page is returned unlocked (the fault path locks it itself). */
    public static final int FOR_MMAP = 0x40;
    /** FGP_STABLE: wait for writeback of the page to finish before returning it. */
    public static final int STABLE = 0x80;
    /** FGP_WRITEBEGIN: what {@code ->write_begin} uses. */
    public static final int WRITEBEGIN = LOCK | WRITE | CREAT | STABLE;

    /** All defined bits. */
    static final int ALL = 0xff;
}
