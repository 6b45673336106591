package io.memscope.reclaim;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.ZoneType;
import io.memscope.locking.FsReclaim;
import io.memscope.locking.Lockdep;
import io.memscope.page.DirectReclaimer;
import io.memscope.page.PageAllocator;
import io.memscope.page.Zone;
import io.memscope.sched.Memalloc;
import io.memscope.sched.Task;
import java.util.function.Consumer;

/**
 * Direct reclaim, the allocator's {@link DirectReclaimer}: {@code __perform_reclaim()},
 * {@code try_to_free_pages()}, {@code throttle_direct_reclaim()}, {@code do_try_to_free_pages()}
 * and {@code shrink_zones()} of {@code mm/page_alloc.c} and {@code mm/vmscan.c}.
 *
 * <p>Order of events for one call, as the kernel does it:
 * <ol>
 *   <li>{@code fs_reclaim_acquire(gfp)}: lockdep holds {@code fs_reclaim} across the whole reclaim
 *       when the scope-applied mask has {@code __GFP_FS}, so every lock a shrinker or writeback takes
 *       inside gets the dependency "fs_reclaim → L";</li>
 *   <li>{@code memalloc_noreclaim_save()}: PF_MEMALLOC for the duration — allocations made by
 *       shrinkers use the reserves and can never recurse into reclaim;</li>
 *   <li>{@code throttle_direct_reclaim()}: user tasks wait while the node's reserves are
 *       depleted (kernel threads never);</li>
 *   <li>{@code scan_control} with {@code current_gfp_context(gfp)}, {@code nr_to_reclaim =
 *       SWAP_CLUSTER_MAX}, {@code reclaim_idx = gfp_zone(gfp)}; priorities 12 → 0, each pass
 *       shrinking every node of the zonelist once; stop at 32 pages;</li>
 *   <li>nothing reclaimed but active pages were skipped: one more round with forced deactivation.</li>
 * </ol>
 * {@code allocstall_<zone>} is counted by the allocator's slow path around this call (one per
 * call, zone = the request's highest zone index, which is {@code sc->reclaim_idx}).
 */
final class DirectReclaim implements DirectReclaimer {
    private final ReclaimNode[] nodes;
    private final Vmscan vmscan;
    private final Lockdep lockdep;
    private volatile Consumer<String> trace;

    DirectReclaim(ReclaimNode[] nodes, Vmscan vmscan, Lockdep lockdep) {
        this.nodes = nodes;
        this.vmscan = vmscan;
        this.lockdep = lockdep;
    }

    void setTrace(Consumer<String> sink) {
        this.trace = sink;
    }

    /**
     * {@code __perform_reclaim()} + {@code try_to_free_pages()}. May sleep (throttling, shrinkers).
     * Returns the pages reclaimed; 1 when the task was throttled and woken by a signal (so the
     * allocator retries instead of going OOM); 0 for no progress.
     */
    @Override
    public long tryToFreePages(PageAllocator allocator, int gfp, int order, long nodemask) {
        int scoped = Memalloc.currentGfpContext(gfp);
        long reclaimed;
        try (FsReclaim.Section section = lockdep.fsReclaim().enter(scoped, "direct reclaim")) {
            int noreclaim = Memalloc.memallocNoreclaimSave();
            try {
                reclaimed = tryToFreePagesLocked(allocator, scoped, order, nodemask, section);
            } finally {
                Memalloc.memallocNoreclaimRestore(noreclaim);
            }
        }
        if (reclaimed == 0) {
            // memscope deviation: the kernel drains the per-CPU lists only after progress; memscope's
            // machines are small next to their pcp lists, so pages drained count as progress when
            // the LRU and the shrinkers gave nothing (what DirectReclaimer.DRAIN_ONLY did alone).
            reclaimed = allocator.drainAllPages();
        }
        return reclaimed;
    }

    private long tryToFreePagesLocked(PageAllocator allocator, int gfp, int order, long nodemask,
                                      FsReclaim.Section section) {
        int reclaimIdx = ZoneType.forGfp(gfp).ordinal();
        if (throttleDirectReclaim(allocator, gfp, reclaimIdx, nodemask)) {
            return 1;
        }
        ScanControl sc = new ScanControl(gfp, order, reclaimIdx, ScanControl.SWAP_CLUSTER_MAX, false);
        sc.section = section;
        sc.mayWritepage = true; // !laptop_mode
        Consumer<String> t = trace;
        if (t != null) {
            t.accept("mm_vmscan_direct_reclaim_begin: order=" + order + " gfp_flags=" + ReclaimFormat.gfp(gfp));
        }
        long reclaimed = doTryToFreePages(allocator, sc, nodemask);
        if (t != null) {
            t.accept("mm_vmscan_direct_reclaim_end: nr_reclaimed=" + reclaimed);
        }
        return reclaimed;
    }

