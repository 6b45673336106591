package io.memscope.reclaim;

/**
 * What reclaim needs from the owner of file pages — the page cache — to reclaim them: the
 * {@code address_space} side of {@code shrink_folio_list()} in {@code mm/vmscan.c}.
 *
 * <p>The page cache sits above reclaim in memscope's layers, so reclaim owns this interface and
 * the page cache implements it; {@code MemoryManager} connects the two.
 *
 * <p>Contract for every method: reclaim calls it on its own thread (kswapd, or a task in direct
 * reclaim with {@code PF_MEMALLOC} set) while it holds the page's lock ({@code PG_locked}) and an
 * isolation reference, with the page off the LRU lists. None of these may take a lock that
 * reclaim's caller might hold — that is the whole point of the context rules.
 */
public interface FileOwner {
    /** Outcome of {@link #writePage}: {@code pageout_t} of mm/vmscan.c. */
    enum PageoutResult {
        /** PAGE_KEEP: could not write it now (e.g. refused from direct reclaim); keep it, still dirty. */
        KEEP,
        /** PAGE_ACTIVATE: move it to the active list. */
        ACTIVATE,
        /** PAGE_SUCCESS: writeback was started (or done); the page was unlocked by the owner. */
        SUCCESS,
        /** PAGE_CLEAN: it was clean after all; still locked. */
        CLEAN
    }

    /**
     * {@code __remove_mapping()}: detaches a locked, clean page that is not under writeback from
     * its mapping, if no one but the page cache and reclaim holds a reference (the reference count
     * is frozen from 2 to 0 before PG_dirty is re-checked, as the kernel does). On success the page
     * is no longer in any mapping and reclaim frees it.
     *
     * @return true when removed
     */
    boolean removeMapping(int pfn);

    /**
     * {@code wakeup_flusher_threads(WB_REASON_VMSCAN)}: reclaim met dirty pages at the tail of the
     * inactive list; ask the flushers of {@code nid}'s devices to write. Must not block.
     */
    void wakeupFlusherThreads(int nid);

    /**
     * Legacy reclaim writeback only ({@code legacyReclaimWriteback}): {@code pageout()} calling the
     * mapping's {@code ->writepage} with {@code for_reclaim} set, as kernels before the removal of
     * {@code ->writepage} did. A file system may refuse work from direct reclaim
     * ({@code PF_MEMALLOC} without {@code PF_KSWAPD}) and redirty the page (seeds/002).
     */
    PageoutResult writePage(int pfn);
}
