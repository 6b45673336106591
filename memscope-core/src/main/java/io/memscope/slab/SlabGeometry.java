package io.memscope.slab;

import static io.memscope.slab.KmemCache.CACHE_LINE;
import static io.memscope.slab.KmemCache.MIN_ALIGN;
import static io.memscope.slab.KmemCache.SLUB_MAX_ORDER;

import io.memscope.page.PageAllocator;

/**
 * A cache's geometry, the pure arithmetic of {@code mm/slub.c} that {@code kmem_cache_create}
 * runs once: {@code calculate_alignment()}, {@code calculate_order()} with
 * {@code calc_slab_order()}, {@code order_objects()}, and the per-CPU sheaf capacity.
 *
 * <p>Why a class of its own: none of it touches a cache's state, every result is pinned by
 * {@code KmallocTest} against the kernel's figures, and {@link KmemCache} keeps only the object
 * paths that run on every allocation and free.
 */
final class SlabGeometry {
    private SlabGeometry() {}

    /** {@code PAGE_SIZE}. */
    static final int PAGE_SIZE = 4096;

    /** {@code ALIGN(v, a)} for a power-of-two {@code a}. */
    static int alignUp(int v, int a) {
        return (v + a - 1) & -a;
    }

    /** {@code ALIGN_DOWN(v, a)} for a power-of-two {@code a}. */
    static int alignDown(int v, int a) {
        return v & -a;
    }

    /** {@code get_order(size)}. */
    static int getOrder(long size) {
        return PageAllocator.getOrder(size);
    }

    /** {@code order_objects()}: objects of {@code size} bytes in a slab of {@code order}. */
    static int orderObjects(int order, int size) {
        return (PAGE_SIZE << order) / size;
    }

    /**
     * {@code calculate_alignment()}: {@code SLAB_HWCACHE_ALIGN} takes the cache line, halved while
     * the object still fits in half of it; at least {@code ARCH_SLAB_MINALIGN}.
     */
    static int calculateAlignment(int flags, int align, int size) {
        int a = align;
        if ((flags & SlabFlags.HWCACHE_ALIGN) != 0) {
            int ralign = CACHE_LINE;
            while (size <= ralign / 2) {
                ralign /= 2;
            }
            a = Math.max(a, ralign);
        }
        a = Math.max(a, MIN_ALIGN);
        return alignUp(a, MIN_ALIGN);
    }

    /**
     * {@code calculate_order()}: the smallest order, from the order that holds
     * {@code min_objects = 4 * (fls(nr_cpus) + 1)} objects up to {@code slub_max_order}, whose
     * leftover is at most 1/16 of the slab (then 1/8, then 1/4); failing that, {@code get_order(size)}.
     */
    static int calculateOrder(int size, int nrCpus) {
        int minObjects = 4 * (32 - Integer.numberOfLeadingZeros(nrCpus) + 1);
        int maxObjects = Math.max(orderObjects(SLUB_MAX_ORDER, size), 1);
        minObjects = Math.min(minObjects, maxObjects);
        int minOrder = getOrder((long) minObjects * size);
        if (orderObjects(minOrder, size) > SlabPages.MAX_OBJS) {
            return getOrder((long) size * SlabPages.MAX_OBJS) - 1;
        }
        for (int fraction = 16; fraction > 1; fraction /= 2) {
            int order = calcSlabOrder(size, minOrder, SLUB_MAX_ORDER, fraction);
            if (order <= SLUB_MAX_ORDER) {
                return order;
            }
        }
        return getOrder(size);
    }

    /** {@code calc_slab_order()}. */
    static int calcSlabOrder(int size, int minOrder, int maxOrder, int fractLeftover) {
        int order;
        for (order = minOrder; order <= maxOrder; order++) {
            int slabSize = PAGE_SIZE << order;
            int rem = slabSize % size;
            if (rem <= slabSize / fractLeftover) {
                break;
            }
        }
        return order;
    }

    /**
     * Per-CPU sheaf capacity by object size. The kernel sizes sheaves per cache; memscope uses the
     * classic per-CPU array limits of {@code enable_cpucache()} (mm/slab.c): 120 objects up to
     * 256 bytes, 54 up to 1 KiB, 24 up to a page, 8 above.
     */
    static int sheafCapacity(int size) {
        if (size > 4096) {
            return 8;
        }
        if (size > 1024) {
            return 24;
        }
        if (size > 256) {
            return 54;
        }
        return 120;
    }
}
