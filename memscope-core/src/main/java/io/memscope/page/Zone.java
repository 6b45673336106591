package io.memscope.page;

import static io.memscope.page.PageTableDescriptor.NIL;
import static io.memscope.page.PageTableDescriptor.STATE_ALLOC;
import static io.memscope.page.PageTableDescriptor.STATE_BUDDY;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.MigrateType;
import io.memscope.gfp.ZoneType;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One memory zone of one node: {@code struct zone} of {@code include/linux/mmzone.h} with the buddy
 * operations of {@code mm/page_alloc.c} that run under {@code zone->lock}: {@code __rmqueue_smallest},
 * {@code __rmqueue_claim}/{@code __rmqueue_steal} (migratetype fallback), {@code expand},
 * {@code __free_one_page} (merging), {@code reserve_highatomic_pageblock},
 * {@code unreserve_highatomic_pageblock} and {@code move_freepages_block}.
 *
 * <p>A zone spans {@code [startPfn, startPfn + pages)}; both are multiples of
 * {@code 1 << MAX_PAGE_ORDER} so every buddy of a block lies in the same zone. Every page is
 * managed (memscope has no reserved or hole pages), so {@code managed == present == spanned}.
 *
 * <p>Invariants: {@code nrFreePages} equals the pages on the free lists (pages on per-CPU lists
 * are <em>not</em> free, as in the kernel, where {@code NR_FREE_PAGES} moves when pages enter or
 * leave the buddy); {@code nrFreeHighatomic} equals the pages on HIGHATOMIC lists;
 * {@code nrReservedHighatomic} never exceeds 1% of the zone rounded up to a pageblock.
 *
 * <p><b>Pageblock types.</b> The migratetype of each pageblock ({@code zone->pageblock_flags} in
 * the kernel) is kept in the page table, in word 7 of the pageblock's last page, so that the
 * zone needs no array that grows with memory; {@link PageTableDescriptor} says why that page and
 * how the word is shared. An earlier layout kept it in the pageblock's <em>first</em> page: that
 * page is often some thread's working page on the per-CPU fast path, so every other thread
 * freeing into the pageblock missed on its line (the two-thread scaling gap of issue 3). The last
 * page is the one splitting hands out last.
 *
 * <p>Concurrency: every mutator requires {@link #lock} held. {@code nrFreePages} is written with
 * release/opaque semantics and read lock-free by the watermark checks, like
 * {@code zone_page_state()}: a racy read may be slightly stale, never torn.
 */
public final class Zone implements Watermarks.OrderProbe {
    /** {@code pageblock_order} on x86-64 with THP: {@code HPAGE_PMD_ORDER} = 9 (2 MiB blocks). */
    public static final int PAGEBLOCK_ORDER = 9;
    /** {@code pageblock_nr_pages}. */
    public static final int PAGEBLOCK_PAGES = 1 << PAGEBLOCK_ORDER;

    /** {@code fallbacks[]} of mm/page_alloc.c: the order in which other types' lists are tried. */
    static final int[][] FALLBACKS = {
        {MigrateType.RECLAIMABLE.ordinal(), MigrateType.MOVABLE.ordinal()},     // UNMOVABLE
        {MigrateType.RECLAIMABLE.ordinal(), MigrateType.UNMOVABLE.ordinal()},   // MOVABLE
        {MigrateType.UNMOVABLE.ordinal(), MigrateType.MOVABLE.ordinal()},       // RECLAIMABLE
    };

    private static final int HIGHATOMIC = MigrateType.HIGHATOMIC.ordinal();
    private static final int MOVABLE = MigrateType.MOVABLE.ordinal();
    private static final int UNMOVABLE = MigrateType.UNMOVABLE.ordinal();
    private static final int RECLAIMABLE = MigrateType.RECLAIMABLE.ordinal();
    private static final VarHandle NR_FREE;

    static {
        try {
            NR_FREE = MethodHandles.lookup().findVarHandle(Zone.class, "nrFreePages", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final int nid;
    final ZoneType type;
    final int idx;
    final int startPfn;
    final int pages;
    final PageTable pt;
    final FreeArea area;
    /** {@code zone->lock}. A ReentrantLock: uncontended acquire allocates nothing. */
    final ReentrantLock lock = new ReentrantLock();

    /** {@code _watermark[WMARK_MIN/LOW/HIGH/PROMO]}, set once by {@link Watermarks}. */
    final long[] watermark = new long[4];
    /** {@code lowmem_reserve[MAX_NR_ZONES]}. */
    final long[] lowmemReserve = new long[ZoneType.COUNT];
    /** Per-CPU pagesets of this zone, one per slot. */
    PerCpuPages[] pcp;
    int pcpHigh;
    int pcpBatch;

    @SuppressWarnings("unused") // accessed through NR_FREE
    private long nrFreePages;
    long nrFreeHighatomic;
    long nrReservedHighatomic;
    /** Pages allocated straight from the buddy (not through a pcp list), under the lock. */
    long buddyPgalloc;
    /** Pages freed straight to the buddy, under the lock. */
    long buddyPgfree;

    Zone(int nid, ZoneType type, int startPfn, int pages, PageTable pt) {
        this.nid = nid;
        this.type = type;
        this.idx = type.ordinal();
        this.startPfn = startPfn;
        this.pages = pages;
        this.pt = pt;
        this.area = new FreeArea(pt);
    }

    /** Node id. */
    public int nid() {
        return nid;
    }

    /** Zone type. */
    public ZoneType type() {
        return type;
    }

    /** First pfn. */
    public int startPfn() {
        return startPfn;
    }

    /** {@code zone_managed_pages()} (= present = spanned here). */
    public long managedPages() {
        return pages;
    }

    /** True when the zone has pages ({@code populated_zone}). */
    public boolean populated() {
        return pages > 0;
    }

    /** True when {@code pfn} lies in this zone. */
    public boolean spans(int pfn) {
        return pfn >= startPfn && pfn < startPfn + pages;
    }

    /** {@code min_wmark_pages()}. */
    public long minWmark() {
        return watermark[0];
    }

    /** {@code low_wmark_pages()}. */
    public long lowWmark() {
        return watermark[1];
    }

    /** {@code high_wmark_pages()}. */
    public long highWmark() {
        return watermark[2];
    }

    /** {@code promo_wmark_pages()}. */
    public long promoWmark() {
        return watermark[3];
    }

    /** {@code zone->lowmem_reserve[idx]}. */
    public long lowmemReserve(int zoneIdx) {
        return lowmemReserve[zoneIdx];
    }

    /** {@code zone_page_state(zone, NR_FREE_PAGES)}: a racy (opaque) read. */
    public long freePages() {
        return (long) NR_FREE.getOpaque(this);
    }

    /** Free pages on HIGHATOMIC lists (a racy read). */
    public long freeHighatomic() {
        return nrFreeHighatomic;
    }

    /** {@code zone->nr_reserved_highatomic}. */
    public long reservedHighatomic() {
        return nrReservedHighatomic;
    }

    /** The per-CPU {@code high} limit of this zone's pagesets. */
    public int pcpHigh() {
        return pcpHigh;
    }

    /**
     * Pages on this zone's per-CPU lists, summed over the slots without their locks: a racy
     * snapshot for monitoring (each list's count is exact only under its lock). Bounded by
     * {@code pcpHigh() * slots} at rest.
     */
    public long pcpPagesRacy() {
        long n = 0;
        for (PerCpuPages p : pcp) {
            n += p.countRacy();
        }
        return n;
    }

    /** Number of per-CPU pagesets (slots) of this zone. */
    public int pcpSlots() {
        return pcp.length;
    }

    /** The per-CPU {@code batch} of this zone's pagesets. */
    public int pcpBatch() {
        return pcpBatch;
    }

    /** Kernel name of the zone ("DMA", "DMA32", "Normal", "Movable"). */
    public String name() {
        return type.kernelName();
    }

    @Override
    public String toString() {
        return "Node " + nid + " " + type.kernelName();
    }

    // ------------------------------------------------------------------ accounting

    /**
     * {@code account_freepages()}: NR_FREE_PAGES and the highatomic free count. Caller holds the
     * lock; the store is opaque so that lock-free watermark readers never see a torn value
     * (ordering is not needed: the checks are heuristics the kernel also runs without the lock).
     */
    private void accountFree(long nr, int mt) {
        NR_FREE.setOpaque(this, (long) NR_FREE.get(this) + nr);
        if (mt == HIGHATOMIC) {
            nrFreeHighatomic += nr;
        }
    }

    /**
     * {@code account_freepages()} for free pages that change lists under the lock: {@code removed}
     * pages leave the {@code oldMt} lists and {@code added} of them come back on the {@code newMt}
     * lists. NR_FREE_PAGES changes by the net amount in <em>one</em> store. Two stores (minus the
     * whole block, then plus what came back) let a lock-free {@code zone_watermark_fast} on another
     * thread read the counter in between and see the block as allocated: on a fresh 4 MiB zone,
     * claiming its one 1024-page block for an UNMOVABLE request showed 0 free pages, and a
     * concurrent {@code GFP_NOWAIT} allocation failed with 1023 pages free (found by
     * {@code PerCpuPagesLincheckTest}; regression test {@code ZoneAccountingRaceTest}).
     */
    private void accountMove(long removed, int oldMt, long added, int newMt) {
        if (added != removed) {
            NR_FREE.setOpaque(this, (long) NR_FREE.get(this) + added - removed);
        }
        if (oldMt == HIGHATOMIC) {
            nrFreeHighatomic -= removed;
        }
        if (newMt == HIGHATOMIC) {
            nrFreeHighatomic += added;
        }
    }

    // ------------------------------------------------------------------ initial population

    /** Puts every page of the zone on the free lists as MAX_PAGE_ORDER blocks of type MOVABLE (boot: memblock_free_all). */
    void populate() {
        for (int pb = startPfn; pb < startPfn + pages; pb += PAGEBLOCK_PAGES) {
            setPageblockMt(pb, MOVABLE);
        }
        for (int pfn = startPfn; pfn < startPfn + pages; pfn += 1 << Gfp.MAX_PAGE_ORDER) {
            area.add(pfn, Gfp.MAX_PAGE_ORDER, MOVABLE);
            accountFree(1L << Gfp.MAX_PAGE_ORDER, MOVABLE);
        }
    }

    // ------------------------------------------------------------------ allocation side

    /**
     * {@code expand()}: splits block {@code pfn} of order {@code high} down to {@code low}, putting
     * the upper halves back on the lists of {@code mt}. Returns the pages put back.
     */
    private int expand(int pfn, int low, int high, int mt) {
        int nrAdded = 0;
        while (high > low) {
            high--;
            int size = 1 << high;
            area.add(pfn + size, high, mt);
            nrAdded += size;
        }
        return nrAdded;
    }

    /** {@code page_del_and_expand()}. */
    private void delAndExpand(int pfn, int low, int high, int mt) {
        int nr = 1 << high;
        area.del(pfn, high, mt);
        nr -= expand(pfn, low, high, mt);
        accountFree(-nr, mt);
    }

    /** {@code __rmqueue_smallest()}: the smallest block of exactly this type, split. NIL if none. */
    int rmqueueSmallest(int order, int mt) {
        for (int o = order; o <= Gfp.MAX_PAGE_ORDER; o++) {
            int pfn = area.first(o, mt);
            if (pfn == NIL) {
                continue;
            }
            delAndExpand(pfn, order, o, mt);
            return pfn;
        }
        return NIL;
    }

    /**
     * {@code __rmqueue()}: own type first, then claim a whole pageblock of another type, then (unless
     * ALLOC_NOFRAGMENT) steal a block without claiming. Returns the head pfn or NIL.
     */
    int rmqueue(int order, int mt, int allocFlags) {
        int pfn = rmqueueSmallest(order, mt);
        if (pfn != NIL) {
            return pfn;
        }
        pfn = rmqueueClaim(order, mt, allocFlags);
        if (pfn != NIL) {
            return pfn;
        }
        if ((allocFlags & AllocFlags.NOFRAGMENT) == 0) {
            return rmqueueSteal(order, mt);
        }
        return NIL;
    }

    /**
     * {@code find_suitable_fallback()}: the first fallback type with a free block at {@code order};
     * -1 if none; -2 when {@code claimable} and the request should not claim
     * ({@code should_try_claim_block}).
     */
    int findSuitableFallback(int order, int startMt, boolean claimable) {
        if (area.countOrder(order) == 0) {
            return -1;
        }
        if (claimable && !shouldTryClaimBlock(order, startMt)) {
            return -2;
        }
        for (int fb : FALLBACKS[startMt]) {
            if (area.first(order, fb) != NIL) {
                return fb;
            }
        }
        return -1;
    }

    /**
     * {@code should_try_claim_block()}: large blocks always; unmovable and reclaimable requests always
     * (they would pollute the block permanently otherwise); small movable requests only steal.
     */
    static boolean shouldTryClaimBlock(int order, int startMt) {
        if (order >= PAGEBLOCK_ORDER) {
            return true;
        }
        if (order >= PAGEBLOCK_ORDER / 2) {
            return true;
        }
        return startMt == RECLAIMABLE || startMt == UNMOVABLE;
    }

    /** {@code __rmqueue_claim()}: search from the largest order down for a block to claim. */
    private int rmqueueClaim(int order, int startMt, int allocFlags) {
        int minOrder = order;
        // With ALLOC_NOFRAGMENT only whole pageblocks are taken from other types.
        if ((allocFlags & AllocFlags.NOFRAGMENT) != 0 && order < PAGEBLOCK_ORDER) {
            minOrder = PAGEBLOCK_ORDER;
        }
        for (int co = Gfp.MAX_PAGE_ORDER; co >= minOrder; co--) {
            int fb = findSuitableFallback(co, startMt, true);
            if (fb == -1) {
                continue;
            }
            if (fb == -2) {
                break;
            }
            int pfn = tryToClaimBlock(area.first(co, fb), co, order, startMt, fb);
            if (pfn != NIL) {
                return pfn;
            }
        }
        return NIL;
    }

    /**
     * {@code try_to_claim_block()}: a block of pageblock order or more changes type wholesale; a
     * smaller one converts its pageblock when at least half of it is free or "alike" (movable pages
     * for a movable request; non-free non-movable pages of a movable block for others).
     */
    private int tryToClaimBlock(int pfn, int currentOrder, int order, int startMt, int blockMt) {
        if (currentOrder >= PAGEBLOCK_ORDER) {
            area.del(pfn, currentOrder, blockMt);
            changePageblockRange(pfn, currentOrder, startMt);
            int added = expand(pfn, order, currentOrder, startMt);
            accountMove(1L << currentOrder, blockMt, added, startMt);
            return pfn;
        }
        int pb = pfn & ~(PAGEBLOCK_PAGES - 1);
        int free = 0;
        int movable = 0;
        for (int p = pb; p < pb + PAGEBLOCK_PAGES; ) {
            int st = pt.state(p);
            int o = pt.order(p);
            if (st == STATE_BUDDY) {
                free += 1 << o;
                p += 1 << o;
            } else if (st == STATE_ALLOC) {
                if (pt.listMt(p) == MOVABLE) {
                    movable += 1 << o;
                }
                p += 1 << o;
            } else if (st != PageTableDescriptor.STATE_NONE) {
                p += 1 << o;
            } else {
                p++;
            }
        }
        int alike;
        if (startMt == MOVABLE) {
            alike = movable;
        } else if (blockMt == MOVABLE) {
            alike = PAGEBLOCK_PAGES - (free + movable);
        } else {
            alike = 0;
        }
        if (free + alike >= (1 << (PAGEBLOCK_ORDER - 1))) {
            moveFreepagesBlock(pb, blockMt, startMt);
            return rmqueueSmallest(order, startMt);
        }
        return NIL;
    }

    /** {@code __rmqueue_steal()}: the smallest fallback block, taken without claiming its pageblock. */
    private int rmqueueSteal(int order, int startMt) {
        for (int co = order; co <= Gfp.MAX_PAGE_ORDER; co++) {
            int fb = findSuitableFallback(co, startMt, false);
            if (fb < 0) {
                continue;
            }
            int pfn = area.first(co, fb);
            delAndExpand(pfn, order, co, fb);
            return pfn;
        }
        return NIL;
    }

    /** {@code change_pageblock_range()}: sets the type of every pageblock covered by the block. */
    private void changePageblockRange(int pfn, int order, int mt) {
        int n = Math.max(1, 1 << (order - PAGEBLOCK_ORDER));
        int pb = pfn & ~(PAGEBLOCK_PAGES - 1);
        for (int i = 0; i < n; i++) {
            setPageblockMt(pb + i * PAGEBLOCK_PAGES, mt);
        }
    }

    /**
     * {@code __move_freepages_block()} + {@code set_pageblock_migratetype()}: moves every free block
     * inside pageblock {@code pb} from the {@code oldMt} lists to {@code newMt} and retypes the
     * pageblock. Returns the pages moved.
     */
    int moveFreepagesBlock(int pb, int oldMt, int newMt) {
        int moved = 0;
        for (int p = pb; p < pb + PAGEBLOCK_PAGES; ) {
            if (pt.state(p) == STATE_BUDDY) {
                int o = pt.order(p);
                int mt = pt.listMt(p);
                if (mt == oldMt) {
                    area.del(p, o, mt);
                    area.add(p, o, newMt);
                    accountMove(1L << o, mt, 1L << o, newMt);
                    moved += 1 << o;
                }
                p += 1 << o;
            } else {
                int st = pt.state(p);
                p += st == PageTableDescriptor.STATE_NONE ? 1 : 1 << pt.order(p);
            }
        }
        setPageblockMt(pb, newMt);
        return moved;
    }

    /** The pageblock migratetype of {@code pfn} ({@code get_pfnblock_migratetype}); see {@link PageTable#pageblockMt}. */
    int pageblockMt(int pfn) {
        return pt.pageblockMt(pfn);
    }

    /** {@code set_pageblock_migratetype()} for the pageblock holding {@code pfn}. Caller holds {@link #lock}. */
    void setPageblockMt(int pfn, int mt) {
        pt.setPageblockMt(pfn, mt);
    }

    // ------------------------------------------------------------------ free side

    /**
     * {@code __free_one_page()}: returns block {@code pfn} of {@code order} to the lists of
     * {@code mt}, merging with its free buddy as long as possible. Above pageblock order two blocks
     * of different types merge only if both types are mergeable (not HIGHATOMIC); the buddy's
     * pageblock then takes this block's type.
     */
    void freeOneBlock(int pfn, int order, int mt) {
        accountFree(1L << order, mt);
        while (order < Gfp.MAX_PAGE_ORDER) {
            int buddy = pfn ^ (1 << order);
            int bw = pt.flagsWord(buddy);
            if (PageTableDescriptor.state(bw) != STATE_BUDDY || PageTableDescriptor.order(bw) != order) {
                break;
            }
            int buddyMt = mt;
            if (order >= PAGEBLOCK_ORDER) {
                buddyMt = pageblockMt(buddy);
                if (mt != buddyMt && (!mergeable(mt) || !mergeable(buddyMt))) {
                    break;
                }
            }
            area.del(buddy, order, PageTableDescriptor.listMt(bw));
            if (buddyMt != mt) {
                setPageblockMt(buddy, mt);
            }
            pfn &= buddy;
            order++;
        }
        area.add(pfn, order, mt);
    }

    /** {@code migratetype_is_mergeable()}: the three pcp types. */
    static boolean mergeable(int mt) {
        return mt < MigrateType.PCPTYPES;
    }

    // ------------------------------------------------------------------ highatomic reserve

    /** Upper bound of the highatomic reserve: 1% of the zone rounded up to a pageblock. */
    long maxHighatomic() {
        long v = pages / 100;
        return (v + PAGEBLOCK_PAGES - 1) & ~(long) (PAGEBLOCK_PAGES - 1);
    }

    /**
     * {@code reserve_highatomic_pageblock()}: after a successful high-order atomic allocation,
     * turns its pageblock into a HIGHATOMIC reserve, up to ~1% of the zone. Takes the lock.
     */
    void reserveHighatomic(int pfn, int order) {
        long max = maxHighatomic();
        if (nrReservedHighatomic >= max) { // unlocked pre-check, as the kernel does
            return;
        }
        lock.lock();
        try {
            if (nrReservedHighatomic >= max) {
                return;
            }
            int mt = pageblockMt(pfn);
            if (!mergeable(mt)) {
                return;
            }
            if (order < PAGEBLOCK_ORDER) {
                moveFreepagesBlock(pfn & ~(PAGEBLOCK_PAGES - 1), mt, HIGHATOMIC);
                nrReservedHighatomic += PAGEBLOCK_PAGES;
            } else {
                changePageblockRange(pfn, order, HIGHATOMIC);
                nrReservedHighatomic += 1L << order;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * One zone's part of {@code unreserve_highatomic_pageblock()}: gives the first highatomic
     * free block found back to {@code targetMt}. Unless {@code force}, one pageblock is kept.
     * Returns the pages moved (0: nothing released). Takes the lock.
     */
    int unreserveHighatomic(boolean force, int targetMt) {
        if (!force && nrReservedHighatomic <= PAGEBLOCK_PAGES) {
            return 0;
        }
        lock.lock();
        try {
            for (int order = 0; order <= Gfp.MAX_PAGE_ORDER; order++) {
                int pfn = area.first(order, HIGHATOMIC);
                if (pfn == NIL) {
                    continue;
                }
                long size = Math.max(PAGEBLOCK_PAGES, 1L << order);
                size = Math.min(size, nrReservedHighatomic);
                nrReservedHighatomic -= size;
                int moved;
                if (order < PAGEBLOCK_ORDER) {
                    moved = moveFreepagesBlock(pfn & ~(PAGEBLOCK_PAGES - 1), HIGHATOMIC, targetMt);
                } else {
                    area.del(pfn, order, HIGHATOMIC);
                    area.add(pfn, order, targetMt);
                    accountMove(1L << order, HIGHATOMIC, 1L << order, targetMt);
                    changePageblockRange(pfn, order, targetMt);
                    moved = 1 << order;
                }
                if (moved > 0) {
                    return moved;
                }
            }
            return 0;
        } finally {
            lock.unlock();
        }
    }

    /** The free-block test of {@code __zone_watermark_ok()}: a block of order ≥ {@code order} on a pcp-type list (or HIGHATOMIC). */
    @Override
    public boolean hasFreeBlock(int order, boolean mayUseHighatomic) {
        for (int o = order; o <= Gfp.MAX_PAGE_ORDER; o++) {
            for (int mt = 0; mt < MigrateType.PCPTYPES; mt++) {
                if (area.count(o, mt) > 0) {
                    return true;
                }
            }
            if (mayUseHighatomic && area.count(o, MigrateType.HIGHATOMIC.ordinal()) > 0) {
                return true;
            }
        }
        return false;
    }
}
