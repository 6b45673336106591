package io.memscope.slab;

import static io.memscope.slab.SlabGeometry.*;

import io.memscope.gfp.Gfp;
import io.memscope.page.PageAllocator;
import io.memscope.page.PageHandle;
import io.memscope.page.PageTable;
import io.memscope.page.PageTableDescriptor;
import io.memscope.sched.Task;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Consumer;

/**
 * An object cache: {@code struct kmem_cache} and the object paths of {@code mm/slub.c}
 * ({@code kmem_cache_alloc}, {@code kmem_cache_free}, {@code slab_alloc_node},
 * {@code ___slab_alloc}, {@code __slab_free}, {@code allocate_slab}, {@code kmem_cache_shrink},
 * {@code kmem_cache_destroy}).
 *
 * <p><b>Why.</b> Engines allocate small objects far more often than pages. A cache carves slabs
 * (blocks of {@code 1 << order} pages from the page allocator) into equal objects, so an object
 * costs a few nanoseconds and no fragmentation of the buddy lists, and keeps the kernel's rules:
 * the allocation context (GFP mask after {@code currentGfpContext}) reaches the page allocator
 * when a new slab is needed, {@code might_alloc} runs for every allocation (so lockdep's
 * {@code fs_reclaim} sees a {@code GFP_KERNEL} kmalloc under a filesystem lock even when a free
 * object is at hand), and {@code failslab} can fail any allocation.
 *
 * <p><b>Paths.</b> Objects are addresses ({@code long}, {@link #NULL} on failure) in the
 * machine's memory ({@link Slab#memory()}). The fast path is the calling slot's {@link Sheaf}:
 * pop on allocation, push on free. An empty sheaf is refilled with half its capacity from the
 * node's partial slabs; a full one gives half back. When the sheaf is busy or the partial list is
 * empty, one object is taken from a slab directly, allocating a new slab with the caller's mask
 * if needed — never while holding a sheaf or node lock, because that allocation may sleep.
 * Caches with debug flags ({@link SlabFlags#DEBUG_FLAGS}) skip the sheaves; see {@link SlabDebug}.
 *
 * <p><b>Object layout</b> ({@code calculate_sizes()}): {@code [left red zone][object][right red
 * zone][free pointer][padding]}; without debug flags the free pointer sits in the middle of the
 * object (free objects only) and {@link #size()} is the object size rounded up to the alignment.
 *
 * <p><b>Thread-safety.</b> All methods may be called from any thread; an object must be handed
 * between threads with a happens-before edge, as any memory.
 */
public final class KmemCache {
    /** The kernel's NULL. */
    public static final long NULL = 0L;
    /** {@code ARCH_SLAB_MINALIGN} and the pointer size. */
    static final int MIN_ALIGN = 8;
    /** {@code cache_line_size()}. */
    static final int CACHE_LINE = 64;
    /** {@code slub_max_order}: {@code PAGE_ALLOC_COSTLY_ORDER}. */
    static final int SLUB_MAX_ORDER = Gfp.PAGE_ALLOC_COSTLY_ORDER;
    /** {@code MIN_PARTIAL} and {@code MAX_PARTIAL}. */
    static final int MIN_PARTIAL = 5;
    static final int MAX_PARTIAL = 10;

    final Slab owner;
    final int id;
    private final String name;
    final int objectSize;
    final int size;
    /** {@code ceil(2^32 / size)}: {@code reciprocal_size} for {@link #objectIndex}. */
    private final long reciprocalSize;
    final int align;
    final int flags;
    /** Free pointer offset from the object address. */
    final int offset;
    /** Left red zone bytes before each object (debug), 0 otherwise. */
    final int redLeftPad;
    /** Object plus right red zone: where metadata begins, relative to the object. */
    final int inuse;
    final int order;
    final int objects;
    final int minOrder;
    final int minObjects;
    /** {@code s->allocflags}: gfp bits added to every slab allocation. */
    final int allocFlags;
    final Consumer<MemorySegment> ctor;
    final boolean debug;
    final int minPartial;
    final int sheafCapacity;
    private final int batch;
    private final Sheaf[] sheaves;
    final SlabNode[] nodes;
    final SlabDebug dbg;
    private final PageAllocator pa;
    private final PageTable pt;
    private final MemorySegment mem;
    private final long base;
    private volatile boolean destroyed;
    /** Pages held by this cache's slabs. */
    final java.util.concurrent.atomic.AtomicLong pages = new java.util.concurrent.atomic.AtomicLong();

