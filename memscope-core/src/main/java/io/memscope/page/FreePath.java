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

    FreePath(PageAllocator a, CpuSlots slots) {
        this.a = a;
        this.pt = a.pt;
        this.pages = a.pages;
        this.slots = slots;
        this.preemptRt = a.cfg.preemptRt();
    }

    /** {@code __free_pages(page, order)}; see {@link PageAllocator#freePages(long, int)} for the contract. */
    void freePages(long handle, int order) {
        int pfn = checkFree(handle, order);
        if (preemptRt && !a.mightAlloc.checkFree(Task.current())) {
            return; // refused and reported; the caller still owns the block
        }
        PageDebug debug = a.debug;
        if (debug != null && debug.onFree(pfn, order)) {
            return; // held in quarantine
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
