package io.memscope.reclaim;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.ZoneType;
import io.memscope.locking.FsReclaim;
import io.memscope.locking.Lockdep;
import io.memscope.page.AllocFlags;
import io.memscope.page.PageAllocator;
import io.memscope.page.Watermarks;
import io.memscope.page.Zone;
import io.memscope.sched.Task;
import io.memscope.stat.VmItem;
import io.memscope.stat.VmStat;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The reclaim side of one node ({@code pg_data_t}): its {@link Lru}, {@link ReclaimThrottle},
 * {@code kswapd_failures}, the {@code PGDAT_WRITEBACK}/congested flags, the
 * {@code pfmemalloc_wait} queue, and kswapd's work — {@code balance_pgdat()},
 * {@code pgdat_balanced()}, {@code allow_direct_reclaim()} of {@code mm/vmscan.c}.
 *
 * <p><b>balance_pgdat</b>: with {@code GFP_KERNEL} as the reclaim mask whatever woke kswapd, and
 * holding the {@code fs_reclaim} lockdep map for the whole run, it shrinks the node at priorities
 * 12 down to 1 until some eligible zone is above its <em>high</em> watermark; each pass aims at
 * {@code Σ max(high_wmark, SWAP_CLUSTER_MAX)} pages and raises the priority only when it scanned
 * less than that or reclaimed nothing. A run that reclaims nothing counts a failure; after
 * {@code MAX_RECLAIM_RETRIES} (16) the node is hopeless and wake-ups are ignored until some
 * reclaim (direct or kswapd) frees a page again.
 *
 * <p><b>pfmemalloc throttling</b>: direct reclaimers sleep while the free pages of the node's
 * zones up to NORMAL (those with reclaimable pages) are at or below half their summed min
 * watermarks — the reserves belong to PF_MEMALLOC tasks then. kswapd wakes them when it finds the
 * node above that line.
 */
final class ReclaimNode implements KswapdNode {
    /** {@code MAX_RECLAIM_RETRIES}. */
    static final int MAX_RECLAIM_RETRIES = 16;

    final int nid;
    final Lru lru;
    final ReclaimThrottle throttle;
    private final PageAllocator pa;
    private final Vmscan vmscan;
    private final VmStat vmstat;
    private final Lockdep lockdep;
    private final AtomicInteger kswapdFailures = new AtomicInteger();
    /** {@code PGDAT_WRITEBACK}: kswapd found only pages under writeback. Set/cleared by kswapd, read by all. */
    volatile boolean pgdatWriteback;
    /** {@code LRUVEC_NODE_CONGESTED}: the dirty pages found were all marked and still under writeback. */
    volatile boolean congested;
    private final ReentrantLock pfmemallocLock = new ReentrantLock();
    private final Condition pfmemallocWait = pfmemallocLock.newCondition();
    private volatile int pfmemallocWaiters;
    private volatile Kswapd kswapd;

    ReclaimNode(int nid, Lru lru, ReclaimThrottle throttle, PageAllocator pa, Vmscan vmscan, VmStat vmstat,
                Lockdep lockdep) {
        this.nid = nid;
        this.lru = lru;
        this.throttle = throttle;
        this.pa = pa;
        this.vmscan = vmscan;
        this.vmstat = vmstat;
        this.lockdep = lockdep;
    }

    void setKswapd(Kswapd k) {
        this.kswapd = k;
    }

    Kswapd kswapd() {
        return kswapd;
    }

    @Override
    public int nid() {
        return nid;
    }

    /** {@code kswapd_failures}. */
    int kswapdFailures() {
        return kswapdFailures.get();
    }

    @Override
    public boolean hopeless() {
        return kswapdFailures.get() >= MAX_RECLAIM_RETRIES;
    }

    /** Reclaim made progress on this node: {@code kswapd_failures = 0} (only written when it changes). */
    void clearHopeless() {
        if (kswapdFailures.get() != 0) {
            kswapdFailures.set(0);
        }
    }

