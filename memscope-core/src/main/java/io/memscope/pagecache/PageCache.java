package io.memscope.pagecache;

import static io.memscope.page.PageTableDescriptor.FLAG_DIRTY;
import static io.memscope.page.PageTableDescriptor.FLAG_PRIVATE;
import static io.memscope.page.PageTableDescriptor.FLAG_RECLAIM;
import static io.memscope.page.PageTableDescriptor.FLAG_WRITEBACK;

import io.memscope.debug.KernelLog;
import io.memscope.page.PageAllocator;
import io.memscope.page.PageTable;
import io.memscope.page.PageWaitTable;
import io.memscope.page.Zone;
import io.memscope.reclaim.FileOwner;
import io.memscope.reclaim.Lru;
import io.memscope.reclaim.ReclaimThrottle;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * One machine's page cache: the registry of its {@link AddressSpace}s, the node page-state
 * counters of {@code mm/filemap.c} and {@code mm/page-writeback.c} ({@code NR_FILE_PAGES},
 * {@code NR_FILE_DIRTY}, {@code NR_WRITEBACK}, {@code NR_DIRTIED}, {@code NR_WRITTEN}), the dirty
 * thresholds ({@code global_dirty_limits()}), the writers' throttle ({@code balance_dirty_pages},
 * see {@link DirtyThrottle}), the flusher threads it started, and the page-cache side of reclaim
 * ({@link FileOwner}).
 *
 * <p>Reclaim finds a page's owner the way the kernel follows {@code folio->mapping}: the page
 * table's mapping word holds the {@link AddressSpace#id()}, and {@link #mappingOf(int)} turns it
 * back into the mapping through a copy-on-write array (no lock, no boxing on reclaim's path).
 *
 * <p>Invariants: every page in some mapping's index has that mapping's id in its mapping word, one
 * page-cache reference, and {@code PG_lru} unless reclaim holds it isolated;
 * {@link #nrFilePages()} equals the sum of the mappings' {@code nrpages}; {@link #nrDirty()} and
 * {@link #nrWriteback()} equal the numbers of pages with the DIRTY and WRITEBACK marks of
 * mappings that can write back. {@link #validate()} counts violations.
 *
 * <p>Thread-safe. Counters are atomics read racily, like {@code global_node_page_state()}.
 */
public final class PageCache implements FileOwner, AutoCloseable {
    final PageAllocator allocator;
    final PageTable pt;
    final PageWaitTable wait;
    final KernelLog log;
    private final IntFunction<Lru> lrus;
    private final IntFunction<ReclaimThrottle> throttles;
    final Config config;
    final DirtyThrottle dirtyThrottle;

    final AtomicLong nrFilePages = new AtomicLong();
    final AtomicLong nrDirty = new AtomicLong();
    final AtomicLong nrWriteback = new AtomicLong();
    final AtomicLong nrDirtied = new AtomicLong();
    final AtomicLong nrWritten = new AtomicLong();

    private final Object registryLock = new Object();
    /**
     * Index = mapping id; slot 0 means "no mapping". Written under registryLock, then republished
     * by a volatile write, so a lock-free reader that sees an id in a page's mapping word (set
     * after registration) finds the mapping.
     */
    private volatile AddressSpace[] mappings = new AddressSpace[16];
    private int nextId = 1;
    private final List<BdiWriteback> bdis = new CopyOnWriteArrayList<>();

    /**
     * The vm knobs of the page cache, with the kernel's names and defaults.
     *
     * @param dirtyRatio              {@code vm.dirty_ratio} (20)
     * @param dirtyBackgroundRatio    {@code vm.dirty_background_ratio} (10)
     * @param dirtyBytes              {@code vm.dirty_bytes} (0: use the ratio)
     * @param dirtyBackgroundBytes    {@code vm.dirty_background_bytes} (0: use the ratio)
     * @param dirtyExpireMillis       {@code vm.dirty_expire_centisecs} × 10 (30 000)
     * @param dirtyWritebackMillis    {@code vm.dirty_writeback_centisecs} × 10 (5 000)
     */
    public record Config(int dirtyRatio, int dirtyBackgroundRatio, long dirtyBytes, long dirtyBackgroundBytes,
            long dirtyExpireMillis, long dirtyWritebackMillis) {
        public Config {
            if (dirtyRatio < 0 || dirtyRatio > 100 || dirtyBackgroundRatio < 0 || dirtyBackgroundRatio > 100) {
                throw new IllegalArgumentException("dirty ratios must be percentages, were " + dirtyRatio + " and "
                        + dirtyBackgroundRatio);
            }
            if (dirtyBytes < 0 || dirtyBackgroundBytes < 0 || dirtyExpireMillis <= 0 || dirtyWritebackMillis <= 0) {
                throw new IllegalArgumentException("dirty byte limits must be >= 0 and intervals > 0");
            }
        }

        /** The kernel's defaults. */
        public static Config defaults() {
            return new Config(20, 10, 0, 0, 30_000, 5_000);
        }

        /** Absolute limits ({@code vm.dirty_bytes}, {@code vm.dirty_background_bytes}), as tests use. */
        public Config withDirtyBytes(long thresh, long background) {
            return new Config(dirtyRatio, dirtyBackgroundRatio, thresh, background, dirtyExpireMillis,
                    dirtyWritebackMillis);
        }

        /** {@code dirty_writeback_centisecs} and {@code dirty_expire_centisecs} in milliseconds. */
        public Config withWritebackIntervals(long expireMillis, long writebackMillis) {
            return new Config(dirtyRatio, dirtyBackgroundRatio, dirtyBytes, dirtyBackgroundBytes, expireMillis,
                    writebackMillis);
        }
    }

    /**
     * @param allocator the machine's page allocator
     * @param wait      the machine's page wait table: reclaim must lock and unlock pages through the same one
     * @param lrus      node id → that node's file LRU
     * @param throttles node id → that node's reclaim throttle (writeback completions are accounted there)
     */
    public PageCache(PageAllocator allocator, PageWaitTable wait, KernelLog log, IntFunction<Lru> lrus,
            IntFunction<ReclaimThrottle> throttles, Config config) {
        this.allocator = Objects.requireNonNull(allocator);
        this.pt = allocator.pageTable();
        this.wait = Objects.requireNonNull(wait);
        this.log = Objects.requireNonNull(log);
        this.lrus = Objects.requireNonNull(lrus);
        this.throttles = Objects.requireNonNull(throttles);
        this.config = Objects.requireNonNull(config);
        this.dirtyThrottle = new DirtyThrottle(this);
    }

    /**
     * Creates a mapping ({@code inode_init_always} → {@code address_space_init_once}) with the
     * default mask {@code GFP_HIGHUSER_MOVABLE}.
     *
     * @param bdi the device whose flusher writes it back, or null for a mapping that cannot write
     *            back (no dirty accounting, like {@code ramfs}: {@code mapping_can_writeback()} false)
     */
    public AddressSpace newAddressSpace(String name, AddressSpaceOperations ops, BdiWriteback bdi) {
        synchronized (registryLock) {
            int id = nextId++;
            AddressSpace as = new AddressSpace(this, id, name, ops, bdi);
            AddressSpace[] m = mappings;
            if (id >= m.length) {
                m = java.util.Arrays.copyOf(m, m.length * 2);
            }
            m[id] = as;
            // Volatile publication of the (possibly new) array after the slot is written: a
            // reclaimer that reads the array sees the mapping fully constructed.
            mappings = m;
            return as;
        }
    }

    /** Forgets a mapping whose pages are all gone ({@code destroy_inode}). */
    void unregister(AddressSpace as) {
        synchronized (registryLock) {
            AddressSpace[] m = mappings.clone();
            m[as.id()] = null;
            mappings = m;
        }
    }

    /** The mapping with this id, or null. */
    public AddressSpace mappingOf(int id) {
        AddressSpace[] m = mappings;
        return id > 0 && id < m.length ? m[id] : null;
    }

    /**
     * Starts a flusher thread for a new backing device, over background threshold when the
     * machine's dirty pages exceed {@code bg_thresh} (see {@link #overBackgroundThresh()}).
     * Closed with this page cache.
     */
    public BdiWriteback newBdi(String name) {
        BdiWriteback wb = new BdiWriteback(name, log, this::overBackgroundThresh, config.dirtyExpireMillis(),
                config.dirtyWritebackMillis());
        bdis.add(wb);
        return wb;
    }

    /** The vm knobs this cache runs with. */
    public Config config() {
        return config;
    }

    /** The machine's page allocator. */
    public PageAllocator allocator() {
        return allocator;
    }

    /** The page wait table (folio_lock and writeback waits). */
    public PageWaitTable waitTable() {
        return wait;
    }

    /** The node's LRU for {@code pfn}. */
    Lru lruOf(int pfn) {
        return lrus.apply(allocator.zoneOf(pfn).nid());
    }

    /** The writers' throttle. */
    public DirtyThrottle dirtyThrottle() {
        return dirtyThrottle;
    }

    // ---- node page state ----

    /** {@code NR_FILE_PAGES}. */
    public long nrFilePages() {
        return nrFilePages.get();
    }

    /** {@code NR_FILE_DIRTY} ({@code nr_dirty}). */
    public long nrDirty() {
        return nrDirty.get();
    }

    /** {@code NR_WRITEBACK}. */
    public long nrWriteback() {
        return nrWriteback.get();
    }

    /** {@code NR_DIRTIED}: pages dirtied since boot. */
    public long nrDirtied() {
        return nrDirtied.get();
    }

    /** {@code NR_WRITTEN}: pages written back since boot. */
    public long nrWritten() {
        return nrWritten.get();
    }

    /** The counters as {@code /proc/vmstat} prints them. */
    public String vmstatText() {
        return "nr_file_pages " + nrFilePages() + "\nnr_dirty " + nrDirty() + "\nnr_writeback " + nrWriteback()
                + "\nnr_dirtied " + nrDirtied() + "\nnr_written " + nrWritten() + "\n";
    }

    /**
     * {@code global_dirty_limits()}: thresholds over the dirtyable memory ({@code free - totalreserve
     * + file LRU}), where {@code totalreserve} is each zone's high watermark (the kernel adds the
     * largest lowmem reserve too; memscope leaves it out, a difference of a few pages).
     */
    public DirtyLimits dirtyLimits() {
        long free = 0;
        long reserve = 0;
        for (Zone z : allocator.zones()) {
            if (z.populated()) {
                free += z.freePages();
                reserve += z.highWmark();
            }
        }
        long fileLru = 0;
        for (int nid = 0; nid < allocator.nodes(); nid++) {
            Lru l = lrus.apply(nid);
            if (l != null) {
                fileLru += l.nrActiveFile() + l.nrInactiveFile();
            }
        }
        long avail = DirtyLimits.dirtyableMemory(free, reserve, fileLru);
        return DirtyLimits.compute(avail, config.dirtyRatio(), config.dirtyBackgroundRatio(), config.dirtyBytes(),
                config.dirtyBackgroundBytes(), false, 0);
    }

    /**
     * {@code wb_over_bg_thresh()}, simplified to the global domain: dirty pages above
     * {@code bg_thresh}. (The kernel also splits the threshold over devices by their recent
     * writeback share; memscope's devices share the global one.)
     */
    public boolean overBackgroundThresh() {
        long dirty = nrDirty.get();
        return dirty > 0 && dirty > dirtyLimits().bgThresh();
    }

    // ---- accounting helpers used by AddressSpace ----

    void accountWritebackDone(int pfn) {
        nrWriteback.decrementAndGet();
        nrWritten.incrementAndGet();
        ReclaimThrottle t = throttles.apply(allocator.zoneOf(pfn).nid());
        if (t != null) {
            t.acctReclaimWriteback(1);
        }
        dirtyThrottle.writebackProgress();
    }

    // ---- FileOwner: the page-cache side of shrink_folio_list ----

    /** {@inheritDoc} Dispatches to the page's mapping ({@code __remove_mapping}). */
    @Override
    public boolean removeMapping(int pfn) {
        AddressSpace as = mappingOf(pt.mapping(pfn));
        return as != null && removeMapping(as, pfn);
    }

    /** {@inheritDoc} Wakes every flusher this page cache started, with {@code WB_REASON_VMSCAN}. */
    @Override
    public void wakeupFlusherThreads(int nid) {
        for (BdiWriteback wb : bdis) {
            wb.wakeup(WbReason.VMSCAN);
        }
    }

    /** {@inheritDoc} Dispatches to the page's mapping ({@code pageout}). */
    @Override
    public PageoutResult writePage(int pfn) {
        AddressSpace as = mappingOf(pt.mapping(pfn));
        return as == null ? PageoutResult.KEEP : pageout(as, pfn);
    }


    /**
     * {@code __remove_mapping()}: for reclaim, which holds the page locked and isolated. Under the
     * {@code xa_lock}, freezes the count from 2 (cache + isolation) to 0, then re-checks
     * {@code PG_dirty}: a thread that dirties a page holds a reference while it sets the bit and
     * drops it after, so once the freeze succeeded every such set is visible (the freeze CAS is
     * fully ordered — the kernel's smp_rmb before the dirty test). Testing dirty first and the
     * count second could miss a set made between the two and discard new data. On success the page
     * is out of the mapping with a count of 0 and reclaim frees it. Pages with private state
     * ({@code PG_private}) are kept: memscope's clients have no buffers to release.
     */
    private static boolean removeMapping(AddressSpace as, int pfn) {
        PageTable pt = as.pt;
        PageCacheIndex xa = as.xa;
        if ((pt.pageFlagsAcquire(pfn) & (FLAG_DIRTY | FLAG_WRITEBACK | FLAG_PRIVATE)) != 0) {
            return false;
        }
        long s = xa.lock.writeLock();
        try {
            int index = pt.index(pfn);
            if (pt.mapping(pfn) != as.id || xa.get(index) != pfn) {
                return false;
            }
            if (!pt.refcountFreeze(pfn, 2)) {
                return false; // someone else holds a reference
            }
            if (pt.testPageFlag(pfn, FLAG_DIRTY)) {
                pt.refcountUnfreeze(pfn, 2);
                return false;
            }
            xa.remove(index);
            pt.setMapping(pfn, 0);
            as.cache.nrFilePages.decrementAndGet();
            return true;
        } finally {
            xa.lock.unlockWrite(s);
        }
    }

    /**
     * {@code pageout()} of the legacy reclaim-writeback mode: reclaim holds the page locked and
     * isolated. Clears it for I/O, sets {@code PG_reclaim} and calls
     * {@link AddressSpaceOperations#writePage} with a {@code for_reclaim} control.
     */
    private static PageoutResult pageout(AddressSpace as, int pfn) {
        PageTable pt = as.pt;
        if (!as.canWriteback()) {
            return PageoutResult.ACTIVATE;
        }
        if (!as.folioClearDirtyForIo(pfn)) {
            return PageoutResult.CLEAN;
        }
        WritebackControl wbc = WritebackControl.of(WritebackControl.SyncMode.NONE, 32).forReclaim(true)
                .reason(WbReason.VMSCAN);
        pt.setPageFlagAtomic(pfn, FLAG_RECLAIM);
        AddressSpaceOperations.WritePageResult r;
        try {
            r = as.ops.writePage(as, pfn, wbc);
        } catch (IOException e) {
            as.setError(e);
            return PageoutResult.SUCCESS; // the writer ended writeback and unlocked (its contract)
        }
        if (r != AddressSpaceOperations.WritePageResult.WRITTEN || !pt.testPageFlag(pfn, FLAG_WRITEBACK)) {
            pt.testAndClearPageFlag(pfn, FLAG_RECLAIM);
        }
        return switch (r) {
            case WRITTEN -> PageoutResult.SUCCESS;
            case REDIRTIED -> PageoutResult.KEEP;
            case ACTIVATE -> PageoutResult.ACTIVATE;
        };
    }

    /**
     * Checks the invariants of every mapping and the counters; returns the number of violations.
     * Exact only while no write-back is in flight (after {@link AddressSpace#filemapWriteAndWait}
     * or with the flushers idle): ending write-back clears the tag, then the flag, then the
     * counter, as {@code __folio_end_writeback()} moves {@code NR_WRITEBACK} after the flag, so a
     * check racing a flusher can count a page between those steps.
     */
    public int validate() {
        int errors = 0;
        long pages = 0;
        long[] counts = new long[2];
        for (AddressSpace as : mappings) {
            if (as != null) {
                errors += as.validate(counts);
                pages += as.nrpages();
            }
        }
        long dirty = counts[0];
        long wb = counts[1];
        if (pages != nrFilePages.get()) {
            log.printk(KernelLog.Level.ERR, "page cache: nr_file_pages " + nrFilePages.get() + " != " + pages);
            errors++;
        }
        if (dirty != nrDirty.get() || wb != nrWriteback.get()) {
            log.printk(KernelLog.Level.ERR, "page cache: nr_dirty " + nrDirty.get() + "/" + dirty + ", nr_writeback "
                    + nrWriteback.get() + "/" + wb + " (counter/recount)");
            errors++;
        }
        return errors;
    }

    /** Stops the flusher threads. Mappings must be evicted by their owners first. */
    @Override
    public void close() {
        for (BdiWriteback wb : bdis) {
            wb.close();
        }
        bdis.clear();
    }
}
