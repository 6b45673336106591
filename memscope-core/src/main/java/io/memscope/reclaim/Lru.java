package io.memscope.reclaim;

import static io.memscope.page.PageTableDescriptor.FLAG_ACTIVE;
import static io.memscope.page.PageTableDescriptor.FLAG_DIRTY;
import static io.memscope.page.PageTableDescriptor.FLAG_LOCKED;
import static io.memscope.page.PageTableDescriptor.FLAG_LRU;
import static io.memscope.page.PageTableDescriptor.FLAG_RECLAIM;
import static io.memscope.page.PageTableDescriptor.FLAG_REFERENCED;
import static io.memscope.page.PageTableDescriptor.FLAG_UNEVICTABLE;
import static io.memscope.page.PageTableDescriptor.NIL;

import io.memscope.gfp.ZoneType;
import io.memscope.page.PageAllocator;
import io.memscope.page.PageHandle;
import io.memscope.page.PageTable;
import io.memscope.stat.VmItem;
import io.memscope.stat.VmStat;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One node's file LRU: the {@code lruvec} of {@code include/linux/mmzone.h} with its
 * {@code lru_lock}, and the list operations of {@code mm/swap.c} and {@code include/linux/mm_inline.h}
 * ({@code folio_add_lru}, {@code folio_mark_accessed}, {@code lruvec_del_folio},
 * {@code folio_rotate_reclaimable}, {@code folio_put}) plus the isolation and putback that
 * {@code mm/vmscan.c} uses ({@code isolate_lru_folios}, {@code move_folios_to_lru}).
 *
 * <p><b>File pages only.</b> memscope has no swap, so there are no anonymous LRU lists: every page
 * on an {@code Lru} is a page-cache page (order 0). The two lists are {@code LRU_INACTIVE_FILE}
 * and {@code LRU_ACTIVE_FILE}; there is no unevictable list and no multi-generational LRU.
 *
 * <p><b>Layout.</b> The lists are threaded through the page table's LRU link words
 * ({@link PageTable#lruNext}/{@link PageTable#lruPrev}), so an LRU costs no Java object per page.
 * The head is the most recently added page, the tail the oldest; reclaim scans from the tail.
 * Counts are kept per zone ({@code NR_ZONE_INACTIVE_FILE}...) so that
 * {@code zone_reclaimable_pages()} and the reclaim zone index ({@code sc->reclaim_idx}) work.
 *
 * <p><b>Invariants</b> (checked by {@link #validate()}):
 * <ul>
 *   <li>{@code PG_lru} is set exactly on the pages linked on one of the two lists, and only
 *       changes under the lock;</li>
 *   <li>a page is on the active list iff it has {@code PG_active};</li>
 *   <li>the per-zone counts equal the list lengths.</li>
 * </ul>
 *
 * <p><b>References.</b> A page-cache page holds one reference (the page cache's) while it is in
 * a mapping. Reclaim takes one more while it has the page isolated ({@code folio_try_get} under the
 * lock, so a page whose count already fell to 0 is never isolated). Whoever drops the last
 * reference frees the page with {@link #put(int)}, which also takes the page off the list if it is
 * still there — this is how a page truncated while reclaim held it isolated gets freed by reclaim.
 *
 * <p><b>Thread-safety.</b> All methods may be called from any thread; list changes happen under
 * {@code lru_lock}, which is a leaf lock: nothing allocates or sleeps while holding it.
 */
public final class Lru {
    /** Index of the inactive file list ({@code LRU_INACTIVE_FILE}). */
    static final int INACTIVE = 0;
    /** Index of the active file list ({@code LRU_ACTIVE_FILE}). */
    static final int ACTIVE = 1;

    private final int nid;
    private final PageAllocator allocator;
    private final PageTable pt;
    private final VmStat vmstat;
    /** {@code lruvec->lru_lock}. */
    private final ReentrantLock lock = new ReentrantLock();
    private final int[] head = {NIL, NIL};
    private final int[] tail = {NIL, NIL};
    /**
     * {@code [lru][zoneIdx]} page counts. Written only under the lock; read lock-free by
     * {@link #nrActiveFile()} and friends as racy snapshots (like {@code lruvec_page_state}),
     * which is all the callers (scan-count arithmetic, {@code zone_reclaimable_pages}) need.
     */
    private final long[][] count = new long[2][ZoneType.COUNT];
    /** {@code NR_ISOLATED_FILE}: pages reclaim holds off the lists right now (under the lock). */
    private long isolated;
    /** pgactivate/pgdeactivate/pgrotated counted here, under the lock (summed into vmstat on read). */
    private long pgactivate;
    private long pgrotated;
    /** Pages skipped per zone during one isolation (under the lock; avoids an array per call). */
    private final long[] skipBuf = new long[ZoneType.COUNT];

    /**
     * Creates node {@code nid}'s LRU over the allocator's page table, and registers its counts
     * ({@code nr_inactive_file}, {@code nr_active_file}, {@code nr_isolated_file},
     * {@code pgactivate}, {@code pgrotated}) as a vmstat source.
     */
    public Lru(int nid, PageAllocator allocator, VmStat vmstat) {
        if (nid < 0 || nid >= allocator.nodes()) {
            throw new IllegalArgumentException("node must be in 0.." + (allocator.nodes() - 1) + ", was " + nid);
        }
        this.nid = nid;
        this.allocator = allocator;
        this.pt = allocator.pageTable();
        this.vmstat = vmstat;
        vmstat.addSource(this::addCounters);
    }

    /** The node id. */
    public int nid() {
        return nid;
    }

    /** {@code lruvec_page_state(NR_ACTIVE_FILE)}: a racy snapshot. */
    public long nrActiveFile() {
        return sum(ACTIVE);
    }

    /** {@code lruvec_page_state(NR_INACTIVE_FILE)}: a racy snapshot. */
    public long nrInactiveFile() {
        return sum(INACTIVE);
    }

    /** {@code NR_ISOLATED_FILE}: pages isolated by reclaim right now (racy snapshot). */
    public long nrIsolatedFile() {
        lock.lock();
        try {
            return isolated;
        } finally {
            lock.unlock();
        }
    }

    /** Pages of zone {@code zoneIdx} on list {@code lru} (racy snapshot). */
    long zoneCount(int lru, int zoneIdx) {
        return count[lru][zoneIdx];
    }

    /** Pages on list {@code lru} in zones {@code 0..reclaimIdx} ({@code lruvec_lru_size} up to a zone). */
    long size(int lru, int reclaimIdx) {
        long n = 0;
        for (int z = 0; z <= reclaimIdx; z++) {
            n += count[lru][z];
        }
        return n;
    }

    private long sum(int lru) {
        return size(lru, ZoneType.COUNT - 1);
    }

    // ====================================================================== page-cache side

    /**
     * {@code folio_add_lru()}: puts a page the caller owns (an allocated order-0 page of this node,
     * holding the caller's reference) on the LRU and sets {@code PG_lru}. New pages go to the
     * inactive list; a page the caller already marked {@code PG_active} (e.g. a refault of the
     * working set) goes to the active list. Never sleeps.
     *
     * @throws LruMisuseException if the page is on an LRU already, has no reference, or belongs to
     *                            another node
     */
    public void add(int pfn) {
        checkNode(pfn, "folio_add_lru");
        if (pt.refcount(pfn) <= 0) {
            throw new LruMisuseException("folio_add_lru: expected a page holding a reference, found refcount "
                    + pt.refcount(pfn) + " on pfn 0x" + Integer.toHexString(pfn));
        }
        lock.lock();
        try {
            if (pt.testPageFlag(pfn, FLAG_LRU)) {
                throw new LruMisuseException("folio_add_lru: expected a page off the LRU, found PG_lru set on pfn 0x"
                        + Integer.toHexString(pfn) + " (" + pt.flagNames(pfn) + ")");
            }
            linkHead(pfn, pt.testPageFlag(pfn, FLAG_ACTIVE) ? ACTIVE : INACTIVE);
            pt.setPageFlagAtomic(pfn, FLAG_LRU);
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code folio_mark_accessed()}: the first access of an inactive page sets
     * {@code PG_referenced}; a second access activates it (moves it to the active list, counted
     * {@code pgactivate}) and clears {@code PG_referenced}. A page reclaim holds isolated is not
     * moved (reclaim decides where it goes back). Never sleeps.
     */
    public void markAccessed(int pfn) {
        if (!pt.testAndSetPageFlag(pfn, FLAG_REFERENCED)) {
            return; // first touch: PG_referenced alone
        }
        if (pt.testPageFlag(pfn, FLAG_ACTIVE) || pt.testPageFlag(pfn, FLAG_UNEVICTABLE)) {
            return;
        }
        lock.lock();
        try {
            // folio_activate(): only a page that is on the inactive list right now moves; PG_lru is
            // stable under the lock, so the test and the move cannot race with isolation.
            if (pt.testPageFlag(pfn, FLAG_LRU) && !pt.testPageFlag(pfn, FLAG_ACTIVE)) {
                unlink(pfn, INACTIVE);
                pt.setPageFlagAtomic(pfn, FLAG_ACTIVE);
                linkHead(pfn, ACTIVE);
                pgactivate++;
            }
        } finally {
            lock.unlock();
        }
        pt.testAndClearPageFlag(pfn, FLAG_REFERENCED);
    }

    /**
     * {@code lruvec_del_folio()} for a page the page cache is truncating: takes the page off its
     * list and clears {@code PG_lru} and {@code PG_active}. Returns false when the page is not on a
     * list — reclaim has it isolated right now (or it was never added): the caller then drops its
     * reference with {@link #put(int)} and lets reclaim finish with the page (reclaim's
     * {@code removeMapping} fails on a truncated page and reclaim frees it when it drops the last
     * reference). Never sleeps.
     */
    public boolean remove(int pfn) {
        checkNode(pfn, "lruvec_del_folio");
        lock.lock();
        try {
            if (!pt.testPageFlag(pfn, FLAG_LRU)) {
                return false;
            }
            unlink(pfn, pt.testPageFlag(pfn, FLAG_ACTIVE) ? ACTIVE : INACTIVE);
            pt.testAndClearPageFlag(pfn, FLAG_LRU | FLAG_ACTIVE);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The reclaim half of {@code folio_end_writeback()}: if the page has {@code PG_reclaim} (reclaim
     * met it under writeback and wants it freed soon), clears the flag and
     * {@code folio_rotate_reclaimable()}: moves the page to the <em>tail</em> of the inactive list,
     * clearing {@code PG_active}, so the next reclaim pass frees it first (counted
     * {@code pgrotated}). Nothing moves if the page is locked, dirty again, unevictable or not on a
     * list. The page cache calls this when writeback of the page completes, before it clears
     * {@code PG_writeback}. Never sleeps.
     *
     * @return true when the page was rotated
     */
    public boolean rotateReclaimable(int pfn) {
        if (!pt.testAndClearPageFlag(pfn, FLAG_RECLAIM)) {
            return false;
        }
        int f = pt.pageFlagsAcquire(pfn);
        if ((f & (FLAG_LOCKED | FLAG_DIRTY | FLAG_UNEVICTABLE)) != 0 || (f & FLAG_LRU) == 0) {
            return false;
        }
        lock.lock();
        try {
            if (!pt.testPageFlag(pfn, FLAG_LRU)) {
                return false; // isolated meanwhile: reclaim sees PG_writeback or a clean page itself
            }
            unlink(pfn, pt.testPageFlag(pfn, FLAG_ACTIVE) ? ACTIVE : INACTIVE);
            pt.testAndClearPageFlag(pfn, FLAG_ACTIVE);
            linkTail(pfn, INACTIVE);
            pgrotated++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code folio_put()}: drops one reference; the last one frees the page, after taking it off
     * its LRU list if it is still on one ({@code __page_cache_release}). Returns true when this
     * call freed the page. Never sleeps. The caller must not touch the page afterwards.
     *
     * @throws LruMisuseException if the page had no reference to drop
     */
    public boolean put(int pfn) {
        int left = pt.refcountAddAndGet(pfn, -1);
        if (left > 0) {
            return false;
        }
        if (left < 0) {
            pt.refcountAddAndGet(pfn, 1);
            throw new LruMisuseException("folio_put: expected a page with a reference, found refcount 0 on pfn 0x"
                    + Integer.toHexString(pfn));
        }
        // The count is 0: isolation's folio_try_get fails from now on, so PG_lru can only be
        // cleared by us (the fully ordered decrement orders this read after every earlier
        // putback that set PG_lru before dropping its reference).
        if (pt.testPageFlag(pfn, FLAG_LRU)) {
            lock.lock();
            try {
                unlink(pfn, pt.testPageFlag(pfn, FLAG_ACTIVE) ? ACTIVE : INACTIVE);
                pt.testAndClearPageFlag(pfn, FLAG_LRU | FLAG_ACTIVE | FLAG_UNEVICTABLE); // __folio_clear_lru_flags
            } finally {
                lock.unlock();
            }
        }
        freePage(pfn);
        return true;
    }

    // ====================================================================== vmscan side

    /**
     * {@code isolate_lru_folios()}: takes up to {@code nrToScan} pages from the tail of list
     * {@code lru}, skipping (and counting {@code pgskip_<zone>}) pages in zones above
     * {@code reclaimIdx}. Each isolated page gets a reference and loses {@code PG_lru}; a page
     * whose count already fell to 0 (being freed) is moved to the head and left alone.
     *
     * @param out receives the isolated pfns, oldest first; at least {@code nrToScan} long
     * @return {@code (nrScanned << 32) | nrTaken}
     */
    long isolate(int lru, int nrToScan, int reclaimIdx, int[] out) {
        int taken = 0;
        int scanned = 0;
        boolean skipped = false;
        lock.lock();
        try {
            int pfn = tail[lru];
            int budget = Math.max(nrToScan, 0) * 4 + 32; // bounds the walk over skipped pages
            while (pfn != NIL && taken < nrToScan && budget-- > 0) {
                int prev = pt.lruPrev(pfn);
                if (allocator.zoneOf(pfn).type().ordinal() > reclaimIdx) {
                    skipBuf[allocator.zoneOf(pfn).type().ordinal()]++;
                    skipped = true;
                    pfn = prev;
                    continue;
                }
                scanned++;
                if (!pt.refcountTryGet(pfn)) {
                    unlink(pfn, lru); // being freed by its last put(), which waits for our lock
                    linkHead(pfn, lru);
                } else {
                    unlink(pfn, lru);
                    pt.testAndClearPageFlag(pfn, FLAG_LRU);
                    out[taken++] = pfn;
                    isolated++;
                }
                pfn = prev;
            }
            if (skipped) {
                for (int z = 0; z < ZoneType.COUNT; z++) {
                    if (skipBuf[z] != 0) {
                        vmstat.count(VmItem.pgskip(z), skipBuf[z]);
                        skipBuf[z] = 0;
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        return ((long) scanned << 32) | taken;
    }

    /**
     * {@code move_folios_to_lru()} for one isolated page: puts it back on the list its
     * {@code PG_active} names (head), sets {@code PG_lru}, and drops reclaim's reference — freeing
     * the page if that was the last one (the page cache truncated it meanwhile). The page goes back
     * before the reference is dropped, both under the lock, so a concurrent {@link #remove} or
     * {@link #put} always finds it in a consistent state.
     *
     * @return true when the page was freed
     */
    boolean putback(int pfn) {
        boolean free = false;
        lock.lock();
        try {
            isolated--;
            int lru = pt.testPageFlag(pfn, FLAG_ACTIVE) ? ACTIVE : INACTIVE;
            linkHead(pfn, lru);
            pt.setPageFlagAtomic(pfn, FLAG_LRU);
            if (pt.refcountAddAndGet(pfn, -1) == 0) {
                unlink(pfn, lru);
                pt.testAndClearPageFlag(pfn, FLAG_LRU | FLAG_ACTIVE | FLAG_UNEVICTABLE); // __folio_clear_lru_flags
                free = true;
            }
        } finally {
            lock.unlock();
        }
        if (free) {
            freePage(pfn);
        }
        return free;
    }

    /**
     * Frees an isolated page whose references reclaim has frozen to 0 ({@code __remove_mapping}
     * succeeded): the end of {@code shrink_folio_list} for a reclaimed page.
     */
    void freeIsolated(int pfn) {
        lock.lock();
        try {
            isolated--;
        } finally {
            lock.unlock();
        }
        pt.testAndClearPageFlag(pfn, FLAG_ACTIVE | FLAG_REFERENCED | FLAG_RECLAIM | FLAG_LOCKED);
        freePage(pfn);
    }

    /** Adds {@code n} to pgactivate (pages vmscan activated on putback). */
    void countActivate(long n) {
        lock.lock();
        try {
            pgactivate += n;
        } finally {
            lock.unlock();
        }
    }

    // ====================================================================== internals

    private void freePage(int pfn) {
        allocator.freeFrozenPages(PageHandle.of(pfn, 0, pt.generation(pfn)), 0); // the count is already 0
    }

    private void checkNode(int pfn, String op) {
        if (pfn < 0 || pfn >= allocator.totalPages()) {
            throw new LruMisuseException(op + ": expected a pfn in 0x0..0x" + Integer.toHexString(allocator.totalPages() - 1)
                    + ", found 0x" + Integer.toHexString(pfn));
        }
        int n = allocator.zoneOf(pfn).nid();
        if (n != nid) {
            throw new LruMisuseException(op + ": expected a page of node " + nid + ", found pfn 0x"
                    + Integer.toHexString(pfn) + " of node " + n);
        }
    }

    /** Links {@code pfn} at the head of {@code lru}. Caller holds the lock. */
    private void linkHead(int pfn, int lru) {
        int h = head[lru];
        pt.setLruPrev(pfn, NIL);
        pt.setLruNext(pfn, h);
        if (h == NIL) {
            tail[lru] = pfn;
        } else {
            pt.setLruPrev(h, pfn);
        }
        head[lru] = pfn;
        count[lru][allocator.zoneOf(pfn).type().ordinal()]++;
    }

    /** Links {@code pfn} at the tail of {@code lru}. Caller holds the lock. */
    private void linkTail(int pfn, int lru) {
        int t = tail[lru];
        pt.setLruNext(pfn, NIL);
        pt.setLruPrev(pfn, t);
        if (t == NIL) {
            head[lru] = pfn;
        } else {
            pt.setLruNext(t, pfn);
        }
        tail[lru] = pfn;
        count[lru][allocator.zoneOf(pfn).type().ordinal()]++;
    }

    /** Unlinks {@code pfn} from {@code lru}. Caller holds the lock. */
    private void unlink(int pfn, int lru) {
        int p = pt.lruPrev(pfn);
        int n = pt.lruNext(pfn);
        if (p == NIL) {
            head[lru] = n;
        } else {
            pt.setLruNext(p, n);
        }
        if (n == NIL) {
            tail[lru] = p;
        } else {
            pt.setLruPrev(n, p);
        }
        pt.setLruNext(pfn, NIL);
        pt.setLruPrev(pfn, NIL);
        count[lru][allocator.zoneOf(pfn).type().ordinal()]--;
    }

    /** The pfns of list {@code lru}, head (newest) first — for tests and dumps. */
    int[] snapshot(int lru) {
        lock.lock();
        try {
            int n = (int) sum(lru);
            int[] r = new int[n];
            int i = 0;
            for (int pfn = head[lru]; pfn != NIL && i < n; pfn = pt.lruNext(pfn)) {
                r[i++] = pfn;
            }
            return r;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Checks the invariants: every linked page has PG_lru and the list's PG_active, links are
     * symmetric, counts equal the lengths. Returns the number of violations found.
     */
    public int validate() {
        lock.lock();
        try {
            int errors = 0;
            for (int lru = INACTIVE; lru <= ACTIVE; lru++) {
                long[] seen = new long[ZoneType.COUNT];
                int prev = NIL;
                long limit = sum(lru) + 1;
                for (int pfn = head[lru]; pfn != NIL; pfn = pt.lruNext(pfn)) {
                    if (limit-- <= 0) {
                        return errors + 1; // a cycle or a count that is too small
                    }
                    if (!pt.testPageFlag(pfn, FLAG_LRU) || pt.testPageFlag(pfn, FLAG_ACTIVE) != (lru == ACTIVE)
                            || pt.lruPrev(pfn) != prev) {
                        errors++;
                    }
                    seen[allocator.zoneOf(pfn).type().ordinal()]++;
                    prev = pfn;
                }
                if (tail[lru] != prev) {
                    errors++;
                }
                for (int z = 0; z < ZoneType.COUNT; z++) {
                    if (seen[z] != count[lru][z]) {
                        errors++;
                    }
                }
            }
            return errors;
        } finally {
            lock.unlock();
        }
    }

    private void addCounters(long[] v) {
        v[VmItem.NR_INACTIVE_FILE.ordinal()] += sum(INACTIVE);
        v[VmItem.NR_ACTIVE_FILE.ordinal()] += sum(ACTIVE);
        v[VmItem.NR_ISOLATED_FILE.ordinal()] += isolated;
        v[VmItem.PGACTIVATE.ordinal()] += pgactivate;
        v[VmItem.PGROTATED.ordinal()] += pgrotated;
    }
}