    /**
     * {@code pgdat_balanced()}: true if any managed zone up to {@code highestZoneIdx} is above its
     * high watermark for {@code order} (with the lowmem reserve of {@code highestZoneIdx}); true
     * when the node has no such zone. memscope has no free-area probe here, so for order &gt; 0 only
     * the free-page arithmetic is checked (kswapd drops to order 0 anyway after reclaiming
     * {@code compact_gap(order)} pages, memscope having no compaction).
     */
    @Override
    public boolean balanced(int order, int highestZoneIdx) {
        boolean any = false;
        for (int z = 0; z <= Math.min(highestZoneIdx, ZoneType.COUNT - 1); z++) {
            Zone zone = pa.zone(nid, ZoneType.ofIndex(z));
            if (zone == null || zone.managedPages() == 0) {
                continue;
            }
            any = true;
            if (Watermarks.zoneWatermarkOk(zone.freePages(), zone.highWmark(), zone.lowmemReserve(highestZoneIdx),
                    zone.freeHighatomic(), order, AllocFlags.WMARK_HIGH, (o, h) -> true)) {
                return true;
            }
        }
        return !any;
    }

    /**
     * {@code balance_pgdat()}: runs on the kswapd thread (PF_MEMALLOC|PF_KSWAPD).
     *
     * @return the order reclaim ended at
     */
    @Override
    public int balance(int order, int highestZoneIdx) {
        ScanControl sc = new ScanControl(Kswapd.RECLAIM_GFP, order, highestZoneIdx, 0, true);
        try (FsReclaim.Section s = lockdep.fsReclaim().enterUnconditional("kswapd" + nid + " balance_pgdat")) {
            sc.section = s;
            vmstat.count(VmItem.PAGEOUTRUN, 1);
            sc.priority = ScanControl.DEF_PRIORITY;
            do {
                long reclaimedBefore = sc.nrReclaimed;
                boolean raisePriority = true;
                sc.reclaimIdx = highestZoneIdx;
                if (balanced(sc.order, highestZoneIdx)) {
                    break;
                }
                // Boosted reclaim does not exist in memscope, so writeback (legacy only) is always allowed.
                sc.mayWritepage = true;
                sc.nrScanned = 0;
                if (kswapdShrinkNode(sc)) {
                    raisePriority = false; // scanned enough to meet the goal at 100% efficiency
                }
                if (pfmemallocWaiters > 0 && allowDirectReclaim()) {
                    wakePfmemallocWaiters();
                }
                if (Thread.currentThread().isInterrupted()) {
                    break; // kthread_should_stop()
                }
                long reclaimed = sc.nrReclaimed - reclaimedBefore;
                if (raisePriority || reclaimed == 0) {
                    sc.priority--;
                }
            } while (sc.priority >= 1);
            if (sc.nrReclaimed == 0 && !balanced(sc.order, highestZoneIdx)) {
                kswapdFailures.incrementAndGet();
            }
            if (balanced(sc.order, highestZoneIdx)) {
                pgdatWriteback = false; // clear_pgdat_congested()
                congested = false;
            }
        }
        return sc.order;
    }

    /**
     * {@code kswapd_shrink_node()}: aims at {@code Σ max(high_wmark, SWAP_CLUSTER_MAX)} over the
     * eligible zones; drops to order 0 once {@code compact_gap(order) = 2 << order} pages were
     * reclaimed. Returns true when the pass scanned at least its target.
     */
    private boolean kswapdShrinkNode(ScanControl sc) {
        long target = 0;
        for (int z = 0; z <= sc.reclaimIdx; z++) {
            Zone zone = pa.zone(nid, ZoneType.ofIndex(z));
            if (zone != null && zone.managedPages() > 0) {
                target += Math.max(zone.highWmark(), ScanControl.SWAP_CLUSTER_MAX);
            }
        }
        sc.nrToReclaim = target;
        vmscan.shrinkNode(this, sc);
        if (sc.order > 0 && sc.nrReclaimed >= (2L << sc.order)) {
            sc.order = 0;
        }
        return sc.nrScanned >= sc.nrToReclaim;
    }

