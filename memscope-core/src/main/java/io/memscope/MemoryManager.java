package io.memscope;

import io.memscope.debug.FailPageAlloc;
import io.memscope.debug.KernelLog;
import io.memscope.locking.Lockdep;
import io.memscope.page.AllocFaultHook;
import io.memscope.page.Compactor;
import io.memscope.page.DirectReclaimer;
import io.memscope.page.KswapdWaker;
import io.memscope.page.OomKiller;
import io.memscope.page.PageAllocConfig;
import io.memscope.page.PageAllocator;
import io.memscope.page.PageWaitTable;
import io.memscope.page.Watermarks;
import io.memscope.reclaim.FileOwner;
import io.memscope.reclaim.Lru;
import io.memscope.reclaim.Reclaim;
import io.memscope.reclaim.Shrinkers;
import io.memscope.stat.VmStat;
import java.lang.foreign.MemorySegment;

/**
 * One memscope "machine": its memory, page allocator, kernel log and counters, assembled from a
 * {@link Builder}. There are no global singletons besides the per-thread {@code Task}, so a test can
 * build many independent machines.
 *
 * <p>The page allocator's entry points are forwarded here ({@link #allocPages}, {@link #freePages},
 * ...); {@link #pages()} gives the allocator itself for everything else. {@link #close()} releases
 * the memory and throws {@code PageLeakException} if pages are still allocated.
 */
public final class MemoryManager implements AutoCloseable {
    private final KernelLog log;
    private final VmStat vmstat;
    private final PageAllocator pages;
    /** {@code fail_page_alloc} of this machine, or null when the builder did not ask for it. */
    private final FailPageAlloc failPageAlloc;
    // ---- reclaim wiring (rcore) ----
    private final Lockdep lockdep;
    private final Reclaim reclaim;
    /** {@code failslab} of this machine, or null when the builder did not ask for it. */
    private final io.memscope.debug.Failslab failslab;
    private final io.memscope.slab.Slab slab;
    private final io.memscope.vmalloc.Vmalloc vmalloc;

    private MemoryManager(Builder b) {
        this.log = new KernelLog(b.logCapacity, b.panicOnWarn);
        this.vmstat = new VmStat();
        long[][] layout = b.zonePages != null ? b.zonePages : PageAllocConfig.defaultLayout(b.memoryBytes, b.nodes);
        int quarantine = b.quarantinePages >= 0 ? b.quarantinePages : (b.debug ? 256 : 0);
        PageAllocConfig cfg = new PageAllocConfig(layout, b.cpuSlots, b.minFreeKbytes, b.watermarkScaleFactor,
                b.lowmemReserveRatio, b.debug, quarantine, b.preemptRt, b.initOnAlloc);
        // ---- reclaim wiring (rcore): the allocator's hooks call the reclaim subsystem, which needs
        // the allocator, so they read the field late (no allocation happens before it is set).
        this.lockdep = new Lockdep(b.lockdepOptions, log);
        KswapdWaker waker = b.kswapdWaker != null ? b.kswapdWaker
                : (zone, gfp, order, idx) -> reclaim().wakeupKswapd(zone, gfp, order, idx);
        DirectReclaimer reclaimer = b.reclaimer != null ? b.reclaimer
                : (a, gfp, order, nodemask) -> reclaim().directReclaimer().tryToFreePages(a, gfp, order, nodemask);
        OomKiller oom = b.oomKiller != null ? b.oomKiller : (gfp, order) -> reclaim().oomKiller().outOfMemory(gfp, order);
        if (b.reclaimer == null) {
            reclaimer = new ReclaimableDirectReclaimer(reclaimer, this);
        }
        AllocFaultHook fault = b.faultHook;
        if (b.failPageAllocKnobs != null) {
            if (fault != null) {
                throw new IllegalArgumentException("fault injection: expected either faultHook(...) or failPageAlloc(...), "
                        + "found both");
            }
            this.failPageAlloc = new FailPageAlloc(log, b.failPageAllocSeed);
            b.failPageAllocKnobs.accept(failPageAlloc);
            fault = failPageAlloc::shouldFailAllocPage; // should_fail_alloc_page() in prepare_alloc_pages()
        } else {
            this.failPageAlloc = null;
        }
        this.pages = new PageAllocator(cfg, log, vmstat,
                new PageAllocator.Hooks(fault, waker, reclaimer, oom, b.compactor));
        this.pages.setFsReclaim(lockdep.fsReclaim());
        this.reclaim = new Reclaim(pages, log, vmstat, lockdep, b.reclaimOptions);
        if (b.fileOwner != null) {
            reclaim.setFileOwner(b.fileOwner);
        }
        if (b.failslabKnobs != null) {
            this.failslab = new io.memscope.debug.Failslab(log, b.failslabSeed);
            b.failslabKnobs.accept(failslab);
        } else {
            this.failslab = null;
        }
        this.slab = new io.memscope.slab.Slab(pages, log, failslab, b.debug);
        reclaim.shrinkers().register("slab", slab.shrinkerCallbacks());
        this.vmalloc = new io.memscope.vmalloc.Vmalloc(pages, slab, log, lockdep, b.legacyVmallocGfp);
    }

