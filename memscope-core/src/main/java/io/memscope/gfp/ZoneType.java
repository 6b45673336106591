package io.memscope.gfp;

/**
 * The zone types of a 64-bit kernel without highmem ({@code enum zone_type} in
 * {@code include/linux/mmzone.h}), and the mapping {@code gfp_zone()} of
 * {@code include/linux/gfp.h} from a mask's four zone-modifier bits to the highest zone the
 * allocation may use.
 *
 * <p>{@code gfp_zone()} is a table lookup ({@code GFP_ZONE_TABLE}) over the low four bits;
 * eight of the sixteen combinations are in {@code GFP_ZONE_BAD} and have no zone. On 64-bit,
 * {@code __GFP_HIGHMEM} selects ZONE_NORMAL (OPT_ZONE_HIGHMEM falls back to NORMAL) and
 * {@code __GFP_HIGHMEM|__GFP_MOVABLE} selects ZONE_MOVABLE; {@code __GFP_MOVABLE} alone stays in
 * ZONE_NORMAL. The ordinal is the kernel's zone index ({@code zone_idx}).
 */
public enum ZoneType {
    /** ZONE_DMA: the lowest 16 MiB (x86-64). */
    DMA("DMA"),
    /** ZONE_DMA32: below 4 GiB. */
    DMA32("DMA32"),
    /** ZONE_NORMAL. */
    NORMAL("Normal"),
    /** ZONE_MOVABLE: only movable (migratable/reclaimable) pages. */
    MOVABLE("Movable"),
    /** Not a zone: the result of {@code gfp_zone()} for a combination in {@code GFP_ZONE_BAD}. */
    BAD("BAD");

    /** The real zones, lowest first. */
    private static final ZoneType[] REAL = {DMA, DMA32, NORMAL, MOVABLE};

    /** Index 0..15 = low four bits of the mask; the kernel's GFP_ZONE_TABLE for 64-bit without highmem. */
    private static final ZoneType[] TABLE = {
        NORMAL,  // 0x0  none
        DMA,     // 0x1  __GFP_DMA
        NORMAL,  // 0x2  __GFP_HIGHMEM (no highmem on 64-bit)
        BAD,     // 0x3  DMA|HIGHMEM
        DMA32,   // 0x4  __GFP_DMA32
        BAD,     // 0x5  DMA|DMA32
        BAD,     // 0x6  HIGHMEM|DMA32
        BAD,     // 0x7  DMA|HIGHMEM|DMA32
        NORMAL,  // 0x8  __GFP_MOVABLE alone
        DMA,     // 0x9  MOVABLE|DMA
        MOVABLE, // 0xa  MOVABLE|HIGHMEM
        BAD,     // 0xb  MOVABLE|HIGHMEM|DMA
        DMA32,   // 0xc  MOVABLE|DMA32
        BAD,     // 0xd  MOVABLE|DMA32|DMA
        BAD,     // 0xe  MOVABLE|DMA32|HIGHMEM
        BAD,     // 0xf  all four
    };

    private final String kernelName;

    ZoneType(String kernelName) {
        this.kernelName = kernelName;
    }

    /** The name the kernel prints (meminfo, zoneinfo, vmstat suffix is its lower case). */
    public String kernelName() {
        return kernelName;
    }

    /** The vmstat suffix of per-zone counters ({@code pgalloc_dma32}, {@code allocstall_normal}). */
    public String vmstatSuffix() {
        return kernelName.toLowerCase(java.util.Locale.ROOT);
    }

    /** True for the four real zones. */
    public boolean isReal() {
        return this != BAD;
    }

    /** The real zones, lowest first (a fresh copy). */
    public static ZoneType[] realZones() {
        return REAL.clone();
    }

    /** Number of real zone types ({@code MAX_NR_ZONES}). */
    public static final int COUNT = 4;

    /** {@code gfp_zone()}: the highest usable zone for this mask, or BAD. */
    public static ZoneType forGfp(int gfp) {
        return TABLE[gfp & Gfp.ZONEMASK];
    }

    /** The zone with kernel zone index {@code idx} (0 = DMA .. 3 = MOVABLE). */
    public static ZoneType ofIndex(int idx) {
        return REAL[idx];
    }
}