    // ====================================================================== pfmemalloc throttling

    /**
     * {@code allow_direct_reclaim()}: true when the node is hopeless, or has no reserves to
     * protect, or its free pages (zones ≤ NORMAL with reclaimable pages) exceed half their min
     * watermarks. When false, makes sure kswapd is awake and balancing up to ZONE_NORMAL.
     */
    boolean allowDirectReclaim() {
        if (hopeless()) {
            return true;
        }
        long reserve = 0;
        long free = 0;
        for (int z = 0; z <= ZoneType.NORMAL.ordinal(); z++) {
            Zone zone = pa.zone(nid, ZoneType.ofIndex(z));
            if (zone == null || zone.managedPages() == 0 || zoneReclaimablePages(z) == 0) {
                continue;
            }
            reserve += zone.minWmark();
            free += zone.freePages();
        }
        if (reserve == 0) {
            return true;
        }
        boolean ok = free > reserve / 2;
        Kswapd k = kswapd;
        if (!ok && k != null) {
            k.wakeup(Gfp.KERNEL, 0, ZoneType.NORMAL.ordinal());
        }
        return ok;
    }

    /** {@code zone_reclaimable_pages()} of this node's zone {@code zoneIdx}: its file LRU pages. */
    long zoneReclaimablePages(int zoneIdx) {
        return lru.zoneCount(Lru.INACTIVE, zoneIdx) + lru.zoneCount(Lru.ACTIVE, zoneIdx);
    }

    /**
     * The sleep of {@code throttle_direct_reclaim()} once {@link #allowDirectReclaim()} said no:
     * counts {@code pgscan_direct_throttle}; without {@code __GFP_FS} waits at most {@code HZ}
     * (the caller may hold filesystem locks kswapd needs), otherwise until kswapd finds the
     * reserves restored (re-checking on every wake-up, and every {@code HZ} as a guard against a
     * kswapd that was stopped).
     */
    void pfmemallocThrottle(int gfp) {
        vmstat.count(VmItem.PGSCAN_DIRECT_THROTTLE, 1);
        long hz = TimeUnit.SECONDS.toNanos(1);
        long deadline = System.nanoTime() + hz;
        boolean fs = (gfp & Gfp.FS) != 0;
        pfmemallocLock.lock();
        try {
            pfmemallocWaiters++;
            while (!allowDirectReclaim()) {
                long left = fs ? hz : deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    pfmemallocWait.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // interruptible/killable sleep: a signal ends it
                    break;
                }
                Kswapd k = kswapd;
                if (fs && (k == null || !k.thread().isAlive())) {
                    break; // no kswapd left to wake us (machine closing)
                }
            }
        } finally {
            pfmemallocWaiters--;
            pfmemallocLock.unlock();
        }
    }

    @Override
    public void wakePfmemallocWaiters() {
        if (pfmemallocWaiters == 0) {
            return; // waitqueue_active(): the waiter count is written under the lock before it sleeps
        }
        pfmemallocLock.lock();
        try {
            pfmemallocWait.signalAll();
        } finally {
            pfmemallocLock.unlock();
        }
    }

    /** Tasks sleeping in {@link #pfmemallocThrottle}. */
    int pfmemallocWaiters() {
        return pfmemallocWaiters;
    }

    /**
     * {@code current_may_throttle()} and the kthread rule: kernel threads other than kswapd are
     * never throttled by reclaim (they may be the writeback workers reclaim waits for).
     */
    static boolean mayThrottle() {
        Task t = Task.current();
        return t.isKswapd() || (t.flags() & Task.PF_KTHREAD) == 0;
    }
}