    /**
     * The machine's vmalloc and kvmalloc: virtually contiguous areas from order-0 pages. See
     * {@link io.memscope.vmalloc.Vmalloc}.
     */
    public io.memscope.vmalloc.Vmalloc vmalloc() {
        return vmalloc;
    }

    /**
     * The machine's slab layer: {@code kmalloc}, {@code kfree}, {@code kmem_cache_create} and
     * {@code /proc/slabinfo}. See {@link io.memscope.slab.Slab}.
     */
    public io.memscope.slab.Slab slab() {
        return slab;
    }

    /** {@code kmalloc(size, gfp)}; see {@link io.memscope.slab.Slab#kmalloc}. */
    public long kmalloc(long size, int gfp) {
        return slab.kmalloc(size, gfp);
    }

    /** {@code kfree(obj)}; see {@link io.memscope.slab.Slab#kfree}. */
    public void kfree(long obj) {
        slab.kfree(obj);
    }

    /**
     * The machine's {@code failslab} (its knobs: {@link io.memscope.debug.Failslab#attr()}).
     *
     * @throws IllegalStateException the machine was built without {@link Builder#failslab(long)}
     */
    public io.memscope.debug.Failslab failslab() {
        if (failslab == null) {
            throw new IllegalStateException("failslab: expected a machine built with failslab(seed), found none");
        }
        return failslab;
    }

    /**
     * The machine's {@code fail_page_alloc} (its knobs: {@link FailPageAlloc#attr()} for probability,
     * interval, times, space, verbose; {@code min-order}, {@code ignore-gfp-wait},
     * {@code ignore-gfp-highmem} on the object itself). Knobs may be changed at any time, as debugfs
     * writes can. Throws {@link IllegalStateException} when the machine was built without
     * {@link Builder#failPageAlloc(long)}.
     */
    public FailPageAlloc failPageAlloc() {
        if (failPageAlloc == null) {
            throw new IllegalStateException("fail_page_alloc: expected a machine built with failPageAlloc(seed), found "
                    + "none");
        }
        return failPageAlloc;
    }

    /** The reclaim hook with {@code zone_reclaimable_pages()} answered by the reclaim subsystem. */
    private record ReclaimableDirectReclaimer(DirectReclaimer inner, MemoryManager mm) implements DirectReclaimer {
        @Override
        public long tryToFreePages(PageAllocator allocator, int gfp, int order, long nodemask) {
            return inner.tryToFreePages(allocator, gfp, order, nodemask);
        }

        @Override
        public long zoneReclaimablePages(io.memscope.page.Zone zone) {
            return mm.reclaim().directReclaimer().zoneReclaimablePages(zone);
        }
    }

