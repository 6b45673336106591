package io.memscope.page;

/**
 * Where the allocator asks fault injection whether to fail: the kernel's
 * {@code should_fail_alloc_page()}, called from {@code prepare_alloc_pages()} before any free list
 * is looked at. A failure returns NULL without a {@code warn_alloc} report (fault injection prints
 * its own). The debug layer's {@code FailPageAlloc} implements it; the default never fails.
 */
@FunctionalInterface
public interface AllocFaultHook {
    /** Never fails. */
    AllocFaultHook NEVER = (gfp, order) -> false;

    /** True to make this allocation fail. Called on the allocating thread; must not allocate pages. */
    boolean shouldFailAllocPage(int gfp, int order);
}
