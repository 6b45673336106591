package io.memscope.page;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.ZoneType;
import java.util.Arrays;

/**
 * The page allocator's configuration, validated once ({@code MemoryManager.Builder} fills it). Knob
 * names follow the kernel's sysctls.
 *
 * <p><b>Default zone layout</b> (the machine is small, so the kernel's physical layout is scaled
 * down while its semantics are kept): memory is split evenly over the nodes; node 0 gets a 4 MiB
 * ZONE_DMA (when it has at least 64 MiB), a ZONE_DMA32 of a quarter of the node (the stand-in for
 * "below 4 GiB"), and ZONE_NORMAL for the rest; other nodes have only ZONE_NORMAL; ZONE_MOVABLE is
 * empty unless configured. Every zone size is a multiple of 4 MiB ({@code 1 << MAX_PAGE_ORDER} pages).
 *
 * @param zonePages          pages per node per zone, {@code [nid][zoneIdx]}
 * @param cpuSlots           number of per-CPU slots (the machine's "CPUs")
 * @param minFreeKbytes      {@code vm.min_free_kbytes}
 * @param watermarkScaleFactor {@code vm.watermark_scale_factor}
 * @param lowmemReserveRatio {@code vm.lowmem_reserve_ratio} per zone
 * @param debug              debug mode: poisoning, alloc/free stacks, quarantine
 * @param quarantinePages    pages held back after free in debug mode (0 = no quarantine)
 * @param preemptRt          PREEMPT_RT rules: no allocation or free under raw spinlocks or in hardirq
 * @param initOnAlloc        {@code init_on_alloc=1}: every allocation is zeroed
 */
public record PageAllocConfig(long[][] zonePages, int cpuSlots, int minFreeKbytes, int watermarkScaleFactor,
                              int[] lowmemReserveRatio, boolean debug, int quarantinePages, boolean preemptRt,
                              boolean initOnAlloc) {
    /** Bytes per page. */
    public static final int PAGE_SIZE = 4096;
    /** log2(PAGE_SIZE). */
    public static final int PAGE_SHIFT = 12;
    /** Zone sizes must be multiples of this many pages. */
    public static final int ZONE_ALIGN_PAGES = 1 << Gfp.MAX_PAGE_ORDER;

    public PageAllocConfig {
        if (zonePages == null || zonePages.length == 0 || zonePages.length > 64) {
            throw new IllegalArgumentException("nodes must be 1..64, found "
                    + (zonePages == null ? "null" : zonePages.length));
        }
        long total = 0;
        long[][] copy = new long[zonePages.length][];
        for (int n = 0; n < zonePages.length; n++) {
            if (zonePages[n].length != ZoneType.COUNT) {
                throw new IllegalArgumentException("node " + n + ": expected " + ZoneType.COUNT
                        + " zone sizes, found " + zonePages[n].length);
            }
            copy[n] = zonePages[n].clone();
            for (int z = 0; z < ZoneType.COUNT; z++) {
                long p = zonePages[n][z];
                if (p < 0 || p % ZONE_ALIGN_PAGES != 0) {
                    throw new IllegalArgumentException("node " + n + " zone " + ZoneType.ofIndex(z).kernelName()
                            + ": expected a multiple of " + ZONE_ALIGN_PAGES + " pages (4 MiB), found " + p);
                }
                total += p;
            }
        }
        if (total == 0 || total > (Integer.MAX_VALUE >> PageTableDescriptor.RECORD_SHIFT)) {
            throw new IllegalArgumentException("total pages must be in 1.."
                    + (Integer.MAX_VALUE >> PageTableDescriptor.RECORD_SHIFT) + ", found " + total);
        }
        zonePages = copy;
        if (cpuSlots < 1 || cpuSlots > 1024) {
            throw new IllegalArgumentException("cpuSlots must be 1..1024, found " + cpuSlots);
        }
        if (minFreeKbytes < 0) {
            throw new IllegalArgumentException("min_free_kbytes must be >= 0 (0 = kernel default), found " + minFreeKbytes);
        }
        if (watermarkScaleFactor < 1 || watermarkScaleFactor > 3000) {
            throw new IllegalArgumentException("watermark_scale_factor must be 1..3000, found " + watermarkScaleFactor);
        }
        if (lowmemReserveRatio == null || lowmemReserveRatio.length != ZoneType.COUNT) {
            throw new IllegalArgumentException("lowmem_reserve_ratio needs " + ZoneType.COUNT + " values");
        }
        lowmemReserveRatio = lowmemReserveRatio.clone();
        if (quarantinePages < 0) {
            throw new IllegalArgumentException("quarantine must be >= 0 pages, found " + quarantinePages);
        }
    }

    /** The default layout for {@code totalBytes} over {@code nodes} nodes (see the class comment). */
    public static long[][] defaultLayout(long totalBytes, int nodes) {
        if (nodes < 1) {
            throw new IllegalArgumentException("nodes must be >= 1, found " + nodes);
        }
        long perNode = totalBytes / PAGE_SIZE / nodes;
        perNode -= perNode % ZONE_ALIGN_PAGES;
        if (perNode <= 0) {
            throw new IllegalArgumentException("memory must be at least 4 MiB per node, found " + totalBytes
                    + " bytes for " + nodes + " node(s)");
        }
        long[][] z = new long[nodes][ZoneType.COUNT];
        for (int n = 0; n < nodes; n++) {
            if (n == 0) {
                long dma = perNode >= 16 * ZONE_ALIGN_PAGES ? ZONE_ALIGN_PAGES : 0;
                long dma32 = (perNode / 4) - (perNode / 4) % ZONE_ALIGN_PAGES;
                z[n][0] = dma;
                z[n][1] = dma32;
                z[n][2] = perNode - dma - dma32;
            } else {
                z[n][2] = perNode;
            }
        }
        return z;
    }

    /** Total pages. */
    public long totalPages() {
        return Arrays.stream(zonePages).flatMapToLong(Arrays::stream).sum();
    }

    /** Number of nodes. */
    public int nodes() {
        return zonePages.length;
    }
}
