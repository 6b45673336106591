package io.memscope.page;

import static io.memscope.page.PageTableDescriptor.ORDER_MASK;
import static io.memscope.page.PageTableDescriptor.ORDER_SHIFT;
import static io.memscope.page.PageTableDescriptor.STATE_ALLOC;
import static io.memscope.page.PageTableDescriptor.STATE_MASK;
import static io.memscope.page.PageTableDescriptor.STATE_SHIFT;

import io.memscope.gfp.MigrateType;
import io.memscope.sched.Task;

/**
 * The free path of {@code mm/page_alloc.c}: {@code __free_pages} → {@code free_frozen_pages} →
 * the per-CPU list ({@code free_frozen_page_commit}) or, for orders the pcp does not hold or when
 * the slot is busy, the buddy ({@code free_one_page} → {@code __free_one_page}, merging in
 * {@link Zone#freeOneBlock}).
 *
 * <p>Why a class of its own: a free is where misuse is caught — double frees, frees of pages that
 * were never allocated, of a tail page, with the wrong order, through a stale handle, or of a pfn
 * outside the machine — and every one of them must be detected <em>before</em> the books change.
 * Keeping the check ({@link #checkFree}) and the return of the block ({@link #releaseBlock})
 * together makes that order visible; the allocation side lives in {@link PageAllocator}.
 *
 * <p>A free never sleeps. It allocates no Java object on the per-CPU path.
 */
final class FreePath {
    private final PageAllocator a;
    private final PageTable pt;
    private final int pages;
    private final CpuSlots slots;
    private final boolean preemptRt;
    /** No PREEMPT_RT rule and no debug checks: {@link #freePages} may take its one-look path. */
    private final boolean fastFree;

    FreePath(PageAllocator a, CpuSlots slots) {
        this.a = a;
        this.pt = a.pt;
        this.pages = a.pages;
        this.slots = slots;
        this.preemptRt = a.cfg.preemptRt();
        this.fastFree = !preemptRt && !a.cfg.debug(); // a.debug is built after this path
    }

    /**
     * {@code __free_pages(page, order)} → {@code ___free_pages()}; see
     * {@link PageAllocator#freePages(long, int)} for the contract. The caller's reference goes
     * ({@code put_page_testzero}); the block is freed only when it was the last one. When someone
     * else still holds a reference, a compound block waits whole for their {@link #putPage}; a
     * non-compound block of order {@code k > 0} keeps only its first page (as an order-0 page, for
     * the other holder) and frees the rest at once as blocks of order {@code k-1 .. 0}, as the
     * kernel does.
     */
    void freePages(long handle, int order) {
        int pfn = PageHandle.pfn(handle);
        // The common case — a live block with the caller's reference only, clean, no debug, no
        // PREEMPT_RT rule to apply — is one look at the record (the checks of checkFree and
        // free_pages_prepare together) and small enough to inline whole into the caller.
        if (fastFree && Integer.compareUnsigned(pfn, pages) < 0
                && pt.freeFastPathOk(pfn, order, PageHandle.generation(handle), BadPage.CHECK_AT_FREE)) {
            releaseBlock(pfn, order, true);
            return;
        }
        freePagesSlow(handle, order);
    }

    /**
     * The whole of {@link #freePages}: misuse checks with named errors, the PREEMPT_RT rule, then
     * {@code put_page_testzero()}.
     *
     * <p>When the caller's reference is the only one, the block comes back with plain stores: no
     * atomic is needed because no one can be adding a reference at the same time. The kernel needs
     * its atomic decrement for speculative references (GUP-fast, RCU page-cache lookups) that may
     * land on any page; memscope takes speculative references only under the page-cache index lock
     * and, in LRU isolation, on pages with PG_lru set, which are never freed here (PG_lru at the
     * last free is a bad page). Any other second holder took its reference with getPage while
     * holding one, so its increment happened before the owner's free and the owner reads 2 here.
     * A count read as other than 1 takes the fully ordered decrement.
     */
    private void freePagesSlow(long handle, int order) {
        int pfn = checkFree(handle, order);
        if (preemptRt && !a.mightAlloc.checkFree(Task.current())) {
            return; // refused and reported; the caller still owns the block
        }
        if (pt.refcount(pfn) == 1) {
            freeFrozen(pfn, order, "__free_pages", 1, 1);
            return;
        }
        if (order > 0 && pt.refcount(pfn) > 1 && (pt.flagsWord(pfn) & PageTableDescriptor.FLAG_HEAD) == 0) {
            freeShared(pfn, order);
            return;
        }
        int left = pt.refcountAddAndGet(pfn, -1);
        if (left == 0) {
            freeFrozen(pfn, order, "__free_pages", 0, 1);
        } else if (left < 0) {
            pt.refcountAddAndGet(pfn, 1); // it was frozen at 0: not ours to free
            a.badPage.fail(pfn, "__free_pages", "nonzero _refcount");
        }
        // left > 0: another holder frees it with its last put_page
    }

