package io.memscope.page;

import static io.memscope.page.PageTableDescriptor.NIL;

import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.gfp.MigrateType;
import io.memscope.gfp.ZoneType;
import io.memscope.sched.Memalloc;
import io.memscope.sched.Task;
import io.memscope.stat.VmItem;
import io.memscope.stat.VmStat;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The buddy page allocator of one machine: {@code mm/page_alloc.c}'s entry points
 * ({@code alloc_pages}, {@code alloc_pages_node}, {@code __get_free_page}, {@code alloc_pages_exact},
 * {@code __free_pages}), its fast path ({@code __alloc_frozen_pages_noprof},
 * {@code prepare_alloc_pages}, {@code get_page_from_freelist}, {@code rmqueue}) and the free path
 * ({@code free_frozen_pages}).
 *
 * <p><b>Where the rest lives.</b> This class holds the public API and the allocation fast path —
 * the code every request runs — and delegates the rest, one responsibility per class:
 * {@link MemoryLayout} builds nodes, zones, zonelists and watermarks at boot; {@link CpuSlots}
 * deals per-CPU slots to tasks and takes their locks; {@link FreePath} checks and returns freed
 * blocks; {@link Freelist} is the first attempt's zone walk, {@code rmqueue} and
 * {@code prep_new_page}; {@link ExactAlloc} is {@code alloc_pages_exact}/{@code free_pages_exact};
 * {@link BlockAccess} turns handles into memory. The slow path is {@link SlowPath}; checks of the
 * calling context are {@link MightAlloc}; reports are {@link AllocReports}; debug checks
 * {@link PageDebug}; the books {@link Validator}; the buddy lists themselves {@link Zone} and
 * {@link FreeArea}; the per-CPU lists {@link PerCpuPages}.
 *
 * <p><b>Memory.</b> One contiguous off-heap region, a {@link MemfdRegion} (a {@code memfd} mapped
 * whole, so that {@link #region()} can map any set of frames a second time for vmalloc; an
 * {@code Arena.ofShared()} block where memfd is unavailable), holds every page frame; page frame {@code pfn} is bytes {@code [pfn << 12, (pfn + 1) << 12)}. Metadata is
 * the {@link PageTable} (32 bytes per page). Nodes own contiguous pfn ranges; inside a node the
 * zones follow in index order (DMA, DMA32, Normal, Movable).
 *
 * <p><b>Handles.</b> Allocation returns a {@link PageHandle} ({@code long}; {@link PageHandle#NULL}
 * on failure, the kernel's NULL). {@link #segment(long)} turns it into a {@code MemorySegment};
 * {@link #address(long)} gives its offset without creating an object.
 *
 * <p><b>Zero garbage.</b> An order-0 allocation and free that hit the per-CPU list create no Java
 * object: the context is primitives, the zonelist a prebuilt array, the slot lock a CAS.
 *
 * <p><b>Thread-safety.</b> Every public method may be called from any thread. The owner of an
 * allocated block must hand its handle to another thread with a happens-before edge (a queue, a
 * lock) before that thread uses or frees it, as with any memory.
 */
public final class PageAllocator implements AutoCloseable {
    final PageAllocConfig cfg;
    final KernelLog log;
    final VmStat vmstat;
    final PageTable pt;
    /** The frames: a memfd mapping (so vmalloc can map any set of them contiguously) or an arena. */
    private final MemfdRegion region;
    final MemorySegment memory;
    final int pages;
    final int nSlots;
    /** {@code [nid][zoneIdx]}. */
    final Zone[][] nodeZones;
    /** Populated zones, node by node, lowest index first. */
    final Zone[] zones;
    /** ZONELIST_FALLBACK per node: local node first, then the others; each node's zones highest first. */
    final Zone[][] fallbackList;
    /** ZONELIST_NOFALLBACK per node (__GFP_THISNODE). */
    final Zone[][] noFallbackList;
    /** First pfn of each of {@link #zones}, ascending: {@link #zoneOf} searches it. */
    private final int[] zoneStarts;
    /** The zone {@link #zoneOf} tries first: the largest (on one node, where most pages are). */
    private final Zone likelyZone;
    /** Slot dealing, slot locks, drains. */
    final CpuSlots slots;
    /** The free path. */
    final FreePath free;
    /** The first attempt's zone walk, {@code rmqueue} and {@code prep_new_page}. */
    final Freelist freelist;
    private final ExactAlloc exact;
    private final BlockAccess access;
    final AllocFaultHook faultHook;
    final KswapdWaker kswapd;
    final DirectReclaimer reclaimer;
    final OomKiller oomKiller;
    final Compactor compactor;
    /** {@code oom_lock}. */
    final ReentrantLock oomLock = new ReentrantLock();
    final MightAlloc mightAlloc;
    final AllocReports reports;
    /** {@code bad_page()}: the check at the last reference and its report. */
    final BadPage badPage;
    final SlowPath slow;
    final PageDebug debug;
    final int minFreeKbytes;
    /** One node: the preferred node is always 0, no slot lookup needed to find it. */
    private final boolean singleNode;
    /** {@code cfg.initOnAlloc()}: closes the fast lane. */
    private final boolean initOnAlloc;
    /** The boot layout; its {@code nofragmentFlags} are read on every allocation. */
    private final MemoryLayout layout;
    private final int[] nofragmentFlags;
    private volatile boolean closed;
    /** The mask bits that keep a request out of {@link #allocLane}: zone modifiers but __GFP_MOVABLE, and THISNODE. */
    private static final int LANE_EXCLUDED = Gfp.DMA | Gfp.HIGHMEM | Gfp.DMA32 | Gfp.THISNODE;
    /** Machine-level conditions of {@link #allocLane}; see there. Changes only with {@link #setFsReclaim}. */
    private boolean laneOpen;
    /** Per gfp migratetype (unmovable, reclaimable, movable): the zone the general path tries first, or null. */
    private final Zone[] laneZone = new Zone[3];
    /** Per gfp migratetype: {@code gfp_zone()} of such a request. */
    private final int[] laneHighest = new int[3];
    /**
     * Per gfp migratetype: {@code low_wmark_pages(zone) + zone->lowmem_reserve[highest]} of
     * {@link #laneZone}, the order-0 shortcut's bound. Watermarks and reserves are fixed at boot
     * ({@link MemoryLayout}); were they made tunable at run time, this must be recomputed with them.
     */
    private final long[] laneMark = new long[3];
    /** Per gfp migratetype: the first attempt's alloc flags but ALLOC_KSWAPD (WMARK_LOW, ALLOC_CMA, ALLOC_NOFRAGMENT). */
    private final int[] laneFlags = new int[3];

    /** Hooks the higher layers implement; nulls mean the defaults. */
    public record Hooks(AllocFaultHook fault, KswapdWaker kswapd, DirectReclaimer reclaimer, OomKiller oom,
                        Compactor compactor) {
        /** All defaults. */
        public static Hooks defaults() {
            return new Hooks(null, null, null, null, null);
        }
    }

    /** Builds the machine's memory: allocates the region, the page table, zones, watermarks and pcp lists. */
    public PageAllocator(PageAllocConfig cfg, KernelLog log, VmStat vmstat, Hooks hooks) {
        this.cfg = cfg;
        this.log = log;
        this.vmstat = vmstat;
        this.pages = (int) cfg.totalPages();
        this.nSlots = cfg.cpuSlots();
        this.faultHook = hooks.fault() != null ? hooks.fault() : AllocFaultHook.NEVER;
        this.kswapd = hooks.kswapd() != null ? hooks.kswapd() : KswapdWaker.NONE;
        this.reclaimer = hooks.reclaimer() != null ? hooks.reclaimer() : DirectReclaimer.DRAIN_ONLY;
        this.oomKiller = hooks.oom() != null ? hooks.oom() : OomKiller.NOTHING_TO_KILL;
        this.compactor = hooks.compactor() != null ? hooks.compactor() : Compactor.COUNTED_NO_OP;
        this.pt = new PageTable(pages);
        this.region = MemfdRegion.create((long) pages << PageAllocConfig.PAGE_SHIFT);
        this.memory = region.directMap();
        this.layout = new MemoryLayout(cfg, pt, nSlots);
        this.nodeZones = layout.nodeZones;
        this.zones = layout.zones;
        this.fallbackList = layout.fallbackList;
        this.noFallbackList = layout.noFallbackList;
        this.zoneStarts = layout.zoneStarts;
        this.likelyZone = layout.largestZone;
        this.minFreeKbytes = layout.minFreeKbytes;
        this.nofragmentFlags = layout.nofragmentFlags;
        this.singleNode = cfg.nodes() == 1;
        this.initOnAlloc = cfg.initOnAlloc();
        this.slots = new CpuSlots(this, nSlots, cfg.nodes(), zones);
        this.free = new FreePath(this, slots);
        this.exact = new ExactAlloc(this, free);
        this.access = new BlockAccess(this, memory);
        this.mightAlloc = new MightAlloc(this);
        this.reports = new AllocReports(this);
        this.badPage = new BadPage(this);
        this.slow = new SlowPath(this);
        this.debug = cfg.debug() ? new PageDebug(this) : null;
        this.freelist = new Freelist(this, slots);
        vmstat.addSource(this::addCounters);
        for (int mt = 0; mt < 3; mt++) {
            int gfp = mt << 3; // __GFP_MOVABLE / __GFP_RECLAIMABLE alone
            int highest = ZoneType.forGfp(gfp).ordinal();
            laneHighest[mt] = highest;
            laneZone[mt] = firstZone(fallbackList[0], highest, -1L);
            if (laneZone[mt] != null) {
                laneMark[mt] = laneZone[mt].watermark[AllocFlags.WMARK_LOW] + laneZone[mt].lowmemReserve[highest];
            }
            laneFlags[mt] = AllocFlags.WMARK_LOW | (mt == MigrateType.MOVABLE.ordinal() ? AllocFlags.CMA : 0)
                    | nofragmentFlags[highest];
        }
        setFsReclaim(null);
    }

    /**
     * Attaches the machine's {@code fs_reclaim} lockdep annotation: from now on every allocation runs
     * {@code fs_reclaim_acquire/release(gfp)} in {@code might_alloc()} (see {@link MightAlloc}).
     * Call once while assembling the machine, before allocating; null detaches.
     */
    public void setFsReclaim(io.memscope.locking.FsReclaim fsReclaim) {
        // With lockdep off the annotation never does anything: keep the fast path's test a null check.
        mightAlloc.fsReclaim = fsReclaim != null && fsReclaim.enabled() ? fsReclaim : null;
        laneOpen = singleNode && debug == null && !initOnAlloc && faultHook == AllocFaultHook.NEVER
                && mightAlloc.fsReclaim == null;
    }

    // =================================================================== entry points

    /**
     * {@code alloc_pages(gfp, order)}: {@code 1 << order} contiguous pages from the calling slot's
     * node. May sleep (direct reclaim) iff {@code gfp} has __GFP_DIRECT_RECLAIM. Returns
     * {@link PageHandle#NULL} on failure, as the kernel returns NULL; honours every GFP flag
     * (zone modifiers, watermark and reclaim modifiers, THISNODE, HARDWALL, ZERO, COMP, NOWARN).
     */
    public long allocPages(int gfp, int order) {
        Task task = Task.current();
        if (laneOpen && order <= Gfp.PAGE_ALLOC_COSTLY_ORDER) {
            long h = allocLane(task, gfp, order);
            if (h != PageHandle.NULL) {
                return h;
            }
        }
        // The preferred node is the calling "CPU"'s; with one node there is nothing to look up.
        return allocInternal(task, singleNode ? 0 : slots.slotNode(slots.slotOf(task)), gfp, order, -1L);
    }

    /**
     * The first attempt of {@code __alloc_frozen_pages_noprof()} ({@code prepare_alloc_pages()} and
     * one pass of {@code get_page_from_freelist()}) for the requests most callers make, with every
     * decision that cannot vary for them taken at boot. The lane applies when the machine has one
     * node, no debug checks, no {@code init_on_alloc}, no fault injection, no {@code fs_reclaim}
     * annotation and no allocation observer ({@link #laneOpen}); the order is one the per-CPU lists
     * hold; the task is in plain process context with no cpuset; and the mask, after the task's
     * scopes ({@code current_gfp_context}), names no zone modifier other than __GFP_MOVABLE
     * alone and no __GFP_THISNODE. For such a request the general path would pick zone
     * {@link #laneZone}{@code [mt]} first with the flags {@link #laneFlags}{@code [mt]} (plus
     * ALLOC_KSWAPD); this does the same watermark check and {@code rmqueue} on that zone and nothing
     * else. NULL means "not here": the caller runs the general path from its beginning, which makes
     * the same checks again (they have no side effects) and goes on to the next zone, the buddy or
     * the slow path exactly as the kernel does.
     */
    private long allocLane(Task task, int gfp, int order) {
        if (observer != null || !task.plainProcessContext()) {
            return PageHandle.NULL;
        }
        gfp = Memalloc.gfpContext(task.flags(), gfp & Gfp.BITS_MASK);
        int mt = MigrateType.gfpMigratetypeIndex(gfp);
        if ((gfp & LANE_EXCLUDED) != 0 || mt > MigrateType.MOVABLE.ordinal()) {
            return PageHandle.NULL;
        }
        Zone zone = laneZone[mt];
        if (zone == null) {
            return PageHandle.NULL;
        }
        int allocFlags = laneFlags[mt] | (gfp & Gfp.KSWAPD_RECLAIM);
        // zone_watermark_fast(): the order-0 shortcut against the precomputed low mark + lowmem_reserve,
        // then the full check (the highatomic reserve is unusable without ALLOC_RESERVES).
        long free = zone.freePages();
        if (order != 0 || free - Math.min(free, zone.nrFreeHighatomic) <= laneMark[mt]) {
            if (!freelist.zoneWatermarkOk(zone, order, zone.watermark[AllocFlags.WMARK_LOW], laneHighest[mt], allocFlags, free)) {
                return PageHandle.NULL;
            }
        }
        // The per-CPU half of rmqueue() only: a busy slot or an empty buddy is left to the general
        // path, which calls rmqueue() whole. Calling it here (its buddy fallback inlined into the
        // lane) measured about 1 ns slower per allocation in alternating 3-fork runs.
        PerCpuPages pcp = slots.lockSlot(zone, task);
        if (pcp == null) {
            return PageHandle.NULL;
        }
        int pfn;
        try {
            pfn = pcp.rmqueue(order, mt, allocFlags);
        } finally {
            pcp.unlock();
        }
        return pfn == NIL ? PageHandle.NULL : freelist.prepNewPage(pfn, order, gfp, mt);
    }

    /** {@code alloc_pages_node(nid, gfp, order)}: like {@link #allocPages} with {@code nid} as preferred node. */
    public long allocPagesNode(int nid, int gfp, int order) {
        if (nid < 0 || nid >= nodeZones.length) {
            throw new IllegalArgumentException("node id must be 0.." + (nodeZones.length - 1) + ", found " + nid);
        }
        return allocInternal(Task.current(), nid, gfp, order, -1L);
    }

    /** {@code __get_free_page(gfp)}: one page ({@code __get_free_pages(gfp, 0)}); NULL on failure. */
    public long getFreePage(int gfp) {
        return allocPages(gfp, 0);
    }

    /** Like {@link #allocPages} but throws {@link PageAllocationFailedException} instead of returning NULL. */
    public long allocPagesOrThrow(int gfp, int order) {
        long h = allocPages(gfp, order);
        if (h == PageHandle.NULL) {
            throw new PageAllocationFailedException("page allocation failure: order:" + order + ", mode:"
                    + AllocReports.gfpReport(gfp) + " (expected a block, found none)");
        }
        return h;
    }

    /**
     * {@code alloc_pages_exact(size, gfp)}: {@code ceil(size / 4096)} pages allocated as an order
     * {@code get_order(size)} block that is split ({@code split_page}) with the unused tail freed.
     * Returns the order-0 handle of the first page; free with {@link #freePagesExact}. __GFP_COMP is
     * not allowed (the kernel WARNs and clears it).
     */
    public long allocPagesExact(long size, int gfp) {
        return exact.allocPagesExact(size, gfp);
    }

    /**
     * {@code free_pages_exact(addr, size)}: frees the pages of an {@link #allocPagesExact} allocation.
     * Every page is checked before any is freed: misuse throws as {@link #freePages(long, int)} does,
     * and a page that would be freed while bad ({@code bad_page}) throws {@link BadPageStateException}.
     */
    public void freePagesExact(long handle, long size) {
        exact.freePagesExact(handle, size);
    }

    /** {@code get_order(size)}. */
    public static int getOrder(long size) {
        long pagesNeeded = (size + PageAllocConfig.PAGE_SIZE - 1) >>> PageAllocConfig.PAGE_SHIFT;
        return pagesNeeded <= 1 ? 0 : 64 - Long.numberOfLeadingZeros(pagesNeeded - 1);
    }

    // =================================================================== fast path

    /** {@code __alloc_frozen_pages_noprof()} + {@code prepare_alloc_pages()}. */
    long allocInternal(Task task, int preferredNid, int gfp, int order, long nodemask) {
        AllocObserver obs = observer;
        if (obs != null) {
            return allocObserved(obs, task, preferredNid, gfp, order, nodemask);
        }
        return allocTimed(task, preferredNid, gfp, order, nodemask);
    }

    /** {@link #allocInternal} with the observer told; a method of its own so the common path stays small. */
    private long allocObserved(AllocObserver obs, Task task, int preferredNid, int gfp, int order, long nodemask) {
        long t0 = System.nanoTime();
        long h = allocTimed(task, preferredNid, gfp, order, nodemask);
        obs.allocated(io.memscope.sched.Memalloc.currentGfpContext(gfp), order, System.nanoTime() - t0,
                h != PageHandle.NULL);
        return h;
    }

    /**
     * Sees every allocation with its mask and latency, for latency reports (the {@code memscope run}
     * demo). Null (the default) costs one predictable branch per allocation. Must be fast and must
     * not allocate from this machine.
     */
    @FunctionalInterface
    public interface AllocObserver {
        /** One allocation of {@code order} with its effective mask (after the caller's scopes), taking {@code nanos}. */
        void allocated(int gfp, int order, long nanos, boolean success);
    }

    private volatile AllocObserver observer;

    /** Installs (or, with null, removes) the allocation observer. */
    public void setAllocObserver(AllocObserver o) {
        this.observer = o;
    }

    private long allocTimed(Task task, int preferredNid, int gfp, int order, long nodemask) {
        if (order > Gfp.MAX_PAGE_ORDER) {
            return orderTooLarge(gfp, order);
        }
        gfp &= Gfp.BITS_MASK; // gfp_allowed_mask after boot
        gfp = Memalloc.gfpContext(task.flags(), gfp);
        ZoneType zt = ZoneType.forGfp(gfp);
        if (zt == ZoneType.BAD) {
            throw AllocReports.badZoneMask(gfp);
        }
        int highest = zt.ordinal();
        int mt = MigrateType.gfpMigratetypeIndex(gfp);
        if (mt > MigrateType.RECLAIMABLE.ordinal()) {
            throw AllocReports.badMigratetypeMask(gfp);
        }
        int thisNode = (gfp & Gfp.THISNODE) != 0 ? 1 : 0;
        Zone[] zl = thisNode != 0 ? noFallbackList[preferredNid] : fallbackList[preferredNid];
        if (!mightAlloc.check(gfp, task)) {
            return PageHandle.NULL; // refused context (NMI, PREEMPT_RT atomic); reported
        }
        if (faultHook.shouldFailAllocPage(gfp, order)) {
            return PageHandle.NULL;
        }
        int allocFlags = AllocFlags.WMARK_LOW | (gfp & Gfp.KSWAPD_RECLAIM)
                | (mt == MigrateType.MOVABLE.ordinal() ? AllocFlags.CMA : 0);
        long h;
        if (nodemask == -1L && task.memsAllowed() == Task.ALL_NODES) {
            // No nodemask and no cpuset: the common case, kept small enough to be inlined whole.
            allocFlags |= nofragmentFlags[(preferredNid << 1 | thisNode) * ZoneType.COUNT + highest];
            h = freelist.getPageFromFreelist(gfp, order, allocFlags, zl, highest, -1L, mt, task);
        } else {
            h = allocRestricted(task, gfp, order, allocFlags, zl, highest, nodemask, mt);
        }
        if (h != PageHandle.NULL) {
            return h;
        }
        return slow.allocSlowpath(gfp, order, new SlowPath.AllocContext(preferredNid, zl, highest, nodemask, mt), task);
    }

    /**
     * The first attempt under a caller's nodemask or the task's cpuset ({@code prepare_alloc_pages}
     * with {@code cpusets_enabled()}): __GFP_HARDWALL, and the task's mems_allowed as the nodemask
     * in task context or ALLOC_CPUSET otherwise (an interrupt uses any node).
     */
    private long allocRestricted(Task task, int gfp, int order, int allocFlags, Zone[] zl, int highest, long nodemask,
                                 int mt) {
        int allocGfp = gfp;
        long mask = nodemask;
        if (task.memsAllowed() != Task.ALL_NODES) { // cpusets_enabled()
            allocGfp |= Gfp.HARDWALL;
            if (task.inTask() && mask == -1L) {
                mask = task.memsAllowed();
            } else {
                allocFlags |= AllocFlags.CPUSET;
            }
        }
        allocFlags |= layout.nofragment(zl, highest, mask);
        return freelist.getPageFromFreelist(allocGfp, order, allocFlags, zl, highest, mask, mt, task);
    }

    /** WARN_ON_ONCE_GFP for an order above MAX_PAGE_ORDER (silent with __GFP_NOWARN); NULL. Off the fast path. */
    private long orderTooLarge(int gfp, int order) {
        if ((gfp & Gfp.NOWARN) == 0) {
            log.warnOnce("alloc_pages:order", AllocReports.orderTooLarge(order, gfp));
        }
        return PageHandle.NULL;
    }

    /** {@code first_zones_zonelist()}: the first zone within highest and nodemask, or null. */
    static Zone firstZone(Zone[] zl, int highest, long mask) {
        return MemoryLayout.firstZone(zl, highest, mask);
    }

    // =================================================================== free path

    /** {@code __free_pages(page, order)} with the order taken from the handle. */
    public void freePages(long handle) {
        freePages(handle, PageHandle.order(handle));
    }

    /**
     * {@code __free_pages(page, order)}: drops the caller's reference to a block and frees it when
     * that was the last one ({@code put_page_testzero}). A block freshly allocated has one
     * reference, so for the common caller this returns the block. If another holder took a
     * reference with {@link #getPage}, a compound ({@code __GFP_COMP}) block is freed by that
     * holder's last {@link #putPage}; a non-compound block keeps its first page for the holder and
     * frees the rest now, as the kernel does. When the last reference goes, the head must be clean
     * ({@code free_pages_prepare}): no mapping and none of {@code PAGE_FLAGS_CHECK_AT_FREE}, else
     * {@code BUG: Bad page state} is reported and {@link BadPageStateException} thrown.
     *
     * <p>Never sleeps. Misuse is detected before the books change and raised as a named exception:
     * {@link DoubleFreeException}, {@link NotAllocatedFreeException}, {@link ForeignPageFreeException},
     * {@link WrongOrderFreeException}, {@link TailPageFreeException}, {@link StaleHandleException},
     * {@link BadPageStateException} (a frozen count, or a bad page at the last reference).
     */
    public void freePages(long handle, int order) {
        free.freePages(handle, order);
    }

    /**
     * {@code free_frozen_pages()}: frees a block whose reference count its last holder already took
     * to 0 — a page-cache page after {@code folio_put}'s last reference or a successful
     * {@code folio_ref_freeze}. The same checks as {@link #freePages(long, int)}; a count other than
     * 0 is a bad page ("nonzero _refcount"). Never sleeps.
     */
    public void freeFrozenPages(long handle, int order) {
        free.freeFrozenPages(handle, order);
    }

    /**
     * {@code get_page()}: takes one more reference on a live block for a second holder, who drops it
     * with {@link #putPage}. The block stays allocated until every reference is gone.
     *
     * @throws StaleHandleException if the block is not live under this handle
     * @throws BadPageStateException if its count is frozen at 0 (its last holder is freeing it)
     */
    public void getPage(long handle) {
        free.getPage(handle);
    }

    /**
     * {@code put_page()}: drops one reference; the last one frees the block (after the same
     * {@code free_pages_prepare} check as {@link #freePages(long, int)}). Never sleeps.
     *
     * @throws StaleHandleException if the block is not live under this handle
     */
    public void putPage(long handle) {
        free.putPage(handle);
    }

    /** Returns a checked block to the pcp list or the buddy; the debug quarantine's way out. See {@link FreePath}. */
    void releaseBlock(int pfn, int order, boolean bumpGen) {
        free.releaseBlock(pfn, order, bumpGen);
    }

    /**
     * {@code drain_all_pages(NULL)}: returns every page on every per-CPU list of every zone to the
     * buddy. Waits for each slot's lock (see {@link PerCpuPages#lockSpin()}: spins, then yields).
     * Returns the number of pages drained.
     */
    public long drainAllPages() {
        return slots.drainAll();
    }

    /**
     * What the default reclaimer can give back: the per-CPU lists and the debug quarantine.
     * Returns the pages returned to the buddy.
     */
    public long reclaimCaches() {
        long n = debug != null ? debug.flushQuarantine() : 0;
        return n + drainAllPages();
    }

    // =================================================================== memory access

    /**
     * The memory of an allocated block as a segment of {@code 4096 << order} bytes. Creates one small
     * object; use {@link #address(long)} with {@link #memory()} on hot paths. Throws
     * {@link StaleHandleException} when the handle's block is no longer allocated to it.
     */
    public MemorySegment segment(long handle) {
        return access.segment(handle);
    }

    /** Byte offset of the block in {@link #memory()}; checks the handle like {@link #segment(long)}. */
    public long address(long handle) {
        return access.address(handle);
    }

    /** The machine's whole memory region. */
    public MemorySegment memory() {
        return memory;
    }

    /** The physical memory behind {@link #memory()}: its backing, and {@code vmap} of any frames. */
    public MemfdRegion region() {
        return region;
    }

    // =================================================================== topology helpers

    /**
     * Metadata whose size grows with memory, in bytes: the page table alone, 32 bytes per page.
     * It holds everything per page and per pageblock, the pageblock migratetypes included (the
     * kernel's separate {@code pageblock_flags} bitmap; see {@link PageTableDescriptor}). A page's
     * zone is found from the zones' pfn ranges ({@link #zoneOf}), not stored. Fixed-size
     * structures (zones, free-list heads, per-CPU lists) are not counted; they do not depend on
     * the memory size.
     */
    public long metadataBytes() {
        return pt.bytes();
    }

    /**
     * The zone holding {@code pfn} ({@code page_zone()}). Zones are contiguous pfn ranges that
     * cover the machine, so the zone is found from their bounds rather than stored per page: first
     * the largest zone (one compare on the free path of a one-node machine), else a binary search
     * of {@link #zoneStarts}.
     *
     * @throws IndexOutOfBoundsException when {@code pfn} is outside the machine
     */
    public Zone zoneOf(int pfn) {
        Zone z = likelyZone;
        if (Integer.compareUnsigned(pfn - z.startPfn, z.pages) < 0) {
            return z;
        }
        return zoneOfSearch(Objects.checkIndex(pfn, pages));
    }

    private Zone zoneOfSearch(int pfn) {
        int[] st = zoneStarts;
        int lo = 0;
        int hi = st.length - 1;
        while (lo < hi) { // the last zone starting at or below pfn
            int mid = (lo + hi + 1) >>> 1;
            if (st[mid] <= pfn) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return zones[lo];
    }

    /** The slot of the calling task on this machine ({@code smp_processor_id()}): dealt on first use, moved on contention. */
    int currentSlot() {
        return slots.slotOf(Task.current());
    }

    /**
     * {@code smp_processor_id()} for allocators built on this one (slab, vmalloc): the slot of
     * {@code t} on this machine, dealt on first use. Saves nothing across machines.
     */
    public int cpuSlot(Task t) {
        return slots.slotOf(t);
    }

    /** The node a slot belongs to (slots are spread round-robin over nodes). */
    public int slotNode(int slot) {
        return slots.slotNode(slot);
    }

    /**
     * {@code might_alloc(gfp)} for allocators built on this one: the {@code fs_reclaim} lockdep
     * annotation, the NMI and PREEMPT_RT refusals and the sleep-in-atomic report, exactly as an
     * allocation from this allocator runs them. False when the context is refused (reported).
     */
    public boolean mightAlloc(int gfp, Task t) {
        return mightAlloc.check(gfp, t);
    }

    /** The PREEMPT_RT rule for frees (no free under a raw spinlock or in hard IRQ/NMI); false when refused (reported). */
    public boolean mightFree(Task t) {
        return !cfg.preemptRt() || mightAlloc.checkFree(t);
    }

    /** The page table. */
    public PageTable pageTable() {
        return pt;
    }

    /** Populated zones, node by node. */
    public Zone[] zones() {
        return zones.clone();
    }

    /** Zone {@code type} of node {@code nid} (possibly empty). */
    public Zone zone(int nid, ZoneType type) {
        return nodeZones[nid][type.ordinal()];
    }

    /** The fallback zonelist of node {@code nid}, in the order the allocator tries zones. */
    public Zone[] zonelist(int nid, boolean thisNode) {
        return (thisNode ? noFallbackList[nid] : fallbackList[nid]).clone();
    }

    /** Number of nodes. */
    public int nodes() {
        return nodeZones.length;
    }

    /** Total page frames. */
    public int totalPages() {
        return pages;
    }

    /** The effective {@code min_free_kbytes}. */
    public int minFreeKbytes() {
        return minFreeKbytes;
    }

    /** The configuration. */
    public PageAllocConfig config() {
        return cfg;
    }

    /** The reports (warn_alloc, show_mem, buddyinfo, meminfo). */
    public AllocReports reports() {
        return reports;
    }

    /** Pages currently on per-CPU lists of {@code zone} (racy). */
    long pcpPages(Zone zone) {
        return CpuSlots.pcpPages(zone);
    }

    private void addCounters(long[] v) {
        long pgfree = 0;
        for (Zone z : zones) {
            long alloc = z.buddyPgalloc;
            pgfree += z.buddyPgfree;
            for (PerCpuPages p : z.pcp) {
                alloc += p.pgallocRacy();
                pgfree += p.pgfreeRacy();
            }
            v[VmItem.pgalloc(z.idx).ordinal()] += alloc;
            v[VmItem.NR_FREE_PAGES.ordinal()] += z.freePages();
        }
        v[VmItem.PGFREE.ordinal()] += pgfree;
    }

    /** Validates the books ({@link Validator}); returns the error count, each error logged. */
    public int validate() {
        return new Validator(this).run();
    }

    /** Pages currently allocated (heads in state ALLOC, by order) plus quarantined pages. */
    public long allocatedPages() {
        return new Validator(this).countAllocated();
    }

    /** True after {@link #close()}. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Releases the memory region. Throws {@link PageLeakException} (after releasing) when pages are
     * still allocated, with their count and, in debug mode, the top allocation sites.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (debug != null) {
            debug.flushQuarantine();
        }
        long live = new Validator(this).countAllocated();
        String sites = debug != null ? debug.topAllocationSites(5) : "";
        region.close();
        if (live > 0) {
            throw new PageLeakException("close: expected 0 allocated pages, found " + live
                    + (sites.isEmpty() ? " (enable debug mode for allocation sites)" : "; top allocation sites:\n" + sites));
        }
    }
}
