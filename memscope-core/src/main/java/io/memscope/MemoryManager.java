package io.memscope;

import io.memscope.debug.KernelLog;
import io.memscope.page.AllocFaultHook;
import io.memscope.page.Compactor;
import io.memscope.page.DirectReclaimer;
import io.memscope.page.KswapdWaker;
import io.memscope.page.OomKiller;
import io.memscope.page.PageAllocConfig;
import io.memscope.page.PageAllocator;
import io.memscope.page.Watermarks;
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

    private MemoryManager(Builder b) {
        this.log = new KernelLog(b.logCapacity, b.panicOnWarn);
        this.vmstat = new VmStat();
        long[][] layout = b.zonePages != null ? b.zonePages : PageAllocConfig.defaultLayout(b.memoryBytes, b.nodes);
        int quarantine = b.quarantinePages >= 0 ? b.quarantinePages : (b.debug ? 256 : 0);
        PageAllocConfig cfg = new PageAllocConfig(layout, b.cpuSlots, b.minFreeKbytes, b.watermarkScaleFactor,
                b.lowmemReserveRatio, b.debug, quarantine, b.preemptRt, b.initOnAlloc);
        this.pages = new PageAllocator(cfg, log, vmstat,
                new PageAllocator.Hooks(b.faultHook, b.kswapdWaker, b.reclaimer, b.oomKiller, b.compactor));
    }

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
        return pages.reports().meminfo();
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
        return pages.validate();
    }

    /** Releases the machine; throws {@code PageLeakException} when pages are still allocated. */
    @Override
    public void close() {
        pages.close();
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
        private KswapdWaker kswapdWaker;
        private DirectReclaimer reclaimer;
        private OomKiller oomKiller;
        private Compactor compactor;

        private Builder() {}

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

        /** kswapd wake-ups. */
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