    /**
     * The {@code !head} branch of {@code ___free_pages()} for a non-compound block of order
     * {@code order > 0} that someone else holds a reference to: the first page stays allocated for
     * the other holder, as an order-0 page; the pages after it go back as blocks of order
     * {@code order-1} down to 0.
     *
     * <p>Ordering: the head is made order 0 <em>before</em> the caller's reference goes. The other
     * holder's {@link #putPage} frees the head at the order it reads from the record, and that put
     * is the last only if it comes after our decrement in the count's total order, so it reads
     * order 0. Retyping after the decrement (the kernel's order of steps, safe there because a
     * non-compound page carries no order) would let a put that lands between the two free the whole
     * block while we free its tail pages: a double free. If the other holder dropped its
     * reference first, our decrement is the last and we free the head ourselves.
     */
    private void freeShared(int pfn, int order) {
        // The pages after the first are ours alone: check them all before anything changes, so a
        // bad one leaves the block as it was (the caller keeps its reference and its order).
        for (int o = order - 1; o >= 0; o--) {
            int piece = pfn + (1 << o);
            String reason = BadPage.reasonAtFree(pt, piece);
            if (reason != null) {
                a.badPage.fail(piece, "__free_pages", reason);
            }
        }
        int mt = pt.listMt(pfn);
        // The other holder may lock the head page meanwhile (a CAS on the same word): retype with a
        // CAS too, so its PG_locked is neither lost nor brought back.
        pt.setBlockAtomic(pfn, STATE_ALLOC, 0, mt);
        int left = pt.refcountAddAndGet(pfn, -1); // fully ordered: publishes the retyped head
        for (int o = order - 1; o >= 0; o--) {
            int piece = pfn + (1 << o);
            pt.setBlock(piece, STATE_ALLOC, o, mt);
            freeFrozen(piece, o, "__free_pages", 0, 0);
        }
        if (left == 0) {
            // The other holder dropped its reference between our look and our decrement. A bad head
            // now throws with the caller's reference back on what is an order-0 page by this point.
            freeFrozen(pfn, 0, "__free_pages (the shared block's first page, now order 0)", 0, 1);
        }
    }

    /**
     * {@code free_frozen_pages()} for a block whose count its last holder took to 0: the page-cache
     * path ({@code folio_put}'s last reference, a frozen count after {@code __remove_mapping}).
     */
    void freeFrozenPages(long handle, int order) {
        int pfn = checkFree(handle, order);
        if (preemptRt && !a.mightAlloc.checkFree(Task.current())) {
            return;
        }
        freeFrozen(pfn, order, "free_frozen_pages", 0, 0);
    }

    /**
     * {@code get_page()}: one more reference on a live block, for a holder who will drop it with
     * {@link #putPage}. Only a holder of a reference may take another, so the count is at least 1.
     */
    void getPage(long handle) {
        int pfn = checkLive(handle, "get_page");
        if (!pt.refcountTryGet(pfn)) {
            a.badPage.fail(pfn, "get_page", "nonzero _refcount"); // frozen: the owner is freeing it
        }
    }

    /**
     * {@code put_page()}: drops one reference; the last frees the block at the order its head has now
     * (a shared non-compound block was reduced to its first page by {@link #freePages}).
     */
    void putPage(long handle) {
        int pfn = checkLive(handle, "put_page");
        int left = pt.refcountAddAndGet(pfn, -1);
        if (left == 0) {
            freeFrozen(pfn, pt.order(pfn), "put_page", 0, 1);
        } else if (left < 0) {
            pt.refcountAddAndGet(pfn, 1);
            a.badPage.fail(pfn, "put_page", "nonzero _refcount");
        }
    }

