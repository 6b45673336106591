package io.memscope.reclaim;

import static io.memscope.page.PageTableDescriptor.FLAG_ACTIVE;
import static io.memscope.page.PageTableDescriptor.FLAG_DIRTY;
import static io.memscope.page.PageTableDescriptor.FLAG_RECLAIM;
import static io.memscope.page.PageTableDescriptor.FLAG_REFERENCED;
import static io.memscope.page.PageTableDescriptor.FLAG_WORKINGSET;
import static io.memscope.page.PageTableDescriptor.FLAG_WRITEBACK;

import io.memscope.page.PageTable;
import io.memscope.page.PageWaitTable;
import io.memscope.sched.CondResched;
import io.memscope.stat.VmItem;
import io.memscope.stat.VmStat;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The LRU half of page reclaim: {@code shrink_node()}, {@code shrink_lruvec()},
 * {@code shrink_active_list()}, {@code shrink_inactive_list()} and {@code shrink_folio_list()} of
 * {@code mm/vmscan.c} (current kernel, classic two-list LRU, file pages only — memscope has no
 * swap, so the anon lists, swap-out and {@code get_scan_count}'s anon/file balancing do not exist).
 * Shared by direct reclaim ({@link DirectReclaim}) and kswapd ({@link ReclaimNode#balance}).
 *
 * <p><b>The gates on each page</b> ({@code shrink_folio_list}):
 * <ul>
 *   <li>the page lock is only tried ({@code folio_trylock}); a locked page is kept;</li>
 *   <li>a page under writeback is marked {@code PG_reclaim} (so its end of writeback rotates it to
 *       the inactive tail) and activated; kswapd that meets an already marked page while the node is
 *       {@code PGDAT_WRITEBACK} counts it as "immediate" and throttles on WRITEBACK;</li>
 *   <li>a dirty page is <b>never written by reclaim</b> (current kernel, after the removal of
 *       {@code ->writepage}): it is marked {@code PG_reclaim}, counted
 *       {@code nr_vmscan_immediate_reclaim} and activated; when every page taken was dirty and not
 *       queued for I/O the flushers are woken ({@link FileOwner#wakeupFlusherThreads}). With the
 *       {@code legacyReclaimWriteback} switch the old rule applies instead: kswapd marks first and
 *       writes ({@link FileOwner#writePage}) only a page it meets again with {@code PG_reclaim};
 *       direct reclaim calls writePage too (pre-3.2), which a file system may refuse. Either way
 *       writing needs {@code __GFP_FS} ({@code may_enter_fs}), {@code __GFP_IO} and
 *       {@code sc->may_writepage}, and a referenced page is kept rather than written
 *       ({@code FOLIOREF_RECLAIM_CLEAN});</li>
 *   <li>a clean page is detached by {@link FileOwner#removeMapping} and freed ({@code pgsteal_*}).
 *       Clean page-cache pages need neither {@code __GFP_FS} nor {@code __GFP_IO}: a GFP_NOIO
 *       reclaimer frees them.</li>
 * </ul>
 *
 * <p><b>Aging.</b> {@code shrink_active_list} deactivates every page it scans (counted
 * {@code pgrefill}, {@code pgdeactivate}): in the current kernel only <em>mapped</em> executable
 * pages referenced through page tables get to stay active, and memscope pages are never mapped.
 * The second chance of an unmapped page is {@code folio_mark_accessed}: a page touched twice
 * while inactive is activated ({@link Lru#markAccessed}). Active pages are scanned only while
 * {@code inactive_is_low()} (inactive × ratio &lt; active, ratio = √(10 × GiB) or 1).
 *
 * <p>Thread-safety: any number of threads may reclaim at once; per-pass state lives in the
 * caller's {@link ScanControl}, page state in the page table under the page lock and the LRU lock.
 */
final class Vmscan {
    private final PageTable pt;
    private final PageWaitTable waits;
    private final VmStat vmstat;
    private final Shrinkers shrinkers;
    private final boolean legacyWriteback;
    private volatile FileOwner owner;
    private final AtomicLong vmscanWrite = new AtomicLong();
    private final AtomicLong vmscanImmediate = new AtomicLong();

    Vmscan(PageTable pt, PageWaitTable waits, VmStat vmstat, Shrinkers shrinkers, boolean legacyWriteback) {
        this.pt = pt;
        this.waits = waits;
        this.vmstat = vmstat;
        this.shrinkers = shrinkers;
        this.legacyWriteback = legacyWriteback;
        vmstat.addSource(v -> {
            v[VmItem.NR_VMSCAN_WRITE.ordinal()] += vmscanWrite.get();
            v[VmItem.NR_VMSCAN_IMMEDIATE_RECLAIM.ordinal()] += vmscanImmediate.get();
        });
    }

    /** Sets the owner of the file pages on the LRU lists (the page cache); null: pages are never freed. */
    void setFileOwner(FileOwner o) {
        this.owner = o; // volatile: reclaimers on other threads see the owner before they touch its pages
    }

    FileOwner fileOwner() {
        return owner;
    }

    boolean legacyWriteback() {
        return legacyWriteback;
    }

    // ====================================================================== shrink_node

    /**
     * {@code shrink_node()}: one pass over a node's LRU and the shrinkers at {@code sc.priority};
     * then kswapd's writeback bookkeeping and the congestion throttle. Adds to {@code sc.nrReclaimed}
     * and {@code sc.nrScanned}; returns the pages this pass reclaimed.
     */
    long shrinkNode(ReclaimNode node, ScanControl sc) {
        long reclaimedBefore = sc.nrReclaimed;
        sc.resetNodeStats();
        // prepare_scan_control(): deactivate file pages only while the inactive list is low, or
        // when a previous pass skipped deactivation and found nothing (force_deactivate).
        sc.mayDeactivateFile = sc.forceDeactivate || inactiveIsLow(node.lru, sc.reclaimIdx);
        sc.context("shrink_lruvec");
        shrinkLruvec(node, sc);
        sc.context("shrink_slab");
        long[] slabPages = sc.slabPages;
        slabPages[0] = 0;
        shrinkers.shrinkSlab(sc.gfpMask, node.nid, sc.priority, slabPages);
        sc.nrReclaimed += slabPages[0]; // flush_reclaim_state()
        long reclaimed = sc.nrReclaimed - reclaimedBefore;

        if (sc.kswapd) {
            // Every page taken was under writeback: the flushers cannot keep up; tell kswapd to
            // count marked pages as "immediate" and throttle.
            if (sc.nrWriteback > 0 && sc.nrWriteback == sc.nrTaken) {
                node.pgdatWriteback = true;
            }
            if (sc.nrImmediate > 0) {
                node.throttle.throttle(ReclaimThrottle.Reason.WRITEBACK, node::hopeless);
            }
            // All dirty pages were already marked and still under writeback: the node is congested.
            if (sc.nrDirty > 0 && sc.nrDirty == sc.nrCongested) {
                node.congested = true;
            }
        }
        if (!sc.kswapd && node.congested && ReclaimNode.mayThrottle()) {
            node.throttle.throttle(ReclaimThrottle.Reason.CONGESTED, node::hopeless);
        }
        if (reclaimed > 0) {
            node.clearHopeless(); // reclaimable: kswapd_failures = 0
        }
        return reclaimed;
    }

    /** {@code inactive_is_low(lruvec, LRU_INACTIVE_FILE)}. */
    static boolean inactiveIsLow(Lru lru, int reclaimIdx) {
        long inactive = lru.size(Lru.INACTIVE, reclaimIdx);
        long active = lru.size(Lru.ACTIVE, reclaimIdx);
        long gb = (inactive + active) >> (30 - 12);
        long ratio = gb != 0 ? (long) Math.sqrt(10.0 * gb) : 1;
        return inactive * ratio < active;
    }

    /**
     * {@code shrink_lruvec()}: scans {@code size >> priority} pages of each list in batches of
     * {@code SWAP_CLUSTER_MAX}, stopping once {@code nr_to_reclaim} is met — except direct reclaim
     * at {@code DEF_PRIORITY}, which scans its whole share ({@code proportional_reclaim}).
     */
    private void shrinkLruvec(ReclaimNode node, ScanControl sc) {
        long nrInactive = node.lru.size(Lru.INACTIVE, sc.reclaimIdx) >> sc.priority;
        long nrActive = node.lru.size(Lru.ACTIVE, sc.reclaimIdx) >> sc.priority;
        boolean proportional = !sc.kswapd && sc.priority == ScanControl.DEF_PRIORITY;
        long nrReclaimed = 0;
        while (nrInactive > 0 || nrActive > 0) {
            if (nrInactive > 0) {
                int n = (int) Math.min(nrInactive, ScanControl.SWAP_CLUSTER_MAX);
                nrInactive -= n;
                nrReclaimed += shrinkInactiveList(n, node, sc);
            }
            if (nrActive > 0) {
                int n = (int) Math.min(nrActive, ScanControl.SWAP_CLUSTER_MAX);
                nrActive -= n;
                if (sc.mayDeactivateFile) {
                    shrinkActiveList(n, node, sc);
                } else {
                    sc.skippedDeactivate = true;
                }
            }
            if (sc.nrReclaimed + nrReclaimed >= sc.nrToReclaim && !proportional) {
                break; // file-only LRU: nothing to rebalance against, stop at the target
            }
        }
        sc.nrReclaimed += nrReclaimed;
    }

    /**
     * {@code shrink_active_list()}: moves up to {@code nrToScan} pages from the active tail to the
     * inactive list, clearing {@code PG_active} and setting {@code PG_workingset}.
     */
    private void shrinkActiveList(int nrToScan, ReclaimNode node, ScanControl sc) {
        int[] buf = sc.isolated;
        long r = node.lru.isolate(Lru.ACTIVE, nrToScan, sc.reclaimIdx, buf);
        int taken = (int) r;
        vmstat.count(VmItem.PGREFILL, r >>> 32);
        for (int i = 0; i < taken; i++) {
            int pfn = buf[i];
            pt.testAndClearPageFlag(pfn, FLAG_ACTIVE); // we are de-activating
            pt.setPageFlagAtomic(pfn, FLAG_WORKINGSET);
            node.lru.putback(pfn);
        }
        if (taken > 0) {
            vmstat.count(VmItem.PGDEACTIVATE, taken);
        }
    }

    /**
     * {@code shrink_inactive_list()}: isolates up to {@code nrToScan} pages from the inactive tail
     * (throttled while too many are isolated), runs them through {@link #shrinkFolioList}, counts
     * {@code pgscan_*}/{@code pgsteal_*}, and wakes the flushers when every page taken was dirty
     * and not queued for writeback. Returns the pages freed.
     */
    private long shrinkInactiveList(int nrToScan, ReclaimNode node, ScanControl sc) {
        boolean stalled = false;
        while (tooManyIsolated(node, sc)) {
            if (stalled) {
                return 0;
            }
            stalled = true;
            node.throttle.throttle(ReclaimThrottle.Reason.ISOLATED, node::hopeless);
        }
        int[] buf = sc.isolated;
        long r = node.lru.isolate(Lru.INACTIVE, nrToScan, sc.reclaimIdx, buf);
        int taken = (int) r;
        long scanned = r >>> 32;
        sc.nrScanned += scanned;
        vmstat.count(sc.kswapd ? VmItem.PGSCAN_KSWAPD : VmItem.PGSCAN_DIRECT, scanned);
        if (taken == 0) {
            return 0;
        }
        long unqueuedDirtyBefore = sc.nrUnqueuedDirty;
        long reclaimed = shrinkFolioList(buf, taken, node, sc);
        vmstat.count(sc.kswapd ? VmItem.PGSTEAL_KSWAPD : VmItem.PGSTEAL_DIRECT, reclaimed);
        if (sc.nrUnqueuedDirty - unqueuedDirtyBefore == taken) {
            // Dirty pages not queued for I/O reached the tail: the flushers are not keeping up.
            FileOwner o = owner;
            if (o != null) {
                sc.context("wakeup_flusher_threads");
                o.wakeupFlusherThreads(node.nid);
            }
        }
        sc.nrTaken += taken;
        return reclaimed;
    }

    /** {@code too_many_isolated()}: never for kswapd; more isolated than inactive (an eighth of it for __GFP_IO|__GFP_FS callers). */
    private static boolean tooManyIsolated(ReclaimNode node, ScanControl sc) {
        if (sc.kswapd) {
            return false;
        }
        long inactive = node.lru.nrInactiveFile();
        long isolated = node.lru.nrIsolatedFile();
        if (sc.mayEnterFs() && sc.mayIo()) {
            inactive >>= 3; // callers that may do I/O can wait; leave room for GFP_NOIO/NOFS reclaimers
        }
        boolean tooMany = isolated > inactive;
        if (!tooMany) {
            node.throttle.wakeAll(ReclaimThrottle.Reason.ISOLATED);
        }
        return tooMany;
    }

    // ====================================================================== shrink_folio_list

    /** What happens to one page at the end of {@link #shrinkFolioList}. */
    private static final int KEEP_LOCKED = 0;
    private static final int ACTIVATE_LOCKED = 1;
    private static final int KEEP = 2;
    private static final int FREED = 3;

    /**
     * {@code shrink_folio_list()}: decides the fate of {@code n} isolated pages (see the class
     * comment for the rules), frees the reclaimable ones and puts the rest back.
     *
     * @return pages freed
     */
    private long shrinkFolioList(int[] pages, int n, ReclaimNode node, ScanControl sc) {
        long freed = 0;
        long activated = 0;
        sc.context("shrink_folio_list");
        for (int i = 0; i < n; i++) {
            CondResched.condResched();
            int pfn = pages[i];
            int fate;
            if (!waits.trylockPage(pfn)) {
                fate = KEEP;
            } else {
                fate = decide(pfn, node, sc);
            }
            switch (fate) {
                case FREED -> {
                    node.lru.freeIsolated(pfn);
                    freed++;
                }
                case ACTIVATE_LOCKED -> {
                    if (!pt.testAndSetPageFlag(pfn, FLAG_ACTIVE)) {
                        activated++;
                    }
                    waits.unlockPage(pfn);
                    node.lru.putback(pfn);
                }
                case KEEP_LOCKED -> {
                    waits.unlockPage(pfn);
                    node.lru.putback(pfn);
                }
                default -> node.lru.putback(pfn); // KEEP: not locked by us (or unlocked by writePage)
            }
        }
        if (activated > 0) {
            node.lru.countActivate(activated);
        }
        return freed;
    }

    /** The body of the {@code shrink_folio_list} loop for one locked page. */
    private int decide(int pfn, ReclaimNode node, ScanControl sc) {
        int f = pt.pageFlagsAcquire(pfn);
        boolean dirty = (f & FLAG_DIRTY) != 0;
        boolean writeback = (f & FLAG_WRITEBACK) != 0;
        if (dirty || writeback) {
            sc.nrDirty++;
        }
        if (dirty && !writeback) {
            sc.nrUnqueuedDirty++;
        }
        if (writeback && (f & FLAG_RECLAIM) != 0) {
            sc.nrCongested++;
        }
        if (writeback) {
            if (sc.kswapd && (f & FLAG_RECLAIM) != 0 && node.pgdatWriteback) {
                sc.nrImmediate++; // case 1: kswapd cycling pages faster than they are written
            } else {
                // case 2: mark it so that the end of its writeback rotates it for immediate reclaim
                pt.setPageFlagAtomic(pfn, FLAG_RECLAIM);
                sc.nrWriteback++;
            }
            return ACTIVATE_LOCKED;
        }
        // folio_check_references() for an unmapped file page: no PTE references, so a set
        // PG_referenced only means "reclaim if clean, do not write" (FOLIOREF_RECLAIM_CLEAN).
        boolean referenced = pt.testAndClearPageFlag(pfn, FLAG_REFERENCED);
        FileOwner o = owner;
        if (dirty) {
            if (!legacyWriteback || (sc.kswapd && (f & FLAG_RECLAIM) == 0)) {
                // Immediately reclaim when written back: the flushers do the I/O, never reclaim.
                vmscanImmediate.incrementAndGet();
                pt.setPageFlagAtomic(pfn, FLAG_RECLAIM);
                return ACTIVATE_LOCKED;
            }
            if (referenced || !sc.mayEnterFs() || !sc.mayIo() || !sc.mayWritepage || o == null) {
                return KEEP_LOCKED;
            }
            return pageout(pfn, o, sc);
        }
        if (o != null && o.removeMapping(pfn)) {
            return FREED; // reference count frozen at 0: reclaim owns the page now
        }
        return KEEP_LOCKED;
    }

    /** {@code pageout()} under the legacy switch: the owner's write-back with {@code for_reclaim}. */
    private int pageout(int pfn, FileOwner o, ScanControl sc) {
        sc.context("pageout");
        // PG_reclaim goes on before the write starts, so a completion racing with our return
        // already sees it and rotates the page to the inactive tail (pageout() does the same).
        pt.setPageFlagAtomic(pfn, FLAG_RECLAIM);
        FileOwner.PageoutResult r = o.writePage(pfn);
        if (r != FileOwner.PageoutResult.SUCCESS) {
            pt.testAndClearPageFlag(pfn, FLAG_RECLAIM);
        }
        return switch (r) {
            case KEEP -> KEEP_LOCKED;
            case ACTIVATE -> ACTIVATE_LOCKED;
            case SUCCESS -> {
                vmscanWrite.incrementAndGet();
                yield KEEP; // the owner unlocked the page; it is freed on a later pass once clean
            }
            case CLEAN -> o.removeMapping(pfn) ? FREED : KEEP_LOCKED;
        };
    }
}
