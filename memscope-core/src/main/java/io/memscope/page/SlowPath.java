package io.memscope.page;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.MigrateType;
import io.memscope.gfp.ZoneType;
import io.memscope.sched.CondResched;
import io.memscope.sched.Memalloc;
import io.memscope.sched.Task;
import io.memscope.stat.AllocStallEvent;
import io.memscope.stat.PageAllocEvent;
import io.memscope.stat.VmItem;
import java.util.concurrent.locks.LockSupport;

/**
 * The allocator's slow path, {@code __alloc_pages_slowpath()} of {@code mm/page_alloc.c}, in the
 * kernel's order (KERNEL.md §3.5): wake kswapd, retry at the min watermark with the reserves
 * {@code gfp_to_alloc_flags} grants, the pfmemalloc override, direct reclaim (through
 * {@link DirectReclaimer}), direct compaction (through {@link Compactor}), the retry decisions
 * ({@code should_reclaim_retry}, {@code should_compact_retry}), the OOM gate
 * ({@code __alloc_pages_may_oom}) and the {@code nopage} rules for __GFP_NOFAIL.
 *
 * <p>Every wait the kernel makes as a one-jiffy sleep ({@code schedule_timeout_uninterruptible(1)})
 * is a 1 ms park here; where the kernel only calls {@code cond_resched()} in a loop that can spin
 * (OOM "progress" without a kill, NOFAIL at nopage) memscope also parks 1 ms, so a looping request
 * does not burn a core while it waits for another thread to free memory.
 */
final class SlowPath {
    static final int MAX_RECLAIM_RETRIES = 16;
    static final int MAX_COMPACT_RETRIES = 16;
    private static final long JIFFY_NANOS = 1_000_000L;

    /** {@code struct alloc_context}; allocated only on the slow path. */
    static final class AllocContext {
        final int preferredNid;
        final Zone[] zonelist;
        final int highestZoneIdx;
        long nodemask;
        final int migratetype;

        AllocContext(int preferredNid, Zone[] zonelist, int highestZoneIdx, long nodemask, int migratetype) {
            this.preferredNid = preferredNid;
            this.zonelist = zonelist;
            this.highestZoneIdx = highestZoneIdx;
            this.nodemask = nodemask;
            this.migratetype = migratetype;
        }
    }

    private final PageAllocator a;

    SlowPath(PageAllocator a) {
        this.a = a;
    }

    private long gpff(int gfp, int order, int f, AllocContext ac, Task task) {
        return a.freelist.getPageFromFreelist(gfp, order, f, ac.zonelist, ac.highestZoneIdx, ac.nodemask, ac.migratetype, task);
    }

