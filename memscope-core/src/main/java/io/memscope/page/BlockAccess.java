package io.memscope.page;

import static io.memscope.page.PageTableDescriptor.STATE_ALLOC;

import java.lang.foreign.MemorySegment;

/**
 * From a handle to the bytes of its block: memscope's {@code page_address()}. Every access checks
 * that the handle still names a live allocation — the state, order and generation in the page
 * table must match the handle — so a use after free is reported ({@link StaleHandleException},
 * with the allocation and free stacks in debug mode) instead of touching a block that now
 * belongs to someone else.
 *
 * <p>Why a class of its own: these are the allocator's only methods that other subsystems (slab,
 * vmalloc, the page cache) call on <em>someone else's</em> handle, often from another thread, so
 * they read the generation with opaque semantics and never change the books.
 */
final class BlockAccess {
    private final PageAllocator a;
    private final PageTable pt;
    private final MemorySegment memory;
    private final int pages;

    BlockAccess(PageAllocator a, MemorySegment memory) {
        this.a = a;
        this.pt = a.pt;
        this.memory = memory;
        this.pages = a.pages;
    }

    /** See {@link PageAllocator#segment}. */
    MemorySegment segment(long handle) {
        int pfn = checkLive(handle);
        return memory.asSlice((long) pfn << PageAllocConfig.PAGE_SHIFT,
                (long) PageAllocConfig.PAGE_SIZE << PageHandle.order(handle));
    }

    /** See {@link PageAllocator#address}. */
    long address(long handle) {
        return (long) checkLive(handle) << PageAllocConfig.PAGE_SHIFT;
    }

    /** The pfn of a live handle; reports and throws {@link StaleHandleException} otherwise. */
    private int checkLive(long handle) {
        int pfn = PageHandle.pfn(handle);
        if (handle == PageHandle.NULL || pfn < 0 || pfn >= pages) {
            throw new StaleHandleException("expected a live handle, found " + PageHandle.toString(handle));
        }
        int w = pt.flagsWord(pfn);
        if (PageTableDescriptor.state(w) != STATE_ALLOC || pt.genOpaque(pfn) != PageHandle.generation(handle)
                || PageTableDescriptor.order(w) != PageHandle.order(handle)) {
            a.reports.staleHandle(handle); // throws
        }
        return pfn;
    }
}