    KmemCache(Slab owner, int id, String name, int objectSize, int align, int flags, Consumer<MemorySegment> ctor) {
        this.owner = owner;
        this.id = id;
        this.name = name;
        this.objectSize = objectSize;
        this.flags = flags;
        this.ctor = ctor;
        this.pa = owner.pages();
        this.pt = pa.pageTable();
        this.mem = pa.memory();
        this.base = mem.address();
        this.debug = (flags & SlabFlags.DEBUG_FLAGS) != 0;
        this.align = calculateAlignment(flags, align, objectSize);
        // calculate_sizes()
        int sz = alignUp(objectSize, MIN_ALIGN);
        if ((flags & SlabFlags.RED_ZONE) != 0 && sz == objectSize) {
            sz += MIN_ALIGN; // room for a right red zone
        }
        this.inuse = sz;
        boolean fpOutside = (flags & SlabFlags.POISON) != 0 || ctor != null
                || ((flags & SlabFlags.RED_ZONE) != 0 && objectSize < MIN_ALIGN);
        if (fpOutside) {
            this.offset = sz;
            sz += MIN_ALIGN;
        } else {
            this.offset = alignDown(objectSize / 2, MIN_ALIGN) & ~3; // an int in the middle of the object
        }
        int left = 0;
        if ((flags & SlabFlags.RED_ZONE) != 0) {
            left = alignUp(MIN_ALIGN, this.align);
            sz += left;
        }
        this.redLeftPad = left;
        this.size = alignUp(sz, this.align);
        this.reciprocalSize = ((1L << 32) + size - 1) / size;
        int cpus = owner.pages().config().cpuSlots();
        this.order = calculateOrder(size, cpus);
        this.objects = orderObjects(order, size);
        this.minOrder = getOrder(size);
        this.minObjects = orderObjects(minOrder, size);
        int af = 0;
        if (order > 0) {
            af |= Gfp.COMP;
        }
        if ((flags & SlabFlags.CACHE_DMA) != 0) {
            af |= Gfp.DMA;
        }
        if ((flags & SlabFlags.CACHE_DMA32) != 0) {
            af |= Gfp.DMA32;
        }
        if ((flags & SlabFlags.RECLAIM_ACCOUNT) != 0) {
            af |= Gfp.RECLAIMABLE;
        }
        this.allocFlags = af;
        // set_min_partial(s, ilog2(s->size) / 2)
        this.minPartial = Math.max(MIN_PARTIAL, Math.min(MAX_PARTIAL, (31 - Integer.numberOfLeadingZeros(size)) / 2));
        this.sheafCapacity = sheafCapacity(size);
        this.batch = (sheafCapacity + 1) / 2;
        this.sheaves = new Sheaf[cpus];
        if (!debug) {
            for (int i = 0; i < cpus; i++) {
                sheaves[i] = new Sheaf(sheafCapacity, batch);
            }
        }
        this.nodes = new SlabNode[pa.nodes()];
        for (int n = 0; n < nodes.length; n++) {
            nodes[n] = new SlabNode(this, pt);
        }
        this.dbg = debug ? new SlabDebug(this, owner) : null;
    }

    // ================================================================== allocation

    /** {@code kmem_cache_alloc(s, gfp)}: an object, or {@link #NULL} on failure. May sleep iff {@code gfp} allows it. */
    public long alloc(int gfp) {
        return slabAlloc(gfp, Task.current(), objectSize);
    }

    /** {@code kmem_cache_zalloc(s, gfp)}: {@link #alloc} with {@code __GFP_ZERO}. */
    public long zalloc(int gfp) {
        return slabAlloc(gfp | Gfp.ZERO, Task.current(), objectSize);
    }