    /** {@code __alloc_pages_slowpath()}. Returns a handle or NULL (after {@code warn_alloc}). */
    long allocSlowpath(int gfp, int order, AllocContext ac, Task task) {
        boolean canDirectReclaim = (gfp & Gfp.DIRECT_RECLAIM) != 0;
        boolean canCompact = canDirectReclaim && Gfp.compactionAllowed(gfp);
        boolean costly = order > Gfp.PAGE_ALLOC_COSTLY_ORDER;
        boolean nofail = (gfp & Gfp.NOFAIL) != 0;
        long page;
        if (nofail) {
            // Plain WARN_ON_ONCE: __GFP_NOWARN does not hide these.
            if (!canDirectReclaim) {
                a.log.warnOnce("nofail:noreclaim", AllocReports.warning("__alloc_pages_slowpath",
                        "__GFP_NOFAIL without __GFP_DIRECT_RECLAIM", gfp, order));
            }
            if ((task.flags() & Task.PF_MEMALLOC) != 0) {
                a.log.warnOnce("nofail:memalloc", AllocReports.warning("__alloc_pages_slowpath",
                        "__GFP_NOFAIL from a PF_MEMALLOC context", gfp, order));
            }
        }
        restart:
        for (;;) {
            int compactionRetries = 0;
            int[] noProgressLoops = {0};
            Compactor.Result compactResult = Compactor.Result.SKIPPED;
            int compactPriority = Compactor.DEF_COMPACT_PRIORITY;
            long memsCookie = task.memsAllowed(); // read_mems_allowed_begin(); zonelists never change here
            boolean compactFirst = canCompact && (costly || (order > 0 && ac.migratetype != MigrateType.MOVABLE.ordinal()));
            if (compactFirst) {
                compactPriority = Compactor.INIT_COMPACT_PRIORITY;
            }
            int f = AllocFlags.gfpToAllocFlags(gfp, order, task);
            // No eligible zone: goto nopage (a NOFAIL request goes on to retry from there).
            boolean gotoNopage = PageAllocator.firstZone(ac.zonelist, ac.highestZoneIdx, ac.nodemask) == null;
            boolean first = true;
            retry:
            for (;; gotoNopage = false) {
                attempt:
                {
                    if (gotoNopage) {
                        first = false; // the first attempt comes before the kernel's retry: label
                        break attempt;
                    }
                    if ((f & AllocFlags.KSWAPD) != 0) {
                        wakeAllKswapds(order, gfp, ac);
                    }
                    if (first) {
                        // The adjusted alloc_flags might give immediate success: try before anything else.
                        page = gpff(gfp, order, f, ac, task);
                        if (page != PageHandle.NULL) {
                            return got(page, gfp, order);
                        }
                        first = false;
                    }
                    int reserve = AllocFlags.pfmemallocFlags(gfp, task);
                    if (reserve != 0) {
                        f = reserve | (f & (AllocFlags.KSWAPD | AllocFlags.CMA));
                    }
                    if ((f & AllocFlags.CPUSET) == 0 || reserve != 0) {
                        ac.nodemask = -1L; // memory policies can be ignored: system-oriented request
                    }
                    page = gpff(gfp, order, f, ac, task);
                    if (page != PageHandle.NULL) {
                        return got(page, gfp, order);
                    }
                    if (!canDirectReclaim) {
                        break attempt;
                    }
                    if ((task.flags() & Task.PF_MEMALLOC) != 0) {
                        break attempt; // no recursion into reclaim
                    }
                    long[] progress = {0};
                    if (!compactFirst) {
                        page = directReclaim(gfp, order, f, ac, task, progress);
                        if (page != PageHandle.NULL) {
                            return got(page, gfp, order);
                        }
                    }
                    Compactor.Result[] cr = {compactResult};
                    page = directCompact(gfp, order, f, ac, task, compactPriority, cr);
                    compactResult = cr[0];
                    if (page != PageHandle.NULL) {
                        return got(page, gfp, order);
                    }
                    if (compactFirst) {
                        if ((gfp & Gfp.NORETRY) != 0 && (gfp & Gfp.THISNODE) != 0) {
                            break attempt;
                        }
                        if ((gfp & Gfp.NORETRY) == 0) {
                            compactPriority = Compactor.DEF_COMPACT_PRIORITY;
                        }
                        compactFirst = false;
                        continue retry;
                    }
                    if ((gfp & Gfp.NORETRY) != 0) {
                        break attempt;
                    }
                    if (costly && (!canCompact || (gfp & Gfp.RETRY_MAYFAIL) == 0)) {
                        break attempt;
                    }
                    if (checkRetryCpuset(memsCookie, ac, task)) {
                        continue restart;
                    }
                    if (shouldReclaimRetry(gfp, order, ac, f, progress[0], noProgressLoops, task)) {
                        continue retry;
                    }
                    if (progress[0] > 0 && canCompact) {
                        int[] prio = {compactPriority};
                        int[] retries = {compactionRetries};
                        boolean again = shouldCompactRetry(order, compactResult, prio, retries);
                        compactPriority = prio[0];
                        compactionRetries = retries[0];
                        if (again) {
                            continue retry;
                        }
                    }
                    // defrag_mode (drop ALLOC_NOFRAGMENT and retry) is not modelled: memscope has no such sysctl.
                    if (checkRetryCpuset(memsCookie, ac, task)) {
                        continue restart; // avoid an unnecessary OOM kill
                    }
                    boolean[] oomProgress = {false};
                    page = mayOom(gfp, order, ac, task, oomProgress);
                    if (page != PageHandle.NULL) {
                        return got(page, gfp, order);
                    }
                    if (task.isOomVictim() && ((f & AllocFlags.OOM) != 0 || (gfp & Gfp.NOMEMALLOC) != 0)) {
                        break attempt; // victims may fail
                    }
                    if (oomProgress[0]) {
                        noProgressLoops[0] = 0;
                        park();
                        continue retry;
                    }
                }
                // nopage:
                if (checkRetryCpuset(memsCookie, ac, task)) {
                    continue restart;
                }
                if (!nofail || !canDirectReclaim) {
                    return nopageFail(gfp, order, ac, task); // NOFAIL without direct reclaim: v6.12+ fails after the WARN above
                }
                // Reserves for a request that must not fail, but not ALLOC_NO_WATERMARKS: that could
                // deplete the whole reserve.
                page = cpusetFallback(gfp, order, AllocFlags.MIN_RESERVE, ac, task);
                if (page != PageHandle.NULL) {
                    return got(page, gfp, order);
                }
                park(); // cond_resched(); goto retry: counters, priority, flags and nodemask are kept
            }
        }
    }