    /** The reclaim subsystem: LRUs, shrinkers, kswapd, throttles, OOM killer. */
    public Reclaim reclaim() {
        return reclaim;
    }

    /** The shrinker registry ({@code register_shrinker}). */
    public Shrinkers shrinkers() {
        return reclaim.shrinkers();
    }

    /** The OOM killer (victims, reports, reaper). */
    public io.memscope.reclaim.OomKiller oomKiller() {
        return reclaim.oomKiller();
    }

    /** Node {@code nid}'s file LRU. */
    public Lru lru(int nid) {
        return reclaim.lru(nid);
    }

    /** The machine's lockdep (with the {@code fs_reclaim} annotation). */
    public Lockdep lockdep() {
        return lockdep;
    }

    /** The page lock table shared by the page cache and reclaim. */
    public PageWaitTable pageWaitTable() {
        return reclaim.pageWaitTable();
    }

    /** Connects the page cache as the owner of LRU pages; once, before file pages exist. */
    public void setFileOwner(FileOwner owner) {
        reclaim.setFileOwner(owner);
    }
    // ---- end reclaim wiring (rcore) ----

    // ---- page cache (pcache) ----
    private io.memscope.pagecache.PageCache pageCache;

    /**
     * The machine's page cache, created by the first call with {@code config} (the kernel's
     * {@code vm.dirty_*} knobs), wired to the LRUs, reclaim throttles and page wait table, and
     * registered as reclaim's {@link FileOwner}. Later calls return the same cache.
     *
     * @throws IllegalStateException if it exists with another configuration
     */
    public synchronized io.memscope.pagecache.PageCache pageCache(io.memscope.pagecache.PageCache.Config config) {
        if (pageCache == null) {
            pageCache = new io.memscope.pagecache.PageCache(pages, pageWaitTable(), log, reclaim::lru,
                    reclaim::throttle, config);
            reclaim.setFileOwner(pageCache);
        } else if (!pageCache.config().equals(config)) {
            throw new IllegalStateException("page cache exists with " + pageCache.config() + ", asked for " + config);
        }
        return pageCache;
    }

    /** {@link #pageCache(io.memscope.pagecache.PageCache.Config)} with the kernel's defaults, or the existing cache. */
    public synchronized io.memscope.pagecache.PageCache pageCache() {
        return pageCache != null ? pageCache : pageCache(io.memscope.pagecache.PageCache.Config.defaults());
    }
    // ---- end page cache (pcache) ----

    /** A builder with the defaults: 256 MiB, 1 node, one slot per available processor. */
    public static Builder builder() {
        return new Builder();
    }

    /** The page allocator. */
    public PageAllocator pages() {
        return pages;
    }

    /** The machine's kernel log. */
    public KernelLog log() {
        return log;
    }

    /** The machine's vmstat counters. */
    public VmStat vmstat() {
        return vmstat;
    }

    /** {@code /proc/meminfo}. */
    public String meminfo() {
        return io.memscope.stat.KernelText.meminfo(meminfoValues());
    }