    /** {@code slab_alloc_node()}: pre-alloc hook, sheaf or slab, post-alloc hook. {@code reqSize} is what kmalloc asked for. */
    long slabAlloc(int gfp, Task t, long reqSize) {
        if (destroyed) {
            throw new SlabCacheDestroyedException("kmem_cache_alloc: expected a live cache, found " + name + " destroyed");
        }
        gfp &= Gfp.BITS_MASK; // gfp_allowed_mask
        if (!pa.mightAlloc(gfp, t)) {
            return NULL; // refused context (NMI, PREEMPT_RT atomic); reported
        }
        if (owner.failslab != null && owner.failslab.shouldFailslab(gfp, objectSize, (flags & SlabFlags.FAILSLAB) != 0)) {
            return NULL;
        }
        long obj;
        if (debug) {
            obj = dbg.alloc(gfp, t);
        } else {
            int slot = pa.cpuSlot(t);
            Sheaf sh = sheaves[slot];
            obj = NULL;
            if (sh.tryLock()) {
                try {
                    int c = sh.count;
                    if (c == 0) {
                        c = refill(sh, pa.slotNode(slot));
                    }
                    if (c > 0) {
                        obj = sh.objects[--c];
                        sh.count = c;
                    }
                } finally {
                    sh.unlock();
                }
            }
            if (obj == NULL) {
                obj = allocFromSlab(gfp, pa.slotNode(slot));
            }
        }
        if (obj != NULL) {
            postAlloc(obj, gfp);
        }
        return obj;
    }

    /** {@code slab_post_alloc_hook()}: zeroing for {@code __GFP_ZERO} or {@code init_on_alloc}. */
    private void postAlloc(long obj, int gfp) {
        boolean init = (gfp & Gfp.ZERO) != 0;
        if (owner.initOnAlloc) { // slab_want_init_on_alloc()
            init = ctor == null && ((flags & SlabFlags.POISON) == 0 || init);
        }
        if (init) {
            long off = obj - base;
            int n = objectSize;
            int i = 0;
            for (; i + 8 <= n; i += 8) {
                mem.set(ValueLayout.JAVA_LONG_UNALIGNED, off + i, 0L);
            }
            for (; i < n; i++) {
                mem.set(ValueLayout.JAVA_BYTE, off + i, (byte) 0);
            }
        }
    }

    /** Refills an empty sheaf from the node's partial slabs (no page allocation). Caller holds the sheaf. */
    private int refill(Sheaf sh, int nid) {
        SlabNode n = nodes[nid];
        if (n.partial == PageTableDescriptor.NIL) {
            return 0; // racy peek; the slow path looks again under the lock
        }
        n.lock.lock();
        try {
            int got = n.takeFromPartial(sh.objects, 0, batch);
            sh.count = got;
            return got;
        } finally {
            n.lock.unlock();
        }
    }

    /**
     * {@code ___slab_alloc()}: one object from a partial slab of the local node, then of the other
     * nodes (unless {@code __GFP_THISNODE}), else from a new slab. No lock is held while the new
     * slab is allocated.
     */
    long allocFromSlab(int gfp, int nid) {
        long obj = takeOne(nid);
        if (obj != NULL) {
            return obj;
        }
        if ((gfp & Gfp.THISNODE) == 0) {
            for (int k = 1; k < nodes.length; k++) {
                obj = takeOne((nid + k) % nodes.length);
                if (obj != NULL) {
                    return obj;
                }
            }
        }
        int head = newSlab(gfp, nid);
        if (head < 0) {
            owner.reports.slabOutOfMemory(this, gfp, nid);
            return NULL;
        }
        SlabNode n = nodes[pa.zoneOf(head).nid()];
        n.lock.lock();
        try {
            return n.takeFromNewSlab(head);
        } finally {
            n.lock.unlock();
        }
    }

    private long takeOne(int nid) {
        SlabNode n = nodes[nid];
        if (n.partial == PageTableDescriptor.NIL) {
            return NULL;
        }
        n.lock.lock();
        try {
            return n.takeOneFromPartial();
        } finally {
            n.lock.unlock();
        }
    }