    /**
     * {@code check_retry_cpuset()}: true (restart) when the caller's nodemask does not intersect the
     * cpuset's mems_allowed (the nodemask is then dropped), or when mems_allowed changed since
     * {@code restart} ({@code read_mems_allowed_retry}). {@code check_retry_zonelist()} never fires:
     * memscope has no memory hotplug, so zonelists never change.
     */
    private static boolean checkRetryCpuset(long memsCookie, AllocContext ac, Task task) {
        long mems = task.memsAllowed();
        if (mems != Task.ALL_NODES && ac.nodemask != -1L && (ac.nodemask & mems) == 0) {
            ac.nodemask = -1L;
            return true;
        }
        return mems != memsCookie;
    }

    private long got(long page, int gfp, int order) {
        PageAllocEvent e = new PageAllocEvent();
        if (e.shouldCommit()) {
            e.pfn = PageHandle.pfn(page);
            e.order = order;
            e.gfp = gfp;
            e.migratetype = MigrateType.gfpMigratetypeIndex(gfp);
            e.commit();
        }
        return page;
    }

    private long nopageFail(int gfp, int order, AllocContext ac, Task task) {
        a.reports.warnAlloc(gfp, order, ac.nodemask, task);
        return PageHandle.NULL;
    }

    private static void park() {
        LockSupport.parkNanos(JIFFY_NANOS);
    }

    /** {@code wake_all_kswapds()}: once per node of the zonelist. */
    private void wakeAllKswapds(int order, int gfp, AllocContext ac) {
        long seen = 0;
        for (Zone z : ac.zonelist) {
            if (z.idx > ac.highestZoneIdx || (ac.nodemask & (1L << z.nid)) == 0 || (seen & (1L << z.nid)) != 0) {
                continue;
            }
            seen |= 1L << z.nid;
            a.kswapd.wakeupKswapd(z, gfp, order, ac.highestZoneIdx);
        }
    }

    /**
     * {@code __alloc_pages_direct_reclaim()}: reclaim, then one freelist attempt; if that fails after
     * progress, release non-forced highatomic reserves, drain the per-CPU lists and try once more.
     */
    private long directReclaim(int gfp, int order, int f, AllocContext ac, Task task, long[] progress) {
        a.vmstat.count(VmItem.allocstall(ac.highestZoneIdx), 1);
        AllocStallEvent ev = new AllocStallEvent();
        ev.begin();
        long reclaimed = a.reclaimer.tryToFreePages(a, gfp, order, ac.nodemask);
        progress[0] = reclaimed;
        if (ev.shouldCommit()) {
            ev.order = order;
            ev.gfp = gfp;
            ev.nrReclaimed = reclaimed;
            ev.commit();
        }
        if (reclaimed == 0) {
            return PageHandle.NULL;
        }
        long page = gpff(gfp, order, f, ac, task);
        if (page == PageHandle.NULL) {
            unreserveHighatomic(ac, false);
            a.drainAllPages();
            page = gpff(gfp, order, f, ac, task);
        }
        return page;
    }

    /**
     * {@code __alloc_pages_direct_compact()}: order 0 never compacts; compaction runs with
     * {@code PF_MEMALLOC} set ({@code memalloc_noreclaim_save()}), so what it allocates (migration
     * targets) uses the reserves and never recurses into reclaim or compaction.
     */
    private long directCompact(int gfp, int order, int f, AllocContext ac, Task task, int prio, Compactor.Result[] result) {
        if (order == 0) {
            return PageHandle.NULL;
        }
        Compactor.Result r;
        int noreclaim = Memalloc.memallocNoreclaimSave();
        try {
            r = a.compactor.tryToCompactPages(a, gfp, order, prio);
        } finally {
            Memalloc.memallocNoreclaimRestore(noreclaim);
        }
        result[0] = r;
        if (r == Compactor.Result.SKIPPED) {
            return PageHandle.NULL;
        }
        a.vmstat.count(VmItem.COMPACT_STALL, 1);
        long page = gpff(gfp, order, f, ac, task);
        a.vmstat.count(page != PageHandle.NULL ? VmItem.COMPACT_SUCCESS : VmItem.COMPACT_FAIL, 1);
        return page;
    }

