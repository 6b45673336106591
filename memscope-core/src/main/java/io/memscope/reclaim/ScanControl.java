package io.memscope.reclaim;

import io.memscope.gfp.Gfp;
import io.memscope.locking.FsReclaim;

/**
 * One reclaim pass's parameters and results: {@code struct scan_control} of {@code mm/vmscan.c}.
 * Confined to the reclaiming thread; created per {@code try_to_free_pages} or
 * {@code balance_pgdat} call.
 *
 * <p>The per-pass statistics ({@code sc->nr}) that {@code shrink_node} uses to decide on
 * throttling and flusher wake-ups are the {@code nr*} fields reset by {@link #resetNodeStats()}.
 */
final class ScanControl {
    /** {@code DEF_PRIORITY}: scan {@code lru_size >> priority} pages per pass. */
    static final int DEF_PRIORITY = 12;
    /** {@code SWAP_CLUSTER_MAX}: the direct reclaim target and the isolation batch. */
    static final int SWAP_CLUSTER_MAX = 32;

    /** {@code sc->gfp_mask}: after {@code current_gfp_context()} for direct reclaim, GFP_KERNEL for kswapd. */
    final int gfpMask;
    /** {@code sc->order}. */
    int order;
    /** {@code sc->reclaim_idx}: highest zone index whose pages may be reclaimed. */
    int reclaimIdx;
    /** {@code sc->priority}: 12 down to 0 (direct) or 1 (kswapd). */
    int priority = DEF_PRIORITY;
    /** {@code sc->nr_to_reclaim}. */
    long nrToReclaim;
    /** {@code sc->may_writepage}: only used by the legacy writeback switch (regular file pages are never written otherwise). */
    boolean mayWritepage;
    /** {@code sc->may_deactivate & DEACTIVATE_FILE}, computed per node by {@code prepare_scan_control}. */
    boolean mayDeactivateFile;
    /** {@code sc->force_deactivate}: deactivate even when the inactive list is not low (retry pass). */
    boolean forceDeactivate;
    /** {@code sc->skipped_deactivate}: an active list was left alone this pass. */
    boolean skippedDeactivate;
    /** The held fs_reclaim section (lockdep), renamed for each kind of callback; may be null. */
    FsReclaim.Section section;
    /** Isolation buffer, one batch; reused by every list scan of this pass (no array per batch). */
    final int[] isolated = new int[SWAP_CLUSTER_MAX];
    /** Reclaim-state out-parameter for shrink_slab (pages the shrinkers freed). */
    final long[] slabPages = new long[1];
    /** {@code current_is_kswapd()}. */
    final boolean kswapd;
    /** {@code sc->nr_scanned}, {@code sc->nr_reclaimed}. */
    long nrScanned;
    long nrReclaimed;

    // ---- sc->nr: statistics of one shrink_node pass ----
    long nrDirty;
    long nrUnqueuedDirty;
    long nrCongested;
    long nrWriteback;
    long nrImmediate;
    long nrTaken;

    ScanControl(int gfpMask, int order, int reclaimIdx, long nrToReclaim, boolean kswapd) {
        this.gfpMask = gfpMask;
        this.order = order;
        this.reclaimIdx = reclaimIdx;
        this.nrToReclaim = nrToReclaim;
        this.kswapd = kswapd;
    }

    /** {@code may_enter_fs()} for a file page: filesystem callbacks need {@code __GFP_FS}. */
    boolean mayEnterFs() {
        return (gfpMask & Gfp.FS) != 0;
    }

    /** {@code __GFP_IO}: reclaim may start I/O (legacy writeback). */
    boolean mayIo() {
        return (gfpMask & Gfp.IO) != 0;
    }

    /** Names what reclaim runs now in the fs_reclaim section, for lockdep's reports. */
    void context(String what) {
        if (section != null) {
            section.context(what);
        }
    }

    void resetNodeStats() {
        nrDirty = 0;
        nrUnqueuedDirty = 0;
        nrCongested = 0;
        nrWriteback = 0;
        nrImmediate = 0;
        nrTaken = 0;
    }
}
