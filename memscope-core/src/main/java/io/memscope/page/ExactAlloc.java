package io.memscope.page;

import static io.memscope.page.PageTableDescriptor.STATE_ALLOC;

import io.memscope.gfp.Gfp;

/**
 * {@code alloc_pages_exact()} and {@code free_pages_exact()}: allocations of an exact number of
 * pages, made as one power-of-two block that is split into order-0 pages ({@code split_page})
 * with the unused tail freed at once, and freed page by page.
 *
 * <p>Why a class of its own: it is a client of the allocator's entry points, not part of its
 * paths — it allocates and frees through {@link PageAllocator} like any caller, and only
 * {@code split_page} reaches into the page table. Keeping it apart keeps the allocator's own
 * files about the buddy and per-CPU machinery.
 */
final class ExactAlloc {
    private final PageAllocator a;
    private final FreePath free;

    ExactAlloc(PageAllocator a, FreePath free) {
        this.a = a;
        this.free = free;
    }

    /** See {@link PageAllocator#allocPagesExact}. */
    long allocPagesExact(long size, int gfp) {
        if (size <= 0) {
            throw new IllegalArgumentException("size must be > 0, found " + size);
        }
        int order = PageAllocator.getOrder(size);
        if ((gfp & Gfp.COMP) != 0) {
            a.log.warnOnce("alloc_pages_exact:comp", "WARNING: alloc_pages_exact called with __GFP_COMP: mode:"
                    + AllocReports.gfpReport(gfp));
            gfp &= ~Gfp.COMP;
        }
        long h = a.allocPages(gfp, order);
        if (h == PageHandle.NULL || order == 0) {
            return h;
        }
        PageTable pt = a.pt;
        int pfn = PageHandle.pfn(h);
        int used = pagesFor(size);
        int mt = pt.listMt(pfn);
        for (int i = 0; i < (1 << order); i++) { // split_page: every page becomes an order-0 allocation
            pt.setBlock(pfn + i, STATE_ALLOC, 0, mt);
            pt.setRefcount(pfn + i, 1);
        }
        if (a.debug != null) {
            a.debug.onSplit(pfn, order);
        }
        for (int i = used; i < (1 << order); i++) {
            free.freePages(PageHandle.of(pfn + i, 0, pt.gen(pfn + i)), 0);
        }
        return PageHandle.of(pfn, 0, pt.gen(pfn));
    }

    /**
     * See {@link PageAllocator#freePagesExact}: every page is checked before any is freed — the
     * misuse checks of a free, and {@code free_pages_prepare}'s bad-page check for each page whose
     * reference is the caller's alone (a page someone else also holds is only put, as the kernel's
     * {@code free_page} does).
     */
    void freePagesExact(long handle, long size) {
        PageTable pt = a.pt;
        int used = pagesFor(size);
        int pfn = PageHandle.pfn(handle);
        for (int i = 0; i < used; i++) {
            if (pfn + i >= a.pages) {
                throw new ForeignPageFreeException("free_pages_exact: expected " + used + " pages from pfn 0x"
                        + Integer.toHexString(pfn) + ", found the end of memory at 0x" + Integer.toHexString(a.pages));
            }
            free.checkFree(i == 0 ? handle : PageHandle.of(pfn + i, 0, pt.gen(pfn + i)), 0);
            if (pt.refcount(pfn + i) == 1) {
                String reason = BadPage.reasonAtFree(pt, pfn + i, 1);
                if (reason != null) {
                    a.badPage.fail(pfn + i, "free_pages_exact", reason);
                }
            }
        }
        for (int i = 0; i < used; i++) {
            free.freePages(PageHandle.of(pfn + i, 0, pt.gen(pfn + i)), 0);
        }
    }

    /** {@code PAGE_ALIGN(size) >> PAGE_SHIFT}. */
    private static int pagesFor(long size) {
        return (int) ((size + PageAllocConfig.PAGE_SIZE - 1) >>> PageAllocConfig.PAGE_SHIFT);
    }
}
