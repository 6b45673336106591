package io.memscope.gfp;

/**
 * GFP ("get free pages") allocation flags: every bit and composite of the kernel's
 * {@code include/linux/gfp_types.h}, with the kernel's exact values.
 *
 * <p>A mask is a plain {@code int} (the kernel's {@code gfp_t} is a 32-bit unsigned bitmask), so
 * masks cost nothing to pass around on the allocation fast path. Java names drop the kernel's
 * underscores: {@code Gfp.FS} is the bit {@code __GFP_FS}, {@code Gfp.KERNEL} the composite
 * {@code GFP_KERNEL}. Anything printed uses the kernel's own names (see {@link GfpFormat}).
 *
 * <h2>Layout</h2>
 * Bits 0–23 are fixed in every kernel since v6.3. The tail depends on the configuration; since
 * v6.10 the kernel numbers it from an enum, so the optional bits take the next free positions in
 * the order {@code SKIP_ZERO, SKIP_KASAN} (only with {@code CONFIG_KASAN_HW_TAGS}) and
 * {@code NOLOCKDEP} (only with {@code CONFIG_LOCKDEP}). memscope models a current mainline kernel
 * built with {@code CONFIG_LOCKDEP=y} and without {@code CONFIG_KASAN_HW_TAGS}:
 *
 * <pre>
 *  bit  value      flag                    bit  value      flag
 *   0   0x1        __GFP_DMA               13   0x2000     __GFP_NOWARN
 *   1   0x2        __GFP_HIGHMEM           14   0x4000     __GFP_RETRY_MAYFAIL
 *   2   0x4        __GFP_DMA32             15   0x8000     __GFP_NOFAIL
 *   3   0x8        __GFP_MOVABLE           16   0x10000    __GFP_NORETRY
 *   4   0x10       __GFP_RECLAIMABLE       17   0x20000    __GFP_MEMALLOC
 *   5   0x20       __GFP_HIGH              18   0x40000    __GFP_COMP
 *   6   0x40       __GFP_IO                19   0x80000    __GFP_NOMEMALLOC
 *   7   0x80       __GFP_FS                20   0x100000   __GFP_HARDWALL
 *   8   0x100      __GFP_ZERO              21   0x200000   __GFP_THISNODE
 *   9   0x200      (unused; __GFP_ATOMIC   22   0x400000   __GFP_ACCOUNT
 *                   until v6.3)            23   0x800000   __GFP_ZEROTAGS
 *  10   0x400      __GFP_DIRECT_RECLAIM    24   0x1000000  __GFP_NOLOCKDEP
 *  11   0x800      __GFP_KSWAPD_RECLAIM         0          __GFP_SKIP_ZERO, __GFP_SKIP_KASAN
 *  12   0x1000     __GFP_WRITE                             (KASAN_HW_TAGS only: 0 here)
 * </pre>
 * {@code __GFP_BITS_SHIFT} is therefore 25 and {@link #BITS_MASK} {@code 0x1ffffff}. (Kernels
 * before v6.10 used fixed hex values for the tail: {@code __GFP_NOLOCKDEP} was 0x4000000.)
 *
 * <p>This class holds only constants and the pure helpers of {@code include/linux/gfp.h};
 * printing and parsing live in {@link GfpFormat}, rule checks in {@link GfpCheck}.
 */
public final class Gfp {
    private Gfp() {}

    // ---- zone modifiers (low four bits) ----
    /** {@code __GFP_DMA}: the lowest zone (ZONE_DMA). Same value as the composite {@code GFP_DMA}. */
    public static final int DMA = 0x1;
    /** {@code __GFP_HIGHMEM}: highmem allowed; on 64-bit kernels there is no highmem and it means ZONE_NORMAL. */
    public static final int HIGHMEM = 0x2;
    /** {@code __GFP_DMA32}: memory below 4 GiB. Same value as the composite {@code GFP_DMA32}. */
    public static final int DMA32 = 0x4;
    /** {@code __GFP_MOVABLE}: the page can be migrated or reclaimed; with HIGHMEM it selects ZONE_MOVABLE. */
    public static final int MOVABLE = 0x8;

    // ---- mobility and placement ----
    /** {@code __GFP_RECLAIMABLE}: slab pages freeable through shrinkers (SLAB_RECLAIM_ACCOUNT). */
    public static final int RECLAIMABLE = 0x10;
    /** {@code __GFP_WRITE}: the caller will dirty the page; spread such pages across nodes. */
    public static final int WRITE = 0x1000;
    /** {@code __GFP_HARDWALL}: enforce the cpuset (the task's allowed nodes). */
    public static final int HARDWALL = 0x100000;
    /** {@code __GFP_THISNODE}: the requested node only, no fallback, no placement policy. */
    public static final int THISNODE = 0x200000;
    /** {@code __GFP_ACCOUNT}: charge the allocation to the memory cgroup (kmemcg). */
    public static final int ACCOUNT = 0x400000;