    /**
     * {@code /proc/meminfo} fields (kB) for the whole machine: the allocator's MemTotal/MemFree,
     * {@code MemAvailable} as {@code si_mem_available()} computes it (free minus the reserve, plus
     * the page cache minus half of it or the low watermarks, whichever is less), and the page
     * cache's Cached, Active(file), Inactive(file), Dirty and Writeback.
     */
    public java.util.Map<String, Long> meminfoValues() {
        java.util.Map<String, Long> m = new java.util.LinkedHashMap<>(pages.reports().meminfoValues());
        long[] v = vmstat.snapshot();
        long active = v[io.memscope.stat.VmItem.NR_ACTIVE_FILE.ordinal()];
        long inactive = v[io.memscope.stat.VmItem.NR_INACTIVE_FILE.ordinal()];
        long wmarkLow = 0;
        for (io.memscope.page.Zone z : pages.zones()) {
            wmarkLow += z.lowWmark();
        }
        long fileLru = active + inactive;
        long sreclaimable = slab.reclaimablePages();
        long availablePages = m.get("MemAvailable") / 4 + fileLru - Math.min(fileLru / 2, wmarkLow)
                + sreclaimable - Math.min(sreclaimable / 2, wmarkLow); // si_mem_available(): reclaimable slab
        io.memscope.pagecache.PageCache pc;
        synchronized (this) {
            pc = pageCache;
        }
        m.put("MemAvailable", Math.max(0, availablePages) * 4);
        m.put("Cached", (pc == null ? 0 : pc.nrFilePages()) * 4);
        m.put("Active(file)", active * 4);
        m.put("Inactive(file)", inactive * 4);
        m.put("Dirty", (pc == null ? 0 : pc.nrDirty()) * 4);
        m.put("Writeback", (pc == null ? 0 : pc.nrWriteback()) * 4);
        m.put("Slab", slab.slabPages() * 4);
        m.put("SReclaimable", slab.reclaimablePages() * 4);
        m.put("SUnreclaim", slab.unreclaimablePages() * 4);
        m.put("VmallocUsed", vmalloc.nrPages() * 4);
        return m;
    }

    /** {@code /proc/buddyinfo}. */
    public String buddyinfo() {
        return pages.reports().buddyinfo();
    }

    /** {@code alloc_pages(gfp, order)}; NULL handle on failure. See {@link PageAllocator#allocPages}. */
    public long allocPages(int gfp, int order) {
        return pages.allocPages(gfp, order);
    }

    /** {@code alloc_pages_node(nid, gfp, order)}. */
    public long allocPagesNode(int nid, int gfp, int order) {
        return pages.allocPagesNode(nid, gfp, order);
    }

    /** {@code __get_free_page(gfp)}. */
    public long getFreePage(int gfp) {
        return pages.getFreePage(gfp);
    }

    /** {@code alloc_pages_exact(size, gfp)}. */
    public long allocPagesExact(long size, int gfp) {
        return pages.allocPagesExact(size, gfp);
    }

    /** {@code free_pages_exact(addr, size)}. */
    public void freePagesExact(long handle, long size) {
        pages.freePagesExact(handle, size);
    }

    /** {@code __free_pages(page, order)}. */
    public void freePages(long handle, int order) {
        pages.freePages(handle, order);
    }

    /** {@code __free_pages} with the handle's order. */
    public void freePages(long handle) {
        pages.freePages(handle);
    }

    /** The memory of an allocated block. */
    public MemorySegment segment(long handle) {
        return pages.segment(handle);
    }

    /** {@code drain_all_pages(NULL)}; returns the pages drained. */
    public long drainAllPages() {
        return pages.drainAllPages();
    }

    /** Checks the books; returns the number of errors (each logged). */
    public int validate() {
        return pages.validate() + reclaim.validate() + slab.validate() + vmalloc.validate();
    }

    /** Releases the machine; throws {@code PageLeakException} when pages are still allocated. */
    @Override
    public void close() {
        synchronized (this) { // ---- page cache (pcache): flushers stop first ----
            if (pageCache != null) {
                pageCache.close();
            }
        }
        RuntimeException slabLeak = null;
        try {
            vmalloc.close(); // live areas are a leak
        } catch (io.memscope.vmalloc.VmallocLeakException e) {
            slabLeak = e;
        }
        try {
            slab.close(); // shrinks every cache; objects still allocated are a leak
        } catch (io.memscope.slab.SlabCacheLeakException e) {
            if (slabLeak == null) {
                slabLeak = e;
            } else {
                slabLeak.addSuppressed(e);
            }
        }
        reclaim.close(); // kswapd and the reaper stop before the allocator's leak check
        try {
            pages.close();
        } catch (RuntimeException e) {
            if (slabLeak == null) {
                throw e;
            }
            slabLeak.addSuppressed(e);
        }
        if (slabLeak != null) {
            throw slabLeak;
        }
    }

