package io.memscope.page;

import io.memscope.gfp.ZoneType;

/**
 * Watermark and reserve arithmetic of {@code mm/page_alloc.c}, as pure functions so that each
 * rule can be tested against the kernel's numbers with a constructed zone state:
 * {@code calculate_min_free_kbytes()}, {@code __setup_per_zone_wmarks()},
 * {@code setup_per_zone_lowmem_reserve()}, {@code __zone_watermark_ok()},
 * {@code zone_batchsize()} and {@code zone_highsize()}.
 *
 * <p>Example (KERNEL.md §0): one 4 GiB zone (1,048,576 pages) with {@code min_free_kbytes} 8192 and
 * {@code watermark_scale_factor} 10 gives min 2048, step max(512, 1048) = 1048, low 3096, high 4144.
 */
public final class Watermarks {
    private Watermarks() {}

    /** KiB per page. */
    static final int PAGE_KB = 4;
    /** {@code SWAP_CLUSTER_MAX}. */
    static final long SWAP_CLUSTER_MAX = 32;
    /** {@code sysctl_lowmem_reserve_ratio[]} for DMA, DMA32, Normal, Movable. */
    public static final int[] DEFAULT_LOWMEM_RESERVE_RATIO = {256, 256, 32, 0};
    /** Default {@code watermark_scale_factor} (per 10,000 of the zone). */
    public static final int DEFAULT_WATERMARK_SCALE_FACTOR = 10;

    /** Integer square root ({@code int_sqrt}). */
    static long intSqrt(long x) {
        long r = (long) Math.sqrt((double) x);
        while (r * r > x) {
            r--;
        }
        while ((r + 1) * (r + 1) <= x) {
            r++;
        }
        return r;
    }

    /**
     * {@code calculate_min_free_kbytes()}: {@code clamp(int_sqrt(lowmem_kbytes * 16), 128, 262144)},
     * where lowmem is every page of the zones up to ZONE_NORMAL.
     */
    public static int defaultMinFreeKbytes(long lowmemPages) {
        long kb = lowmemPages * PAGE_KB;
        long v = intSqrt(kb * 16);
        return (int) Math.clamp(v, 128, 262144);
    }

    /**
     * {@code __setup_per_zone_wmarks()} for one zone. Returns {min, low, high, promo} in pages.
     *
     * @param managed      the zone's managed pages
     * @param zoneIdx      the zone index (Movable gets {@code clamp(managed/1024, 32, 128)} as min)
     * @param lowmemPages  managed pages of all non-movable zones of the machine
     */
    public static long[] zoneWatermarks(long managed, int zoneIdx, long lowmemPages, int minFreeKbytes,
                                        int watermarkScaleFactor) {
        long pagesMin = minFreeKbytes / PAGE_KB;
        long tmp = lowmemPages == 0 ? 0 : pagesMin * managed / lowmemPages;
        long min;
        if (zoneIdx == ZoneType.MOVABLE.ordinal()) {
            min = Math.clamp(managed / 1024, SWAP_CLUSTER_MAX, 128L);
        } else {
            min = tmp;
        }
        long step = Math.max(tmp >> 2, managed * watermarkScaleFactor / 10000);
        long low = min + step;
        long high = low + step;
        return new long[] {min, low, high, high + step};
    }

    /**
     * {@code setup_per_zone_lowmem_reserve()} for one node: {@code reserve[i][j]} (j > i) is the sum of
     * the managed pages of zones i+1..j divided by {@code ratio[i]}; 0 when the ratio is 0 or zone i
     * is empty.
     */
    public static long[][] lowmemReserve(long[] managed, int[] ratio) {
        int n = managed.length;
        long[][] r = new long[n][n];
        for (int i = 0; i < n; i++) {
            boolean clear = ratio[i] == 0 || managed[i] == 0;
            long sum = 0;
            for (int j = i + 1; j < n; j++) {
                sum += managed[j];
                r[i][j] = clear ? 0 : sum / ratio[i];
            }
        }
        return r;
    }

    /**
     * {@code __zone_watermark_ok()}: may {@code 1 << order} pages be taken from a zone with
     * {@code freePages} free, given watermark {@code mark}, the lowmem reserve toward the request's
     * highest zone, the free highatomic pages, and the reserve level in {@code allocFlags}?
     *
     * <p>Reserve levels: MIN_RESERVE halves min, NON_BLOCK on top takes another quarter (GFP_ATOMIC:
     * 62.5% of min usable); OOM halves it again. The comparison is strict: {@code free == min + reserve}
     * fails. For order > 0 a block of at least that order must exist on a list the request may use;
     * {@code hasBlock} answers that.
     */
    public static boolean zoneWatermarkOk(long freePages, long mark, long lowmemReserve, long freeHighatomic,
                                          int order, int allocFlags, OrderProbe hasBlock) {
        long free = freePages - ((1L << order) - 1);
        if ((allocFlags & AllocFlags.RESERVES) == 0) {
            free -= freeHighatomic;
        }
        long min = mark;
        if ((allocFlags & AllocFlags.RESERVES) != 0) {
            if ((allocFlags & AllocFlags.MIN_RESERVE) != 0) {
                min -= min / 2;
                if ((allocFlags & AllocFlags.NON_BLOCK) != 0) {
                    min -= min / 4;
                }
            }
            if ((allocFlags & AllocFlags.OOM) != 0) {
                min -= min / 2;
            }
        }
        if (free <= min + lowmemReserve) {
            return false;
        }
        if (order == 0) {
            return true;
        }
        boolean mayHighatomic = (allocFlags & (AllocFlags.HIGHATOMIC | AllocFlags.OOM)) != 0;
        return hasBlock.hasFreeBlock(order, mayHighatomic);
    }

    /** Answers whether a zone has a free block of at least an order on a usable list. */
    @FunctionalInterface
    public interface OrderProbe {
        /** True when a block of order ≥ {@code order} is free on a pcp-type list (or HIGHATOMIC if allowed). */
        boolean hasFreeBlock(int order, boolean mayUseHighatomic);
    }

    /**
     * {@code zone_batchsize()}: about 0.1% of the zone, at most 1 MiB worth, divided by four and
     * rounded to {@code 2^n - 1}; at least 1.
     */
    public static int zoneBatchsize(long managed) {
        long batch = Math.min(managed >> 10, (1 << 20) / 4096);
        batch /= 4;
        if (batch < 1) {
            batch = 1;
        }
        long v = batch + batch / 2;
        batch = Long.highestOneBit(v) - 1;
        return (int) Math.max(1, batch);
    }

    /**
     * {@code zone_highsize()} with {@code percpu_pagelist_high_fraction} = 0: the low watermark split
     * over the CPUs (here: slots) of the node, at least {@code batch * 4}.
     */
    public static int zoneHighsize(long lowWmark, int batch, int cpus) {
        long high = lowWmark / Math.max(1, cpus);
        return (int) Math.max(high, (long) batch << 2);
    }
}