    // ---- watermark modifiers ----
    /** {@code __GFP_HIGH}: high priority; may use part of the min watermark reserve. */
    public static final int HIGH = 0x20;
    /** {@code __GFP_MEMALLOC}: ignore watermarks entirely (the caller frees memory very shortly). */
    public static final int MEMALLOC = 0x20000;
    /** {@code __GFP_NOMEMALLOC}: forbid the emergency reserves; takes precedence over MEMALLOC. */
    public static final int NOMEMALLOC = 0x80000;

    // ---- reclaim modifiers ----
    /** {@code __GFP_IO}: reclaim may start physical I/O. */
    public static final int IO = 0x40;
    /** {@code __GFP_FS}: reclaim may call down into filesystems (shrinkers, writeback). */
    public static final int FS = 0x80;
    /** {@code __GFP_DIRECT_RECLAIM}: the caller may sleep and reclaim memory itself. */
    public static final int DIRECT_RECLAIM = 0x400;
    /** {@code __GFP_KSWAPD_RECLAIM}: wake kswapd when the low watermark is reached. */
    public static final int KSWAPD_RECLAIM = 0x800;
    /** {@code __GFP_RECLAIM}: both DIRECT_RECLAIM and KSWAPD_RECLAIM. */
    public static final int RECLAIM = DIRECT_RECLAIM | KSWAPD_RECLAIM;
    /** {@code __GFP_RETRY_MAYFAIL}: retry hard while progress is made, may fail, never OOM-kill. */
    public static final int RETRY_MAYFAIL = 0x4000;
    /** {@code __GFP_NOFAIL}: retry forever; must be combined with DIRECT_RECLAIM. */
    public static final int NOFAIL = 0x8000;
    /** {@code __GFP_NORETRY}: one lightweight reclaim round, never the OOM killer. */
    public static final int NORETRY = 0x10000;

    // ---- action modifiers ----
    /** {@code __GFP_ZERO}: return zeroed memory. */
    public static final int ZERO = 0x100;
    /** {@code __GFP_NOWARN}: suppress allocation-failure reports. */
    public static final int NOWARN = 0x2000;
    /** {@code __GFP_COMP}: set up compound-page metadata (head and tail pages). */
    public static final int COMP = 0x40000;
    /** {@code __GFP_ZEROTAGS}: zero memory tags when zeroing (MTE; no effect in memscope). */
    public static final int ZEROTAGS = 0x800000;
    /** {@code __GFP_SKIP_ZERO}: 0 without CONFIG_KASAN_HW_TAGS. */
    public static final int SKIP_ZERO = 0;
    /** {@code __GFP_SKIP_KASAN}: 0 without CONFIG_KASAN_HW_TAGS. */
    public static final int SKIP_KASAN = 0;

    // ---- debug ----
    /** {@code __GFP_NOLOCKDEP}: skip lockdep's fs_reclaim tracking for this allocation. */
    public static final int NOLOCKDEP = 0x1000000;

    /** {@code __GFP_BITS_SHIFT} for the modelled configuration. */
    public static final int BITS_SHIFT = 25;
    /** {@code __GFP_BITS_MASK}: every valid GFP bit. */
    public static final int BITS_MASK = (1 << BITS_SHIFT) - 1;
    /** {@code GFP_ZONEMASK}: the four zone-modifier bits. */
    public static final int ZONEMASK = DMA | HIGHMEM | DMA32 | MOVABLE;
    /** The one bit position below {@link #BITS_MASK} that no flag uses (was __GFP_ATOMIC). */
    public static final int UNUSED_BITS = 0x200;

