package io.memscope.slab;

import io.memscope.debug.Failslab;
import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.page.PageAllocator;
import io.memscope.page.PageHandle;
import io.memscope.page.PageTable;
import io.memscope.page.PageTableDescriptor;
import io.memscope.reclaim.ShrinkControl;
import io.memscope.reclaim.Shrinker;
import io.memscope.reclaim.ShrinkerCallbacks;
import io.memscope.sched.Task;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A machine's slab layer: the cache registry, {@code kmem_cache_create}, and the kmalloc family
 * of {@code mm/slab_common.c} and {@code mm/slub.c} ({@code kmalloc}, {@code kzalloc},
 * {@code kmalloc_array}, {@code kcalloc}, {@code krealloc}, {@code kfree},
 * {@code kfree_sensitive}, {@code ksize}), {@code /proc/slabinfo}, and a shrinker that gives
 * empty slabs back under memory pressure.
 *
 * <p><b>Addresses.</b> An object is a {@code long}: its address in the machine's direct map
 * ({@link #memory()}), like a kernel pointer. {@link #NULL} (0) is failure;
 * {@link #ZERO_SIZE_PTR} (16) is what {@code kmalloc(0)} returns, a non-null pointer that must
 * not be dereferenced and that {@link #kfree} accepts. {@link #segment(long)} turns an object
 * into a {@link MemorySegment} of its {@link #ksize} bytes (one small object; hot paths use
 * {@link #memory()} with {@code address - memory().address()}).
 *
 * <p><b>kmalloc caches.</b> Sizes 8, 16, 32, 64, 96, 128, 192, 256, 512, 1k, 2k, 4k and 8k, in
 * four kinds chosen by {@code kmalloc_type()}: normal, {@code kmalloc-rcl-} for
 * {@code __GFP_RECLAIMABLE}, {@code dma-kmalloc-} for {@code __GFP_DMA}, {@code kmalloc-cg-} for
 * {@code __GFP_ACCOUNT}. Requests above 8 KiB ({@code KMALLOC_MAX_CACHE_SIZE}) get compound
 * pages straight from the page allocator ({@code kmalloc_large}). With the machine's debug mode
 * on, every kmalloc cache is created with {@link SlabFlags#DEBUG_FLAGS} ({@code slab_debug=FZPU}).
 *
 * <p><b>Invariants.</b> Every slab page carries its cache's id ({@link SlabPages}); the pages
 * counted in {@link #slabPages()} equal the pages of all slabs plus large kmalloc blocks;
 * {@link #close()} fails with {@link SlabCacheLeakException} when any object is still allocated.
 */
public final class Slab implements AutoCloseable {
    /** The kernel's NULL. */
    public static final long NULL = 0L;
    /** {@code ZERO_SIZE_PTR}: the result of {@code kmalloc(0)}. */
    public static final long ZERO_SIZE_PTR = 16L;
    /** {@code KMALLOC_MIN_SIZE}. */
    public static final int KMALLOC_MIN_SIZE = 8;
    /** {@code KMALLOC_MAX_CACHE_SIZE}: two pages; larger requests go to the page allocator. */
    public static final int KMALLOC_MAX_CACHE_SIZE = 8192;
    /** {@code KMALLOC_MAX_SIZE}: the largest kmalloc, {@code PAGE_SIZE << MAX_PAGE_ORDER}. */
    public static final long KMALLOC_MAX_SIZE = 4096L << Gfp.MAX_PAGE_ORDER;
    /** {@code GFP_SLAB_BUG_MASK}: zone bits a slab cannot honour, and bits above {@code __GFP_BITS_MASK}. */
    public static final int GFP_SLAB_BUG_MASK = Gfp.DMA32 | Gfp.HIGHMEM | ~Gfp.BITS_MASK;

    /** {@code enum kmalloc_cache_type}. */
    enum KmallocType {
        NORMAL("kmalloc-", 0), RECLAIM("kmalloc-rcl-", SlabFlags.RECLAIM_ACCOUNT), DMA("dma-kmalloc-", SlabFlags.CACHE_DMA),
        CGROUP("kmalloc-cg-", SlabFlags.ACCOUNT);

        final String prefix;
        final int flags;

        KmallocType(String prefix, int flags) {
            this.prefix = prefix;
            this.flags = flags;
        }
    }

    /** {@code kmalloc_size_index[]}: cache index for sizes 1..192 in steps of 8. */
    private static final byte[] SIZE_INDEX = {3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1, 7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2, 2};
    /** Object size of kmalloc cache index {@code i} ({@code kmalloc_info[]}). */
    static final int[] KMALLOC_SIZES = {0, 96, 192, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};
    private static final int NOT_NORMAL_BITS = Gfp.RECLAIMABLE | Gfp.DMA | Gfp.ACCOUNT;

    private final PageAllocator pa;
    private final PageTable pt;
    private final MemorySegment mem;
    private final long base;
    private final long memSize;
    private final KernelLog log;
    final SlabReports reports;
    final Failslab failslab;
    final boolean initOnAlloc;
    final boolean preemptRt;
    private final boolean debugAll;
    private final Object registryLock = new Object();
    private volatile KmemCache[] byId = new KmemCache[64];
    private int nextId;
    private final List<KmemCache> caches = new ArrayList<>();
    /** {@code kmalloc_caches[type][index]}. */
    private final KmemCache[] kmallocCaches = new KmemCache[KmallocType.values().length * KMALLOC_SIZES.length];
    private final AtomicLong reclaimablePages = new AtomicLong();
    private final AtomicLong unreclaimablePages = new AtomicLong();
    private final AtomicLong largeKmallocPages = new AtomicLong();
    private volatile boolean closed;

    /**
     * The slab layer over {@code pa}.
     *
     * @param failslab    the machine's {@code failslab}, or null when slab fault injection is off
     * @param debug       create the kmalloc caches with {@link SlabFlags#DEBUG_FLAGS}
     */
    public Slab(PageAllocator pa, KernelLog log, Failslab failslab, boolean debug) {
        this.pa = Objects.requireNonNull(pa, "pa");
        this.pt = pa.pageTable();
        this.mem = pa.memory();
        this.base = mem.address();
        this.memSize = mem.byteSize();
        this.log = Objects.requireNonNull(log, "log");
        this.failslab = failslab;
        this.initOnAlloc = pa.config().initOnAlloc();
        this.preemptRt = pa.config().preemptRt();
        this.debugAll = debug;
        this.reports = new SlabReports(this, log);
        for (KmallocType t : KmallocType.values()) {
            for (int i = 1; i < KMALLOC_SIZES.length; i++) {
                String name = t.prefix + sizeName(KMALLOC_SIZES[i]);
                int flags = SlabFlags.KMALLOC | SlabFlags.NO_MERGE | t.flags | (debug ? SlabFlags.DEBUG_FLAGS : 0);
                // create_boot_cache(): kmalloc caches are aligned to the largest power-of-two divisor of their size
                int align = Integer.lowestOneBit(KMALLOC_SIZES[i]);
                kmallocCaches[t.ordinal() * KMALLOC_SIZES.length + i] = register(name, KMALLOC_SIZES[i], align, flags, null);
            }
        }
    }

    private static String sizeName(int size) {
        return size >= 1024 ? (size / 1024) + "k" : Integer.toString(size);
    }

    // ================================================================== caches

    /**
     * {@code kmem_cache_create(name, size, align, flags, ctor)}: a cache of objects of {@code size}
     * bytes. {@code ctor} runs on every object when its slab is created (not on each allocation),
     * as the kernel's constructor does. With the machine's debug mode on, the cache also gets
     * {@link SlabFlags#DEBUG_FLAGS}.
     *
     * @throws IllegalArgumentException a null or empty name, a size outside 1..{@value #KMALLOC_MAX_CACHE_SIZE}×512,
     *         an alignment that is not a power of two, or flags outside {@link SlabFlags#VALID}
     */
    public KmemCache createCache(String name, int size, int align, int flags, Consumer<MemorySegment> ctor) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("kmem_cache_create: expected a cache name, found " + (name == null ? "null" : "\"\""));
        }
        if (size < 1 || size > KMALLOC_MAX_SIZE / 2) {
            throw new IllegalArgumentException("kmem_cache_create " + name + ": expected an object size in 1.."
                    + KMALLOC_MAX_SIZE / 2 + ", found " + size);
        }
        if (align < 0 || (align & (align - 1)) != 0 || align > 4096) {
            throw new IllegalArgumentException("kmem_cache_create " + name
                    + ": expected an alignment of 0 or a power of two up to 4096, found " + align);
        }
        if ((flags & ~SlabFlags.VALID) != 0) {
            throw new IllegalArgumentException("kmem_cache_create " + name + ": expected flags within "
                    + SlabFlags.names(SlabFlags.VALID) + ", found " + SlabFlags.names(flags & ~SlabFlags.VALID));
        }
        ensureOpen();
        return register(name, size, align, flags | (debugAll ? SlabFlags.DEBUG_FLAGS : 0), ctor);
    }

    /** {@link #createCache} with no alignment request, no flags and no constructor. */
    public KmemCache createCache(String name, int size) {
        return createCache(name, size, 0, 0, null);
    }

    private KmemCache register(String name, int size, int align, int flags, Consumer<MemorySegment> ctor) {
        synchronized (registryLock) {
            if (nextId >= SlabPages.MAX_CACHES) {
                throw new IllegalStateException("kmem_cache_create " + name + ": expected fewer than "
                        + SlabPages.MAX_CACHES + " caches ever created, found the limit");
            }
            int id = nextId++;
            KmemCache s = new KmemCache(this, id, name, size, Math.max(align, 1), flags, ctor);
            KmemCache[] t = byId;
            if (id >= t.length) {
                t = java.util.Arrays.copyOf(t, t.length * 2);
            }
            t[id] = s;
            byId = t;
            caches.add(s);
            return s;
        }
    }

    void unregister(KmemCache s) {
        synchronized (registryLock) {
            caches.remove(s);
        }
    }

    /** Every live cache, kmalloc caches first, in creation order. */
    public List<KmemCache> caches() {
        synchronized (registryLock) {
            return List.copyOf(caches);
        }
    }

    /** The kmalloc cache that serves {@code size} bytes with {@code gfp} ({@code kmalloc_slab()}), or null above 8 KiB. */
    public KmemCache kmallocCache(long size, int gfp) {
        if (size <= 0 || size > KMALLOC_MAX_CACHE_SIZE) {
            return null;
        }
        return kmallocCaches[kmallocType(gfp) * KMALLOC_SIZES.length + sizeIndex((int) size)];
    }

    /** {@code kmalloc_type()}. */
    static int kmallocType(int gfp) {
        if ((gfp & NOT_NORMAL_BITS) == 0) {
            return 0;
        }
        if ((gfp & Gfp.DMA) != 0) {
            return KmallocType.DMA.ordinal();
        }
        return (gfp & Gfp.RECLAIMABLE) != 0 ? KmallocType.RECLAIM.ordinal() : KmallocType.CGROUP.ordinal();
    }

    /** {@code kmalloc_index()}/{@code kmalloc_size_index}: the cache index for 1..8192 bytes. */
    static int sizeIndex(int size) {
        if (size <= 192) {
            return SIZE_INDEX[(size - 1) >>> 3];
        }
        return 32 - Integer.numberOfLeadingZeros(size - 1);
    }

    // ================================================================== kmalloc family

    /**
     * {@code kmalloc(size, gfp)}: at least {@code size} bytes aligned to the largest power of two
     * dividing the cache size, or {@link #NULL}. {@code kmalloc(0)} is {@link #ZERO_SIZE_PTR}.
     * Sizes above 8 KiB are compound pages ({@code kmalloc_large}); above {@value #KMALLOC_MAX_SIZE}
     * bytes it fails with the page allocator's warning (silent with {@code __GFP_NOWARN}).
     *
     * @throws IllegalArgumentException a negative size
     */
    public long kmalloc(long size, int gfp) {
        if (size > 0 && size <= KMALLOC_MAX_CACHE_SIZE) {
            return kmallocCaches[kmallocType(gfp) * KMALLOC_SIZES.length + sizeIndex((int) size)]
                    .slabAlloc(gfp, Task.current(), size);
        }
        if (size == 0) {
            return ZERO_SIZE_PTR;
        }
        if (size < 0) {
            throw new IllegalArgumentException("kmalloc: expected a size >= 0, found " + size);
        }
        return kmallocLarge(size, gfp);
    }

    /** {@code kzalloc(size, gfp)}: {@link #kmalloc} with {@code __GFP_ZERO}. */
    public long kzalloc(long size, int gfp) {
        return kmalloc(size, gfp | Gfp.ZERO);
    }

    /**
     * {@code kmalloc_array(n, size, gfp)}: {@code n * size} bytes, or {@link #NULL} when the product
     * overflows ({@code check_mul_overflow}).
     */
    public long kmallocArray(long n, long size, int gfp) {
        if (n < 0 || size < 0) {
            throw new IllegalArgumentException("kmalloc_array: expected n >= 0 and size >= 0, found n=" + n + ", size=" + size);
        }
        if (n != 0 && size > Long.MAX_VALUE / n) {
            return NULL;
        }
        return kmalloc(n * size, gfp);
    }

    /** {@code kcalloc(n, size, gfp)}: {@link #kmallocArray} zeroed. */
    public long kcalloc(long n, long size, int gfp) {
        return kmallocArray(n, size, gfp | Gfp.ZERO);
    }

    /** {@code __kmalloc_large_node()}: compound pages marked as a large kmalloc. */
    private long kmallocLarge(long size, int gfp) {
        if ((gfp & GFP_SLAB_BUG_MASK) != 0) {
            gfp = reports.kmallocFixFlags(gfp);
        }
        int order = size > KMALLOC_MAX_SIZE ? Gfp.MAX_PAGE_ORDER + 1 : PageAllocator.getOrder(size);
        long h = pa.allocPages(gfp | Gfp.COMP, order);
        if (h == PageHandle.NULL) {
            return NULL;
        }
        int head = PageHandle.pfn(h);
        pt.setMapping(head, SlabPages.LARGE_KMALLOC);
        pt.setIndex(head, order);
        for (int i = 1; i < (1 << order); i++) {
            pt.setMapping(head + i, SlabPages.LARGE_KMALLOC);
            pt.setIndex(head + i, head);
        }
        unreclaimablePages.addAndGet(1L << order); // NR_SLAB_UNRECLAIMABLE_B
        largeKmallocPages.addAndGet(1L << order);
        return base + ((long) head << 12);
    }

    /**
     * {@code kfree(obj)}: returns an object from kmalloc (or any cache). {@link #NULL} and
     * {@link #ZERO_SIZE_PTR} are ignored. Never sleeps.
     *
     * @throws ForeignObjectException not an object of this machine's slab layer
     * @throws SlabDoubleFreeException an object already free (always in debug caches; the last one freed otherwise)
     */
    public void kfree(long obj) {
        if (obj <= ZERO_SIZE_PTR && obj >= 0) {
            return; // ZERO_OR_NULL_PTR
        }
        int pfn = checkAddress(obj, "kfree");
        int mapping = pt.mapping(pfn);
        if (SlabPages.isSlab(mapping)) {
            int head = SlabPages.head(pt, pfn);
            byId[SlabPages.cacheId(mapping)].slabFree(obj, head, Task.current());
            return;
        }
        if (mapping == SlabPages.LARGE_KMALLOC) {
            freeLarge(obj, pfn);
            return;
        }
        throw reports.notSlab("kfree", obj, pfn);
    }

    /** {@code kfree_sensitive(obj)}: zeroes the whole object ({@link #ksize} bytes) before freeing it. */
    public void kfreeSensitive(long obj) {
        if (obj <= ZERO_SIZE_PTR && obj >= 0) {
            return;
        }
        long ks = ksize(obj);
        mem.asSlice(obj - base, ks).fill((byte) 0);
        kfree(obj);
    }

    private void freeLarge(long obj, int pfn) {
        int head = (pt.pageFlags(pfn) & PageTableDescriptor.FLAG_TAIL) != 0 ? pt.index(pfn) : pfn;
        long start = base + ((long) head << 12);
        if (obj != start) {
            throw reports.notLargeStart(obj, start);
        }
        int order = pt.index(head);
        for (int i = 0; i < (1 << order); i++) {
            pt.setMapping(head + i, 0);
            pt.setIndex(head + i, 0);
        }
        unreclaimablePages.addAndGet(-(1L << order));
        largeKmallocPages.addAndGet(-(1L << order));
        pa.freePages(PageHandle.of(head, order, pt.generation(head)), order);
    }

    /**
     * {@code ksize(obj)}: the bytes actually usable at {@code obj} — the cache's object size
     * (the whole stride when no debug metadata follows it), or the pages of a large kmalloc.
     * 0 for {@link #ZERO_SIZE_PTR}.
     */
    public long ksize(long obj) {
        if (obj == ZERO_SIZE_PTR) {
            return 0;
        }
        int pfn = checkAddress(obj, "ksize");
        int mapping = pt.mapping(pfn);
        if (SlabPages.isSlab(mapping)) {
            KmemCache s = byId[SlabPages.cacheId(mapping)];
            int head = SlabPages.head(pt, pfn);
            if (s.objectIndex(head, obj) < 0) {
                throw reports.notAnObject(s, head, obj);
            }
            return s.ksize();
        }
        if (mapping == SlabPages.LARGE_KMALLOC) {
            int head = (pt.pageFlags(pfn) & PageTableDescriptor.FLAG_TAIL) != 0 ? pt.index(pfn) : pfn;
            return 4096L << pt.index(head);
        }
        throw reports.notSlab("ksize", obj, pfn);
    }

    /**
     * {@code krealloc(obj, newSize, gfp)}: the same object when {@code newSize} fits in its
     * {@link #ksize} (zeroing the bytes after {@code newSize} when {@code __GFP_ZERO} or
     * init-on-alloc asks, as {@code __do_krealloc} does); otherwise a new object holding the old
     * contents, the old one freed. {@code newSize == 0} frees and returns {@link #ZERO_SIZE_PTR}.
     * On failure returns {@link #NULL} and {@code obj} stays valid.
     */
    public long krealloc(long obj, long newSize, int gfp) {
        if (newSize < 0) {
            throw new IllegalArgumentException("krealloc: expected a size >= 0, found " + newSize);
        }
        if (obj != NULL && obj != ZERO_SIZE_PTR && newSize == 0) {
            kfree(obj);
            return ZERO_SIZE_PTR;
        }
        long ks = (obj == NULL || obj == ZERO_SIZE_PTR) ? 0 : ksize(obj);
        if (ks > 0 && newSize <= ks) {
            if ((gfp & Gfp.ZERO) != 0 || initOnAlloc) {
                mem.asSlice(obj - base + newSize, ks - newSize).fill((byte) 0);
            }
            return obj;
        }
        long ret = kmalloc(newSize, gfp);
        if (ret != NULL && ret != ZERO_SIZE_PTR && ks > 0) {
            MemorySegment.copy(mem, obj - base, mem, ret - base, ks);
            kfree(obj);
        }
        return ret;
    }

    // ================================================================== addresses

    /** The machine's direct map: object {@code a} is at offset {@code a - memory().address()}. */
    public MemorySegment memory() {
        return mem;
    }

    /** A segment over the {@link #ksize} bytes of {@code obj} (creates one small object). */
    public MemorySegment segment(long obj) {
        return mem.asSlice(obj - base, ksize(obj));
    }

    /** {@code virt_to_slab()} checks: the pfn of an in-range address. */
    private int checkAddress(long obj, String fn) {
        long off = obj - base;
        if (off < 0 || off >= memSize) {
            throw reports.outsideMemory(fn, obj, base, memSize);
        }
        return (int) (off >>> 12);
    }

    /** The first page of the slab holding {@code obj}; named errors for anything else. */
    int objectSlab(long obj, String fn) {
        int pfn = checkAddress(obj, fn);
        if (!SlabPages.isSlab(pt.mapping(pfn))) {
            throw reports.notSlab(fn, obj, pfn);
        }
        return SlabPages.head(pt, pfn);
    }

    KmemCache cacheOfSlab(int head) {
        return byId[SlabPages.cacheId(pt.mapping(head))];
    }

    // ================================================================== figures, reclaim, books

    void accountSlabPages(KmemCache s, long pages) {
        s.pages.addAndGet(pages);
        ((s.flags & SlabFlags.RECLAIM_ACCOUNT) != 0 ? reclaimablePages : unreclaimablePages).addAndGet(pages);
    }

    /** Pages held by slabs and large kmalloc blocks (meminfo {@code Slab}). */
    public long slabPages() {
        return reclaimablePages.get() + unreclaimablePages.get();
    }

    /** meminfo {@code SReclaimable}, in pages. */
    public long reclaimablePages() {
        return reclaimablePages.get();
    }

    /** meminfo {@code SUnreclaim}, in pages. */
    public long unreclaimablePages() {
        return unreclaimablePages.get();
    }

    /**
     * {@code /proc/slabinfo} (version 2.1) for every cache. Columns as SLUB prints them: active
     * and total objects, {@code objsize} (the stride), objects per slab, pages per slab; tunables
     * are 0; active slabs equal total slabs.
     */
    public String slabinfo() {
        StringBuilder sb = new StringBuilder("slabinfo - version: 2.1\n");
        sb.append("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
                + " : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
        List<KmemCache> all = caches();
        for (int i = all.size() - 1; i >= 0; i--) { // newest first, as slab_caches is walked
            KmemCache s = all.get(i);
            long slabs = s.slabs();
            sb.append(String.format(java.util.Locale.ROOT, "%-17s %6d %6d %6d %4d %4d : tunables %4d %4d %4d : slabdata %6d %6d %6d%n",
                    s.name(), s.activeObjectsInSlabs(), s.totalObjects(), s.size(), s.objectsPerSlab(), 1 << s.order(),
                    0, 0, 0, slabs, slabs, 0));
        }
        return sb.toString();
    }

    /**
     * Callbacks for a shrinker named {@code "slab"}: counts the pages of empty slabs and frees
     * them (memscope's addition: the kernel frees empty slabs beyond {@code min_partial} at once and
     * the rest on {@code kmem_cache_shrink}; under pressure memscope also gives back the spares).
     */
    public ShrinkerCallbacks shrinkerCallbacks() {
        return new ShrinkerCallbacks() {
            @Override
            public long countObjects(ShrinkControl sc) {
                long n = 0;
                for (KmemCache s : caches()) {
                    n += s.emptySlabPages();
                }
                return n == 0 ? Shrinker.SHRINK_EMPTY : n;
            }

            @Override
            public long scanObjects(ShrinkControl sc) {
                long want = sc.nrToScan();
                long freed = 0;
                for (KmemCache s : caches()) {
                    if (freed >= want) {
                        break;
                    }
                    freed += s.freeEmptySlabs(want - freed);
                }
                sc.addReclaimedPages(freed); // reclaim_state->reclaimed: slab pages count as reclaimed
                return freed;
            }
        };
    }

    /** Checks every cache's books and the page accounting; returns the number of errors (each logged). */
    public int validate() {
        int errors = 0;
        long pages = largeKmallocPages.get();
        for (KmemCache s : caches()) {
            errors += s.validate();
            pages += s.pages.get();
        }
        if (pages != slabPages()) {
            log.printk(KernelLog.Level.ERR, "slab: expected " + pages + " pages in slabs and large kmalloc blocks, "
                    + "found " + slabPages() + " accounted");
            errors++;
        }
        return errors;
    }

    /**
     * Shrinks every cache and checks that no object is still allocated: {@link SlabCacheLeakException}
     * lists the caches that still have objects (their pages stay allocated, so the page allocator's
     * own leak check fails too).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        StringBuilder leaks = new StringBuilder();
        for (KmemCache s : caches()) {
            s.shrink();
            long live = s.activeObjects();
            if (live > 0) {
                leaks.append(leaks.isEmpty() ? "" : "; ").append(s.name()).append(": ").append(live);
            }
        }
        if (unreclaimablePages.get() + reclaimablePages.get() > 0 && leaks.isEmpty()) {
            leaks.append("large kmalloc: ").append(slabPages()).append(" pages");
        }
        if (!leaks.isEmpty()) {
            String msg = "slab close: expected 0 objects in use, found " + leaks;
            log.printk(KernelLog.Level.ERR, msg);
            throw new SlabCacheLeakException(msg);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("slab: expected an open machine, found it closed");
        }
    }

    PageAllocator pages() {
        return pa;
    }

    KernelLog log() {
        return log;
    }
}
