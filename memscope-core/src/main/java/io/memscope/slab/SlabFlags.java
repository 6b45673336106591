package io.memscope.slab;

import java.util.StringJoiner;

/**
 * The {@code SLAB_*} cache creation flags of {@code include/linux/slab.h} that memscope
 * implements. The bit values are memscope's own (the kernel renumbers them between releases);
 * the names and meanings are the kernel's.
 *
 * <p>Debug flags ({@link #DEBUG_FLAGS}) take the cache off the per-CPU sheaves: every allocation
 * and free goes to the slab under the node lock with the consistency checks, as
 * {@code kmem_cache_debug()} forces SLUB's slow path.
 */
public final class SlabFlags {
    private SlabFlags() {}

    /** {@code SLAB_CONSISTENCY_CHECKS}: check every free (double free, foreign object, freelist). */
    public static final int CONSISTENCY_CHECKS = 1;
    /** {@code SLAB_RED_ZONE}: guard bytes before and after each object, checked on free and allocation. */
    public static final int RED_ZONE = 1 << 1;
    /** {@code SLAB_POISON}: free objects are filled with {@code 0x6b…0xa5}, checked on allocation. */
    public static final int POISON = 1 << 2;
    /** {@code SLAB_STORE_USER}: remember the allocating and freeing stack of each object. */
    public static final int STORE_USER = 1 << 3;
    /** {@code SLAB_HWCACHE_ALIGN}: align objects on cache lines (halved while the object fits twice). */
    public static final int HWCACHE_ALIGN = 1 << 4;
    /** {@code SLAB_CACHE_DMA}: slabs come from {@code ZONE_DMA} ({@code GFP_DMA}). */
    public static final int CACHE_DMA = 1 << 5;
    /** {@code SLAB_CACHE_DMA32}: slabs come from {@code ZONE_DMA32}. */
    public static final int CACHE_DMA32 = 1 << 6;
    /** {@code SLAB_RECLAIM_ACCOUNT}: slabs are {@code __GFP_RECLAIMABLE} pages, counted as SReclaimable. */
    public static final int RECLAIM_ACCOUNT = 1 << 7;
    /** {@code SLAB_PANIC}: creation failure is fatal (an exception instead of null). */
    public static final int PANIC = 1 << 8;
    /** {@code SLAB_FAILSLAB}: selected for {@code failslab} when its {@code cache-filter} is on. */
    public static final int FAILSLAB = 1 << 9;
    /** {@code SLAB_ACCOUNT}: objects charged to the memory cgroup (recorded; memscope has no memcg). */
    public static final int ACCOUNT = 1 << 10;
    /** {@code SLAB_NO_MERGE}: never merged with a compatible cache (memscope never merges). */
    public static final int NO_MERGE = 1 << 11;
    /** {@code SLAB_KMALLOC}: one of the kmalloc caches (internal). */
    static final int KMALLOC = 1 << 12;

    /** {@code SLAB_DEBUG_FLAGS}. */
    public static final int DEBUG_FLAGS = CONSISTENCY_CHECKS | RED_ZONE | POISON | STORE_USER;
    /** Everything {@link KmemCache} accepts from a caller. */
    public static final int VALID = DEBUG_FLAGS | HWCACHE_ALIGN | CACHE_DMA | CACHE_DMA32 | RECLAIM_ACCOUNT | PANIC
            | FAILSLAB | ACCOUNT | NO_MERGE;

    private static final String[] NAMES = {"SLAB_CONSISTENCY_CHECKS", "SLAB_RED_ZONE", "SLAB_POISON",
        "SLAB_STORE_USER", "SLAB_HWCACHE_ALIGN", "SLAB_CACHE_DMA", "SLAB_CACHE_DMA32", "SLAB_RECLAIM_ACCOUNT",
        "SLAB_PANIC", "SLAB_FAILSLAB", "SLAB_ACCOUNT", "SLAB_NO_MERGE", "SLAB_KMALLOC"};

    /** The flags by name, joined with {@code |}; {@code 0} for none. */
    public static String names(int flags) {
        if (flags == 0) {
            return "0";
        }
        StringJoiner j = new StringJoiner("|");
        for (int b = 0; b < NAMES.length; b++) {
            if ((flags & (1 << b)) != 0) {
                j.add(NAMES[b]);
            }
        }
        int unknown = flags & ~((1 << NAMES.length) - 1);
        if (unknown != 0) {
            j.add("0x" + Integer.toHexString(unknown));
        }
        return j.toString();
    }
}