    // ---- composites ----
    /** {@code GFP_ATOMIC}: cannot sleep, needs to succeed; may use the atomic reserve. 0x820. */
    public static final int ATOMIC = HIGH | KSWAPD_RECLAIM;
    /** {@code GFP_KERNEL}: the typical kernel allocation; may sleep, do I/O, call filesystems. 0xcc0. */
    public static final int KERNEL = RECLAIM | IO | FS;
    /** {@code GFP_KERNEL_ACCOUNT}: GFP_KERNEL charged to kmemcg. 0x400cc0. */
    public static final int KERNEL_ACCOUNT = KERNEL | ACCOUNT;
    /** {@code GFP_NOWAIT}: never stalls for reclaim; likely to fail. 0x2800 (NOWARN added in v6.8). */
    public static final int NOWAIT = KSWAPD_RECLAIM | NOWARN;
    /** {@code GFP_NOIO}: direct reclaim of clean pages only, no I/O, no filesystem calls. 0xc00. */
    public static final int NOIO = RECLAIM;
    /** {@code GFP_NOFS}: direct reclaim without filesystem callbacks. 0xc40. */
    public static final int NOFS = RECLAIM | IO;
    /** {@code GFP_USER}: user-space allocation under the cpuset. 0x100cc0. */
    public static final int USER = RECLAIM | IO | FS | HARDWALL;
    /** {@code GFP_HIGHUSER}: GFP_USER that may come from highmem. 0x100cc2. */
    public static final int HIGHUSER = USER | HIGHMEM;
    /** {@code GFP_HIGHUSER_MOVABLE}: user pages that reclaim or migration may move. 0x100cca. */
    public static final int HIGHUSER_MOVABLE = HIGHUSER | MOVABLE | SKIP_KASAN;
    /** {@code GFP_TRANSHUGE_LIGHT}: THP allocation without reclaim. 0x1c20ca. */
    public static final int TRANSHUGE_LIGHT = (HIGHUSER_MOVABLE | COMP | NOMEMALLOC | NOWARN) & ~RECLAIM;
    /** {@code GFP_TRANSHUGE}: THP allocation with direct reclaim (khugepaged). 0x1c24ca. */
    public static final int TRANSHUGE = TRANSHUGE_LIGHT | DIRECT_RECLAIM;

    // ---- mm/internal.h masks ----
    /** {@code GFP_RECLAIM_MASK}: the bits that control reclaim behaviour. */
    public static final int RECLAIM_MASK = RECLAIM | HIGH | IO | FS | NOWARN | RETRY_MAYFAIL | NOFAIL
            | NORETRY | MEMALLOC | NOMEMALLOC | NOLOCKDEP;
    /** {@code GFP_CONSTRAINT_MASK}: placement constraints. */
    public static final int CONSTRAINT_MASK = HARDWALL | THISNODE;
    /** {@code GFP_BOOT_MASK}: {@code gfp_allowed_mask} during early boot (no reclaim, I/O or FS). */
    public static final int BOOT_MASK = BITS_MASK & ~(RECLAIM | IO | FS);

    /** {@code PAGE_ALLOC_COSTLY_ORDER}: orders above this are "costly" and may fail by default. */
    public static final int PAGE_ALLOC_COSTLY_ORDER = 3;
    /** {@code MAX_PAGE_ORDER}: the largest buddy order (blocks of 1024 pages). */
    public static final int MAX_PAGE_ORDER = 10;
    /** {@code NR_PAGE_ORDERS}. */
    public static final int NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;

    /** {@code gfpflags_allow_blocking()}: the caller may sleep (DIRECT_RECLAIM set). */
    public static boolean allowBlocking(int gfp) {
        return (gfp & DIRECT_RECLAIM) != 0;
    }

    /** {@code gfpflags_allow_spinning()}: false only for the trylock-only nolock mode (no reclaim bits). */
    public static boolean allowSpinning(int gfp) {
        return (gfp & RECLAIM) != 0;
    }

    /** {@code gfp_has_io_fs()}: both __GFP_IO and __GFP_FS are set. */
    public static boolean hasIoFs(int gfp) {
        return (gfp & (IO | FS)) == (IO | FS);
    }

    /** {@code gfp_compaction_allowed()}: compaction needs __GFP_IO (CONFIG_COMPACTION is modelled as on). */
    public static boolean compactionAllowed(int gfp) {
        return (gfp & IO) != 0;
    }

    /**
     * {@code gfpflags_normal_context()}: a blocking allocation from an ordinary process context,
     * i.e. DIRECT_RECLAIM set and MEMALLOC clear ({@code (gfp & (DIRECT_RECLAIM|MEMALLOC)) == DIRECT_RECLAIM}).
     */
    public static boolean normalContext(int gfp) {
        return (gfp & (DIRECT_RECLAIM | MEMALLOC)) == DIRECT_RECLAIM;
    }

    /** {@code gfp_nested_mask()} (v6.11+): the mask allocator-internal nested allocations use. */
    public static int nestedMask(int gfp) {
        return (gfp & (KERNEL | ATOMIC | NOLOCKDEP)) | NORETRY | NOMEMALLOC | NOWARN;
    }

    /** True when every bit of {@code gfp} is a defined GFP bit (inside {@link #BITS_MASK}, not the unused bit). */
    public static boolean isValidBits(int gfp) {
        return (gfp & ~(BITS_MASK & ~UNUSED_BITS)) == 0;
    }

    /** {@code gfp_zone()}: the highest zone this mask may use, or {@link ZoneType#BAD} for an invalid zone-modifier combination. */
    public static ZoneType zone(int gfp) {
        return ZoneType.forGfp(gfp);
    }

    /** {@code gfp_migratetype()}: the page-mobility type the mask asks for. */
    public static MigrateType migratetype(int gfp) {
        return MigrateType.forGfp(gfp);
    }
}