    /** {@code unreserve_highatomic_pageblock()} over the zonelist. True when something was released. */
    boolean unreserveHighatomic(AllocContext ac, boolean force) {
        for (Zone z : ac.zonelist) {
            if (z.idx > ac.highestZoneIdx || (ac.nodemask & (1L << z.nid)) == 0) {
                continue;
            }
            if (z.unreserveHighatomic(force, ac.migratetype) > 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code should_reclaim_retry()}: progress on a non-costly order resets the loop counter; after
     * more than {@code MAX_RECLAIM_RETRIES} loops without progress, give up; otherwise retry while some
     * zone would pass its min watermark if everything reclaimable were reclaimed. Before giving up,
     * forcibly release highatomic reserves and retry if that freed something.
     */
    boolean shouldReclaimRetry(int gfp, int order, AllocContext ac, int f, long progress, int[] noProgressLoops, Task task) {
        if (progress > 0 && order <= Gfp.PAGE_ALLOC_COSTLY_ORDER) {
            noProgressLoops[0] = 0;
        } else {
            noProgressLoops[0]++;
        }
        boolean ret = false;
        if (noProgressLoops[0] <= MAX_RECLAIM_RETRIES) {
            for (Zone z : ac.zonelist) {
                if (z.idx > ac.highestZoneIdx || (ac.nodemask & (1L << z.nid)) == 0) {
                    continue;
                }
                if ((f & AllocFlags.CPUSET) != 0 && task.memsAllowed() != Task.ALL_NODES
                        && !Freelist.cpusetZoneAllowed(z, gfp, task)) {
                    continue;
                }
                long available = a.reclaimer.zoneReclaimablePages(z) + z.freePages();
                if (a.freelist.zoneWatermarkOk(z, order, z.minWmark(), ac.highestZoneIdx, f, available)) {
                    ret = true;
                    break;
                }
            }
            if ((task.flags() & Task.PF_WQ_WORKER) != 0) {
                park();
            } else {
                CondResched.condResched();
            }
        }
        if (!ret) {
            return unreserveHighatomic(ac, true);
        }
        return true;
    }

    /** {@code should_compact_retry()}. */
    static boolean shouldCompactRetry(int order, Compactor.Result result, int[] priority, int[] retries) {
        if (order == 0) {
            return false;
        }
        if (result == Compactor.Result.SKIPPED) {
            return false; // compaction_zonelist_suitable(): memscope's compactor never has a suitable zone
        }
        if (result == Compactor.Result.SUCCESS) {
            int max = MAX_COMPACT_RETRIES;
            if (order > Gfp.PAGE_ALLOC_COSTLY_ORDER) {
                max /= 4;
            }
            if (++retries[0] <= max) {
                return true;
            }
        }
        int minPriority = order > Gfp.PAGE_ALLOC_COSTLY_ORDER
                ? Compactor.MIN_COMPACT_COSTLY_PRIORITY : Compactor.MIN_COMPACT_PRIORITY;
        if (priority[0] > minPriority) {
            priority[0]--;
            retries[0] = 0;
            return true;
        }
        return false;
    }

    /**
     * {@code __alloc_pages_may_oom()}: last chance at the high watermark, then the OOM killer unless
     * the request is costly, RETRY_MAYFAIL/THISNODE, below ZONE_NORMAL or from PF_DUMPCORE.
     */
    long mayOom(int gfp, int order, AllocContext ac, Task task, boolean[] progress) {
        progress[0] = false;
        if (!a.oomLock.tryLock()) {
            progress[0] = true; // somebody else is killing for us
            park();
            return PageHandle.NULL;
        }
        try {
            long page = gpff((gfp | Gfp.HARDWALL) & ~Gfp.DIRECT_RECLAIM, order,
                    AllocFlags.WMARK_HIGH | AllocFlags.CPUSET, ac, task);
            if (page != PageHandle.NULL) {
                return page;
            }
            if ((task.flags() & Task.PF_DUMPCORE) != 0 || order > Gfp.PAGE_ALLOC_COSTLY_ORDER
                    || (gfp & (Gfp.RETRY_MAYFAIL | Gfp.THISNODE)) != 0
                    || ac.highestZoneIdx < ZoneType.NORMAL.ordinal()) {
                return PageHandle.NULL;
            }
            boolean killed = a.oomKiller.outOfMemory(gfp, order);
            if (!killed && (gfp & Gfp.NOFAIL) != 0 && (gfp & Gfp.NOWARN) == 0) {
                a.log.warnOnce("may_oom:nofail", AllocReports.warning("__alloc_pages_may_oom",
                        "__GFP_NOFAIL request and the OOM killer made no progress", gfp, order));
            }
            if (killed || (gfp & Gfp.NOFAIL) != 0) {
                progress[0] = true;
                if ((gfp & Gfp.NOFAIL) != 0) {
                    page = cpusetFallback(gfp, order, AllocFlags.NO_WATERMARKS, ac, task);
                }
            }
            return page;
        } finally {
            a.oomLock.unlock();
        }
    }

    /** {@code __alloc_pages_cpuset_fallback()}: with ALLOC_CPUSET, then without. */
    private long cpusetFallback(int gfp, int order, int f, AllocContext ac, Task task) {
        long page = gpff(gfp, order, f | AllocFlags.CPUSET, ac, task);
        if (page == PageHandle.NULL) {
            page = gpff(gfp, order, f, ac, task);
        }
        return page;
    }
}