    /** A live block's head for {@code op}: allocated, and of the handle's generation. */
    private int checkLive(long handle, String op) {
        int pfn = PageHandle.pfn(handle);
        if (Integer.compareUnsigned(pfn, pages) >= 0 || pt.state(pfn) != STATE_ALLOC
                || pt.gen(pfn) != PageHandle.generation(handle)) {
            a.reports.staleHandle(handle);
        }
        return pfn;
    }

    /**
     * {@code free_frozen_pages()} after {@code free_pages_prepare()}'s check. {@code held} is the count
     * the record still shows for the caller (1 on {@link #freePages}' unshared path, which skips
     * the decrement, else 0). A bad page is reported with the count the kernel would show (0) and
     * then given back to the caller ({@code restore} added) before the named error; a clean one
     * goes to the quarantine (debug) or back to a list.
     */
    private void freeFrozen(int pfn, int order, String op, int held, int restore) {
        if (((pt.flagsWord(pfn) & BadPage.CHECK_AT_FREE) | pt.mapping(pfn) | (pt.refcount(pfn) - held)) != 0) {
            if (held != 0) {
                pt.refcountAddAndGet(pfn, -held); // as put_page_testzero() would have left it
            }
            a.badPage.fail(pfn, op, BadPage.reasonAtFree(pt, pfn), restore);
        }
        PageDebug debug = a.debug;
        if (debug != null) {
            pt.setRefcount(pfn, 0); // a quarantined block shows the count of a freed one
            if (debug.onFree(pfn, order)) {
                return; // held in quarantine
            }
        }
        releaseBlock(pfn, order, true);
    }

    /** Validates a free and returns the pfn; throws the named misuse exception otherwise. */
    int checkFree(long handle, int order) {
        int pfn = PageHandle.pfn(handle);
        if (Integer.compareUnsigned(pfn, pages) >= 0) { // pfn < 0 || pfn >= pages
            throw new ForeignPageFreeException("__free_pages: expected a pfn in 0x0..0x" + Integer.toHexString(pages - 1)
                    + ", found " + PageHandle.toString(handle));
        }
        int w = pt.flagsWord(pfn);
        int want = (STATE_ALLOC << STATE_SHIFT) | (order << ORDER_SHIFT);
        if ((w & (STATE_MASK | ORDER_MASK)) != want || pt.gen(pfn) != PageHandle.generation(handle)) {
            a.reports.badFree(handle, order); // always throws
        }
        return pfn;
    }

    /** Returns a checked block to the pcp list or the buddy ({@code free_frozen_pages}). Used by quarantine too. */
    void releaseBlock(int pfn, int order, boolean bumpGen) {
        if ((pt.releaseRecord(pfn, bumpGen) & PageTableDescriptor.FLAG_HEAD) != 0) {
            for (int i = 1; i < (1 << order); i++) {
                pt.clearPageFlags(pfn + i, PageTableDescriptor.FLAG_TAIL);
            }
        }
        Zone zone = a.zoneOf(pfn);
        if (PerCpuPages.allowedOrder(order)) {
            int mt = zone.pageblockMt(pfn);
            if (mt > MigrateType.RECLAIMABLE.ordinal()) {
                mt = MigrateType.MOVABLE.ordinal(); // highatomic pages go to the movable pcp list
            }
            PerCpuPages pcp = slots.lockSlot(zone, Task.current());
            if (pcp != null) {
                try {
                    pcp.free(pfn, order, mt);
                } finally {
                    pcp.unlock();
                }
                return;
            }
        }
        zone.lock.lock(); // free_one_page
        try {
            pt.setFlagsWord(pfn, 0); // page flags and block fields cleared; freeOneBlock sets the buddy state
            zone.freeOneBlock(pfn, order, zone.pageblockMt(pfn));
            zone.buddyPgfree += 1L << order;
        } finally {
            zone.lock.unlock();
        }
    }
}