    /** Machine configuration, with the kernel's knob names. */
    public static final class Builder {
        private long memoryBytes = 256L << 20;
        private int nodes = 1;
        private long[][] zonePages;
        private int cpuSlots = Runtime.getRuntime().availableProcessors();
        private int minFreeKbytes;
        private int watermarkScaleFactor = Watermarks.DEFAULT_WATERMARK_SCALE_FACTOR;
        private int[] lowmemReserveRatio = Watermarks.DEFAULT_LOWMEM_RESERVE_RATIO.clone();
        private boolean debug;
        private int quarantinePages = -1;
        private boolean panicOnWarn;
        private boolean preemptRt;
        private boolean initOnAlloc;
        private int logCapacity = 4096;
        private AllocFaultHook faultHook;
        private java.util.function.Consumer<FailPageAlloc> failPageAllocKnobs;
        private long failPageAllocSeed;
        private java.util.function.Consumer<io.memscope.debug.Failslab> failslabKnobs;
        private boolean legacyVmallocGfp;
        private long failslabSeed;
        private KswapdWaker kswapdWaker;
        private DirectReclaimer reclaimer;
        private OomKiller oomKiller;
        private Compactor compactor;
        // ---- reclaim options (rcore) ----
        private Lockdep.Options lockdepOptions = Lockdep.Options.defaults();
        private Reclaim.Options reclaimOptions = Reclaim.Options.defaults();
        private FileOwner fileOwner;

        private Builder() {}

        /** Lockdep on (the default: {@link Lockdep.Options#defaults()}) or off. */
        public Builder lockdep(boolean on) {
            this.lockdepOptions = on ? Lockdep.Options.defaults() : Lockdep.Options.off();
            return this;
        }

        /** Lockdep with explicit options. */
        public Builder lockdep(Lockdep.Options options) {
            this.lockdepOptions = java.util.Objects.requireNonNull(options);
            return this;
        }

        /** Reclaim options (legacy writeback, kswapd nap, reaper period). */
        public Builder reclaimOptions(Reclaim.Options options) {
            this.reclaimOptions = java.util.Objects.requireNonNull(options);
            return this;
        }

        /** {@code legacyReclaimWriteback}: reclaim calls the owner's writePage for dirty pages (old kernels). */
        public Builder legacyReclaimWriteback(boolean on) {
            this.reclaimOptions = reclaimOptions.withLegacyReclaimWriteback(on);
            return this;
        }

        /** The page cache, as the owner of LRU pages (or later with {@link MemoryManager#setFileOwner}). */
        public Builder fileOwner(FileOwner owner) {
            this.fileOwner = owner;
            return this;
        }

        /** Total memory (split evenly over nodes, default zone layout); multiple of 4 MiB per node. */
        public Builder memoryBytes(long bytes) {
            this.memoryBytes = bytes;
            return this;
        }

        /** Number of NUMA nodes (default 1). */
        public Builder nodes(int n) {
            this.nodes = n;
            return this;
        }

        /** Explicit layout: pages per node per zone {@code [nid][DMA, DMA32, Normal, Movable]}, multiples of 1024. */
        public Builder zonePages(long[][] layout) {
            this.zonePages = layout;
            return this;
        }

        /** Number of per-CPU slots (default: available processors). */
        public Builder cpuSlots(int n) {
            this.cpuSlots = n;
            return this;
        }

        /** {@code vm.min_free_kbytes}; 0 = the kernel's formula. */
        public Builder minFreeKbytes(int kb) {
            this.minFreeKbytes = kb;
            return this;
        }

        /** {@code vm.watermark_scale_factor} (default 10). */
        public Builder watermarkScaleFactor(int f) {
            this.watermarkScaleFactor = f;
            return this;
        }

