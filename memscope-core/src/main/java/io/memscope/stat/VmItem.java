package io.memscope.stat;

/**
 * The vmstat items memscope counts, with the kernel's names ({@code mm/vmstat.c}
 * {@code vmstat_text[]}); per-zone families expand to {@code _dma}, {@code _dma32}, {@code _normal},
 * {@code _movable} in zone-index order so {@link #pgalloc(int)} and friends can index them.
 * Declaration order is the order {@code /proc/vmstat} prints.
 */
public enum VmItem {
    NR_FREE_PAGES("nr_free_pages", true),
    // ---- reclaim node state (sources: reclaim.Lru, reclaim.Vmscan) ----
    NR_INACTIVE_FILE("nr_inactive_file", true),
    NR_ACTIVE_FILE("nr_active_file", true),
    NR_ISOLATED_FILE("nr_isolated_file", true),
    NR_VMSCAN_WRITE("nr_vmscan_write"),
    NR_VMSCAN_IMMEDIATE_RECLAIM("nr_vmscan_immediate_reclaim"),
    PGALLOC_DMA("pgalloc_dma"), PGALLOC_DMA32("pgalloc_dma32"), PGALLOC_NORMAL("pgalloc_normal"),
    PGALLOC_MOVABLE("pgalloc_movable"),
    ALLOCSTALL_DMA("allocstall_dma"), ALLOCSTALL_DMA32("allocstall_dma32"), ALLOCSTALL_NORMAL("allocstall_normal"),
    ALLOCSTALL_MOVABLE("allocstall_movable"),
    PGSKIP_DMA("pgskip_dma"), PGSKIP_DMA32("pgskip_dma32"), PGSKIP_NORMAL("pgskip_normal"),
    PGSKIP_MOVABLE("pgskip_movable"),
    PGFREE("pgfree"),
    PGACTIVATE("pgactivate"),
    PGDEACTIVATE("pgdeactivate"),
    PGREFILL("pgrefill"),
    PGSTEAL_KSWAPD("pgsteal_kswapd"),
    PGSTEAL_DIRECT("pgsteal_direct"),
    PGSCAN_KSWAPD("pgscan_kswapd"),
    PGSCAN_DIRECT("pgscan_direct"),
    PGSCAN_DIRECT_THROTTLE("pgscan_direct_throttle"),
    SLABS_SCANNED("slabs_scanned"),
    KSWAPD_LOW_WMARK_HIT_QUICKLY("kswapd_low_wmark_hit_quickly"),
    KSWAPD_HIGH_WMARK_HIT_QUICKLY("kswapd_high_wmark_hit_quickly"),
    PAGEOUTRUN("pageoutrun"),
    PGROTATED("pgrotated"),
    /** Not a kernel vmstat item: the count of {@code mm_vmscan_kswapd_wake} events (issue 4's {@code kswapd_wake}). */
    KSWAPD_WAKE("kswapd_wake"),
    DROP_PAGECACHE("drop_pagecache"),
    DROP_SLAB("drop_slab"),
    OOM_KILL("oom_kill"),
    COMPACT_STALL("compact_stall"),
    COMPACT_FAIL("compact_fail"),
    COMPACT_SUCCESS("compact_success");

    private static final VmItem[] VALUES = values();
    private final String kernelName;
    private final boolean state;

    VmItem(String kernelName) {
        this(kernelName, false);
    }

    VmItem(String kernelName, boolean state) {
        this.kernelName = kernelName;
        this.state = state;
    }

    /** The name {@code /proc/vmstat} prints. */
    public String kernelName() {
        return kernelName;
    }

    /**
     * True for a state item — a count of pages in some state that goes up and down (the kernel's
     * zone and node state items such as {@code nr_free_pages}) — false for an event counter that
     * only grows ({@code pgalloc_*}, {@code pgscan_*}, and {@code nr_vmscan_write}, which the kernel
     * names like state but only ever increments). A difference of two snapshots means something
     * only for event counters.
     */
    public boolean isState() {
        return state;
    }

    /** {@code pgalloc_<zone>} for zone index {@code zoneIdx} (0 = DMA .. 3 = Movable). */
    public static VmItem pgalloc(int zoneIdx) {
        return VALUES[PGALLOC_DMA.ordinal() + zoneIdx];
    }

    /** {@code allocstall_<zone>}. */
    public static VmItem allocstall(int zoneIdx) {
        return VALUES[ALLOCSTALL_DMA.ordinal() + zoneIdx];
    }

    /** {@code pgskip_<zone>}. */
    public static VmItem pgskip(int zoneIdx) {
        return VALUES[PGSKIP_DMA.ordinal() + zoneIdx];
    }

    /** Number of items. */
    public static int count() {
        return VALUES.length;
    }

    /** Item by ordinal. */
    public static VmItem of(int ordinal) {
        return VALUES[ordinal];
    }
}
