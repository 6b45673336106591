package io.memscope.gfp;

/**
 * Page mobility types ({@code enum migratetype} in {@code include/linux/mmzone.h}) and
 * {@code gfp_migratetype()} of {@code include/linux/gfp.h}.
 *
 * <p>The buddy allocator keeps a free list per order and per type so that pages of similar
 * mobility share pageblocks (anti-fragmentation). The first three are the "pcp types" that the
 * per-CPU lists cache; HIGHATOMIC is the reserve carved out for high-order atomic allocations.
 * The ordinal is the kernel's value.
 */
public enum MigrateType {
    /** MIGRATE_UNMOVABLE (0): kernel allocations that cannot move. */
    UNMOVABLE,
    /** MIGRATE_MOVABLE (1): user and page-cache pages; migratable or reclaimable. */
    MOVABLE,
    /** MIGRATE_RECLAIMABLE (2): slab caches freed through shrinkers. */
    RECLAIMABLE,
    /** MIGRATE_HIGHATOMIC (3 = MIGRATE_PCPTYPES): reserve for high-order atomic allocations. */
    HIGHATOMIC;

    /** {@code MIGRATE_PCPTYPES}: the types cached on per-CPU lists. */
    public static final int PCPTYPES = 3;

    /** Number of migrate types modelled (CMA and ISOLATE are not). */
    public static final int COUNT = 4;

    private static final MigrateType[] VALUES = values();

    /** The type with this kernel value. */
    public static MigrateType of(int value) {
        return VALUES[value];
    }

    /**
     * {@code gfp_migratetype()}: {@code (gfp & (RECLAIMABLE|MOVABLE)) >> 3}. Both bits set is a
     * kernel VM_WARN and yields value 3; this returns {@link #HIGHATOMIC} as the kernel's
     * arithmetic does, and the page allocator refuses such a mask with an
     * {@code InvalidGfpMaskException} before anything changes ({@link GfpCheck} names it too).
     */
    public static MigrateType forGfp(int gfp) {
        return VALUES[gfpMigratetypeIndex(gfp)];
    }

    /** The raw value of {@code gfp_migratetype()}, without the enum lookup (fast path). */
    public static int gfpMigratetypeIndex(int gfp) {
        return (gfp & (Gfp.RECLAIMABLE | Gfp.MOVABLE)) >>> 3;
    }
}