        /** {@code vm.lowmem_reserve_ratio} (default 256 256 32 0). */
        public Builder lowmemReserveRatio(int... ratio) {
            this.lowmemReserveRatio = ratio.clone();
            return this;
        }

        /** Debug mode: poisoning, page_owner stacks, quarantine (256 pages unless set). */
        public Builder debug(boolean on) {
            this.debug = on;
            return this;
        }

        /** Pages kept in the debug quarantine after free. */
        public Builder quarantinePages(int n) {
            this.quarantinePages = n;
            return this;
        }

        /** {@code panic_on_warn}. */
        public Builder panicOnWarn(boolean on) {
            this.panicOnWarn = on;
            return this;
        }

        /** PREEMPT_RT rules. */
        public Builder preemptRt(boolean on) {
            this.preemptRt = on;
            return this;
        }

        /** {@code init_on_alloc=1}. */
        public Builder initOnAlloc(boolean on) {
            this.initOnAlloc = on;
            return this;
        }

        /** Reports kept by the kernel log. */
        public Builder logCapacity(int n) {
            this.logCapacity = n;
            return this;
        }

        /** Fault injection ({@code should_fail_alloc_page}). */
        public Builder faultHook(AllocFaultHook h) {
            this.faultHook = h;
            return this;
        }

        /**
         * {@code fail_page_alloc} fault injection with the kernel's defaults (probability 0: off until a
         * knob is set through {@link MemoryManager#failPageAlloc()}), its random draws seeded with
         * {@code seed} so a single-threaded run fails the same calls every time (RELIABILITY D1).
         * Exclusive with {@link #faultHook}.
         */
        public Builder failPageAlloc(long seed) {
            return failPageAlloc(seed, f -> { });
        }

        /**
         * {@code fail_page_alloc} as {@link #failPageAlloc(long)}, with {@code knobs} applied at boot,
         * for example {@code f -> f.setMinOrder(0).attr().setProbability(10).setTimes(-1)}.
         */
        public Builder failPageAlloc(long seed, java.util.function.Consumer<FailPageAlloc> knobs) {
            this.failPageAllocSeed = seed;
            this.failPageAllocKnobs = java.util.Objects.requireNonNull(knobs, "knobs");
            return this;
        }

        /** kswapd wake-ups. */
        /**
         * Reproduces vmalloc before Linux 5.17: page tables are allocated with {@code GFP_KERNEL}
         * whatever the caller's mask (no {@code memalloc_apply_gfp_scope}), and kvmalloc falls back
         * to vmalloc only for masks that include {@code GFP_KERNEL}. Off by default (current kernel).
         */
        public Builder legacyVmallocGfp(boolean on) {
            this.legacyVmallocGfp = on;
            return this;
        }

        /**
         * Turns on {@code failslab} (probability 0 until a knob is set through
         * {@link MemoryManager#failslab()}), its random draws seeded with {@code seed}.
         */
        public Builder failslab(long seed) {
            return failslab(seed, f -> { });
        }

        /** {@code failslab} as {@link #failslab(long)}, with {@code knobs} applied at boot. */
        public Builder failslab(long seed, java.util.function.Consumer<io.memscope.debug.Failslab> knobs) {
            this.failslabSeed = seed;
            this.failslabKnobs = java.util.Objects.requireNonNull(knobs, "knobs");
            return this;
        }

        public Builder kswapdWaker(KswapdWaker w) {
            this.kswapdWaker = w;
            return this;
        }

        /** Direct reclaim. */
        public Builder directReclaimer(DirectReclaimer r) {
            this.reclaimer = r;
            return this;
        }

        /** The OOM killer. */
        public Builder oomKiller(OomKiller k) {
            this.oomKiller = k;
            return this;
        }

        /** Direct compaction. */
        public Builder compactor(Compactor c) {
            this.compactor = c;
            return this;
        }

        /** Builds and boots the machine. */
        public MemoryManager build() {
            return new MemoryManager(this);
        }
    }
}