    /**
     * {@code new_slab()}/{@code allocate_slab()}: fixes invalid zone bits (with the kernel's
     * warning), tries the preferred order without direct reclaim and without warnings, then the
     * minimum order with the caller's mask; builds the slab's free list and runs the constructor.
     * Returns the slab's first pfn, or -1.
     */
    private int newSlab(int gfp, int nid) {
        if ((gfp & Slab.GFP_SLAB_BUG_MASK) != 0) {
            gfp = owner.reports.kmallocFixFlags(gfp);
        }
        int fl = (gfp & (Gfp.RECLAIM_MASK | Gfp.CONSTRAINT_MASK)) | allocFlags;
        int allocGfp = (fl | Gfp.NOWARN | Gfp.NORETRY) & ~Gfp.NOFAIL;
        if ((allocGfp & Gfp.DIRECT_RECLAIM) != 0 && order > minOrder) {
            allocGfp = (allocGfp | Gfp.NOMEMALLOC) & ~Gfp.RECLAIM;
        }
        int ord = order;
        int objs = objects;
        long h = pa.allocPagesNode(nid, allocGfp, ord);
        if (h == PageHandle.NULL && order > minOrder) {
            ord = minOrder;
            objs = minObjects;
            int minGfp = minOrder > 0 ? fl : fl & ~Gfp.COMP;
            h = pa.allocPagesNode(nid, minGfp, ord);
        }
        if (h == PageHandle.NULL) {
            return -1;
        }
        int head = PageHandle.pfn(h);
        SlabPages.init(pt, head, ord, id, objs);
        long start = slabAddress(head);
        int firstFree = 0;
        for (int i = objs - 1; i >= 0; i--) {
            long obj = start + (long) i * size + redLeftPad;
            if (dbg != null) {
                dbg.initFreeObject(obj);
            }
            if (ctor != null) {
                ctor.accept(mem.asSlice(obj - base, objectSize));
            }
            setFreePointer(obj, firstFree);
            firstFree = i + 1;
        }
        SlabPages.setFreelist(pt, head, firstFree);
        owner.accountSlabPages(this, 1 << ord);
        SlabNode n = nodes[pa.zoneOf(head).nid()];
        n.lock.lock();
        try {
            n.accountNewSlab(objs);
        } finally {
            n.lock.unlock();
        }
        return head;
    }

    /** {@code discard_slab()}/{@code __free_slab()}: clears the slab marking and frees its pages. */
    void discardSlab(int head) {
        int ord = slabOrder(head);
        SlabPages.clear(pt, head, ord);
        owner.accountSlabPages(this, -(1 << ord));
        pa.freePages(PageHandle.of(head, ord, pt.generation(head)), ord);
    }

    // ================================================================== free

    /** {@code kmem_cache_free(s, obj)}: returns an object. Misuse raises a named {@link SlabMisuseException}. */
    public void free(long obj) {
        int head = owner.objectSlab(obj, "kmem_cache_free");
        KmemCache s = owner.cacheOfSlab(head);
        if (s != this) {
            throw owner.reports.wrongCache(this, s, obj); // cache_from_obj(): "Wrong slab cache"
        }
        slabFree(obj, head, Task.current());
    }

    /** {@code slab_free()} of an object whose slab the caller already found. */
    void slabFree(long obj, int head, Task t) {
        int idx = objectIndex(head, obj);
        if (idx < 0) {
            throw owner.reports.notAnObject(this, head, obj);
        }
        if (owner.preemptRt && !pa.mightFree(t)) {
            return; // refused and reported; the caller still owns the object
        }
        if (debug) {
            dbg.free(obj, head, t);
            return;
        }
        int slot = pa.cpuSlot(t);
        Sheaf sh = sheaves[slot];
        if (sh.tryLock()) {
            try {
                int c = sh.count;
                if (c > 0 && sh.objects[c - 1] == obj) {
                    throw owner.reports.naiveDoubleFree(this, obj); // freelist-hardened check
                }
                if (c == sh.objects.length) {
                    c = flush(sh, batch);
                }
                sh.objects[c] = obj;
                sh.count = c + 1;
            } finally {
                sh.unlock();
            }
            return;
        }
        freeToSlab(obj, head);
    }

    /** {@code __slab_free()}: one object to its slab under the node lock; discards an empty slab beyond {@code min_partial}. */
    void freeToSlab(long obj, int head) {
        SlabNode n = nodes[pa.zoneOf(head).nid()];
        int discard;
        n.lock.lock();
        try {
            if (SlabPages.inuse(pt, head) == 0) {
                throw owner.reports.naiveDoubleFree(this, obj);
            }
            int fp = SlabPages.freelist(pt, head);
            if (fp != 0 && objectAt(head, fp - 1) == obj) {
                throw owner.reports.naiveDoubleFree(this, obj);
            }
            discard = n.freeObject(head, obj);
        } finally {
            n.lock.unlock();
        }
        if (discard != PageTableDescriptor.NIL) {
            discardSlab(discard);
        }
    }

