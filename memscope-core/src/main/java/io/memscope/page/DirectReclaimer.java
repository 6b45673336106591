package io.memscope.page;

/**
 * Direct reclaim as the allocator sees it: {@code try_to_free_pages()} called from
 * {@code __perform_reclaim()}, and {@code zone_reclaimable_pages()} used by
 * {@code should_reclaim_retry()}. The reclaim layer implements it (LRU scanning, shrinkers), running
 * with {@code PF_MEMALLOC} set for the duration as {@code memalloc_noreclaim_save()} does, so that its
 * own allocations use the reserves and never recurse.
 *
 * <p>Until then {@link #DRAIN_ONLY} is used: it "reclaims" only what the per-CPU lists hold, by
 * draining them, and reports those pages as progress (0 when they were empty).
 */
public interface DirectReclaimer {
    /**
     * Reclaims memory for an allocation of {@code order} with the scope-applied {@code gfp}. May sleep.
     * Returns the number of pages reclaimed (0 = no progress).
     */
    long tryToFreePages(PageAllocator allocator, int gfp, int order, long nodemask);

    /** {@code zone_reclaimable_pages()}: pages reclaim could still free in {@code zone}. */
    default long zoneReclaimablePages(Zone zone) {
        return 0;
    }

    /**
     * Drains every per-CPU list (and, in debug mode, the quarantine) and reports the pages returned
     * to the buddy as progress.
     */
    DirectReclaimer DRAIN_ONLY = (allocator, gfp, order, nodemask) -> allocator.reclaimCaches();
}
