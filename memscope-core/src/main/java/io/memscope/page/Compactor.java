package io.memscope.page;

/**
 * Direct compaction as the allocator sees it: {@code try_to_compact_pages()} called from
 * {@code __alloc_pages_direct_compact()} for order > 0. memscope does not migrate pages, so the
 * default {@link #COUNTED_NO_OP} does nothing but count a {@code compact_stall} and a
 * {@code compact_fail} and report {@link Result#COMPLETE} (scanned everything, no suitable page),
 * which drives {@code should_compact_retry()} exactly like a compaction that failed.
 */
@FunctionalInterface
public interface Compactor {
    /** {@code enum compact_result}, the values the allocator distinguishes. */
    enum Result { SKIPPED, DEFERRED, COMPLETE, PARTIAL_SKIPPED, SUCCESS }

    /** {@code enum compact_priority}: SYNC_FULL 0, SYNC_LIGHT 1, ASYNC 2. */
    int PRIO_SYNC_FULL = 0;
    int PRIO_SYNC_LIGHT = 1;
    int PRIO_ASYNC = 2;
    int MIN_COMPACT_PRIORITY = PRIO_SYNC_FULL;
    int MIN_COMPACT_COSTLY_PRIORITY = PRIO_SYNC_LIGHT;
    int DEF_COMPACT_PRIORITY = PRIO_SYNC_LIGHT;
    int INIT_COMPACT_PRIORITY = PRIO_ASYNC;

    /** Counts a stall and a failure, compacts nothing. */
    Compactor COUNTED_NO_OP = (allocator, gfp, order, prio) -> Result.COMPLETE;

    /** Compacts for an allocation of {@code order}; may sleep. */
    Result tryToCompactPages(PageAllocator allocator, int gfp, int order, int priority);
}