    /**
     * Gives the oldest {@code count} objects of a held sheaf back to their slabs, taking each
     * node's lock once per run of objects from that node; empty slabs beyond {@code min_partial}
     * are discarded after the node lock is dropped. Returns the new count.
     */
    private int flush(Sheaf sh, int count) {
        int c = sh.count;
        count = Math.min(count, c);
        int[] discards = sh.discards;
        int nd = 0;
        int i = 0;
        while (i < count) {
            int nid = pa.zoneOf(pfnOf(sh.objects[i])).nid();
            SlabNode n = nodes[nid];
            n.lock.lock();
            try {
                while (i < count) {
                    long obj = sh.objects[i];
                    int pfn = pfnOf(obj);
                    if (pa.zoneOf(pfn).nid() != nid) {
                        break;
                    }
                    int d = n.freeObject(SlabPages.head(pt, pfn), obj);
                    if (d != PageTableDescriptor.NIL) {
                        discards[nd++] = d;
                    }
                    i++;
                }
            } finally {
                n.lock.unlock();
            }
        }
        for (int k = 0; k < nd; k++) {
            discardSlab(discards[k]);
        }
        System.arraycopy(sh.objects, count, sh.objects, 0, c - count);
        sh.count = c - count;
        return sh.count;
    }

    // ================================================================== shrink, destroy

    /**
     * {@code kmem_cache_shrink()}: gives every sheaf's objects back to the slabs and frees every
     * empty slab. Returns the pages freed. May be called from reclaim (holds no lock while freeing).
     */
    public long shrink() {
        flushAllSheaves();
        return freeEmptySlabs(Integer.MAX_VALUE);
    }

    void flushAllSheaves() {
        if (debug) {
            return;
        }
        for (Sheaf sh : sheaves) {
            sh.lock();
            try {
                flush(sh, sh.count);
            } finally {
                sh.unlock();
            }
        }
    }

    /** Frees up to {@code maxPages} pages of empty slabs; returns the pages freed. */
    long freeEmptySlabs(long maxPages) {
        long freed = 0;
        int[] batchOut = new int[16];
        for (SlabNode n : nodes) {
            while (freed < maxPages) {
                int got;
                n.lock.lock();
                try {
                    got = n.takeEmpty(batchOut, batchOut.length);
                } finally {
                    n.lock.unlock();
                }
                if (got == 0) {
                    break;
                }
                for (int i = 0; i < got; i++) {
                    freed += 1L << slabOrder(batchOut[i]);
                    discardSlab(batchOut[i]);
                }
            }
        }
        return freed;
    }

    /** Pages in empty slabs that {@link #freeEmptySlabs} could free now (lock-free estimate). */
    long emptySlabPages() {
        long n = 0;
        for (SlabNode node : nodes) {
            n += (long) node.nrEmpty << order;
        }
        return n;
    }

    /**
     * {@code kmem_cache_destroy()}: shrinks the cache and unregisters it. Objects still allocated
     * make it fail with {@link SlabCacheLeakException} ("Slab cache still has objects"), listing
     * the allocation sites when the cache tracks users; the cache then stays usable, as the kernel
     * keeps a cache it could not destroy.
     */
    public void destroy() {
        if (destroyed) {
            return;
        }
        shrink();
        long live = activeObjects();
        if (live > 0) {
            throw owner.reports.stillHasObjects(this, live);
        }
        destroyed = true;
        owner.unregister(this);
    }

    /** True after a successful {@link #destroy()}. */
    public boolean isDestroyed() {
        return destroyed;
    }

    // ================================================================== object <-> slab

    /** The order of a slab: {@link #order()}, or the minimum order when it was allocated as a fallback. */
    int slabOrder(int head) {
        return SlabPages.objects(pt, head) == objects ? order : minOrder;
    }

    long slabAddress(int head) {
        return base + ((long) head << 12);
    }

    int pfnOf(long obj) {
        return (int) ((obj - base) >>> 12);
    }

    long objectAt(int head, int idx) {
        return slabAddress(head) + (long) idx * size + redLeftPad;
    }