    /** {@code do_try_to_free_pages()}. */
    private long doTryToFreePages(PageAllocator allocator, ScanControl sc, long nodemask) {
        while (true) {
            do {
                sc.nrScanned = 0;
                shrinkZones(allocator, sc, nodemask);
                if (sc.nrReclaimed >= sc.nrToReclaim) {
                    break;
                }
            } while (--sc.priority >= 0);
            if (sc.nrReclaimed > 0) {
                return sc.nrReclaimed;
            }
            if (sc.skippedDeactivate && !sc.forceDeactivate) {
                // Untapped active pages: deactivate them too, from the initial priority.
                sc.priority = ScanControl.DEF_PRIORITY;
                sc.forceDeactivate = true;
                sc.skippedDeactivate = false;
                continue;
            }
            return 0;
        }
    }

    /** {@code shrink_zones()}: each node with an eligible zone in the zonelist and nodemask, once. */
    private void shrinkZones(PageAllocator allocator, ScanControl sc, long nodemask) {
        long seen = 0;
        ReclaimNode first = null;
        for (Zone z : allocator.zonelist(0, false)) {
            int nid = z.nid();
            if (z.type().ordinal() > sc.reclaimIdx || (nodemask & (1L << nid)) == 0 || (seen & (1L << nid)) != 0) {
                continue;
            }
            seen |= 1L << nid;
            ReclaimNode node = nodes[nid];
            if (first == null) {
                first = node;
            }
            vmscan.shrinkNode(node, sc);
        }
        if (first != null) {
            considerReclaimThrottle(first, sc);
        }
    }

    /**
     * {@code consider_reclaim_throttle()}: at better than 12.5% efficiency wake the NOPROGRESS
     * sleepers; a direct reclaimer that reclaimed nothing at priority 1 sleeps there.
     */
    private static void considerReclaimThrottle(ReclaimNode node, ScanControl sc) {
        if (sc.nrReclaimed > (sc.nrScanned >> 3)) {
            node.throttle.wakeAll(ReclaimThrottle.Reason.NOPROGRESS);
            return;
        }
        if (sc.priority == 1 && sc.nrReclaimed == 0 && ReclaimNode.mayThrottle()) {
            node.throttle.throttle(ReclaimThrottle.Reason.NOPROGRESS, node::hopeless);
        }
    }

    /**
     * {@code throttle_direct_reclaim()}: kernel threads (kswapd included) are never throttled; a
     * user task checks the first node of its zonelist with a zone ≤ NORMAL and, if that node's
     * reserves are low, sleeps ({@link ReclaimNode#pfmemallocThrottle}). Returns true when the
     * sleep ended by a signal (the kernel's fatal signal: the caller reports progress).
     */
    private boolean throttleDirectReclaim(PageAllocator allocator, int gfp, int reclaimIdx, long nodemask) {
        Task task = Task.current();
        if ((task.flags() & Task.PF_KTHREAD) != 0 || task.isKswapd()) {
            return false;
        }
        ReclaimNode node = null;
        for (Zone z : allocator.zonelist(0, false)) {
            if (z.type().ordinal() > ZoneType.NORMAL.ordinal() || z.type().ordinal() > reclaimIdx
                    || (nodemask & (1L << z.nid())) == 0) {
                continue;
            }
            node = nodes[z.nid()];
            break;
        }
        if (node == null || node.allowDirectReclaim()) {
            return false;
        }
        node.pfmemallocThrottle(gfp);
        return Thread.currentThread().isInterrupted();
    }

    /** {@code zone_reclaimable_pages()}: the zone's file LRU pages (no swap, so no anon). */
    @Override
    public long zoneReclaimablePages(Zone zone) {
        return nodes[zone.nid()].zoneReclaimablePages(zone.type().ordinal());
    }

    /** {@code GFP_KERNEL} as a readable default for callers that reclaim by hand. */
    static final int DEFAULT_GFP = Gfp.KERNEL;
}