    /**
     * {@code check_valid_pointer()} with {@code obj_to_index()}: the object's index in its slab, or
     * -1 when {@code obj} is not an object start. Divides by multiplying with the cache's
     * reciprocal ({@code reciprocal_divide}, as the kernel does): the quotient is exact or one too
     * large for offsets below 2^32, and one correction step makes it exact.
     */
    int objectIndex(int head, long obj) {
        long rel = obj - slabAddress(head) - redLeftPad;
        if (rel < 0 || rel >= (4096L << Gfp.MAX_PAGE_ORDER)) {
            return -1;
        }
        long q = (rel * reciprocalSize) >>> 32;
        long r = rel - q * size;
        if (r < 0) {
            q--;
            r += size;
        }
        if (r != 0) {
            return -1;
        }
        return q < SlabPages.objects(pt, head) ? (int) q : -1;
    }

    /** {@code get_freepointer()}: next free object's index + 1, 0 at the end. */
    int getFreePointer(long obj) {
        return mem.get(ValueLayout.JAVA_INT, obj - base + offset);
    }

    void setFreePointer(long obj, int nextIdxPlusOne) {
        mem.set(ValueLayout.JAVA_INT, obj - base + offset, nextIdxPlusOne);
    }

    /** Pops the first free object of a slab (caller holds the node lock and knows one exists). */
    long popFree(int head) {
        int fp = SlabPages.freelist(pt, head);
        long obj = objectAt(head, fp - 1);
        SlabPages.setFreelist(pt, head, getFreePointer(obj));
        return obj;
    }

    /** Pushes an object on its slab's free list (caller holds the node lock). */
    void pushFree(int head, long obj) {
        setFreePointer(obj, SlabPages.freelist(pt, head));
        SlabPages.setFreelist(pt, head, objectIndex(head, obj) + 1);
    }

    // ================================================================== figures

    /** The cache's name (as in {@code /proc/slabinfo}). */
    public String name() {
        return name;
    }

    /** {@code object_size}: what a user may use. */
    public int objectSize() {
        return objectSize;
    }

    /** {@code size}: the stride between objects, metadata and padding included. */
    public int size() {
        return size;
    }

    /** Alignment of every object. */
    public int align() {
        return align;
    }

    /** Creation flags ({@link SlabFlags}). */
    public int flags() {
        return flags;
    }

    /** Pages per slab, as an order. */
    public int order() {
        return order;
    }

    /** Objects per slab of {@link #order()}. */
    public int objectsPerSlab() {
        return objects;
    }

    /** {@code slab_ksize()}: usable bytes of an object (the object size when red zones or poison guard the rest). */
    public int ksize() {
        if ((flags & (SlabFlags.RED_ZONE | SlabFlags.POISON)) != 0) {
            return objectSize;
        }
        if ((flags & SlabFlags.STORE_USER) != 0 || offset >= objectSize) {
            return inuse;
        }
        return size;
    }

    /** Slabs of the cache. */
    public long slabs() {
        long n = 0;
        for (SlabNode node : nodes) {
            n += node.nrSlabs;
        }
        return n;
    }

    /** Objects in all slabs ({@code num_objs}). */
    public long totalObjects() {
        long n = 0;
        for (SlabNode node : nodes) {
            n += node.totalObjects;
        }
        return n;
    }

    /** Objects not free in a slab: allocated, or cached in a sheaf ({@code active_objs}). Takes the node locks. */
    public long activeObjectsInSlabs() {
        long active = 0;
        for (SlabNode node : nodes) {
            node.lock.lock();
            try {
                active += node.totalObjects - node.countFree();
            } finally {
                node.lock.unlock();
            }
        }
        return active;
    }

    /** Objects held by users: {@link #activeObjectsInSlabs()} minus the objects cached in sheaves. */
    public long activeObjects() {
        long cached = 0;
        if (!debug) {
            for (Sheaf sh : sheaves) {
                sh.lock();
                try {
                    cached += sh.count;
                } finally {
                    sh.unlock();
                }
            }
        }
        return activeObjectsInSlabs() - cached;
    }

    /** Checks every slab's books; returns the number of errors (each reported to the log). */
    public int validate() {
        return SlabValidator.validate(this, owner, pt);
    }

    @Override
    public String toString() {
        return "KmemCache[" + name + ", object " + objectSize + " B, size " + size + " B, order " + order
                + ", " + objects + "/slab, flags " + SlabFlags.names(flags) + "]";
    }
}
