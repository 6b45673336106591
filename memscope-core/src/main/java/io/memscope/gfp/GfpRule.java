package io.memscope.gfp;

import java.util.EnumSet;

/**
 * The GFP-mask combinations the kernel warns about, refuses or fixes up: the named results of
 * {@link GfpCheck}. Each names the kernel function whose rule it follows and how the kernel
 * reacts, so a later layer (page allocator, slab, vmalloc) can turn it into the kernel's warning.
 *
 * <p>Ordinals are bit positions in the {@code int} result of {@link GfpCheck#check}; there are
 * fewer than 32 rules.
 */
public enum GfpRule {
    /** Bits outside {@code __GFP_BITS_MASK}, or the unused bit 9 (was {@code __GFP_ATOMIC}). */
    BITS_OUTSIDE_MASK("__alloc_frozen_pages_noprof (gfp_allowed_mask) / kmalloc_fix_flags",
            "stripped silently by the page allocator, with a warning by slab",
            "sets bits that are no GFP flag"),
    /** More than one zone modifier with no zone between them ({@code GFP_ZONE_BAD}). */
    ZONE_BAD("gfp_zone", "VM_BUG_ON",
            "combines zone modifiers that select no zone (GFP_ZONE_BAD)"),
    /** Both {@code __GFP_MOVABLE} and {@code __GFP_RECLAIMABLE}. */
    MOVABLE_AND_RECLAIMABLE("gfp_migratetype", "VM_WARN_ON, then migratetype 3 (HIGHATOMIC)",
            "asks for two mobility types at once (__GFP_MOVABLE|__GFP_RECLAIMABLE)"),
    /** {@code __GFP_NOFAIL} without {@code __GFP_DIRECT_RECLAIM}. */
    NOFAIL_WITHOUT_DIRECT_RECLAIM("__alloc_pages_slowpath", "WARN_ON_ONCE, and the allocation may fail (v6.12+)",
            "uses __GFP_NOFAIL without __GFP_DIRECT_RECLAIM, so it cannot wait for memory"),
    /** {@code __GFP_NOFAIL} together with {@code __GFP_NORETRY}. */
    NOFAIL_WITH_NORETRY("__alloc_pages_slowpath", "contradictory failure modes; __GFP_NOFAIL wins at nopage",
            "combines __GFP_NOFAIL with __GFP_NORETRY, which asks to fail early"),
    /** {@code __GFP_NOFAIL} together with {@code __GFP_RETRY_MAYFAIL}. */
    NOFAIL_WITH_RETRY_MAYFAIL("__alloc_pages_slowpath", "contradictory failure modes; __GFP_NOFAIL wins at nopage",
            "combines __GFP_NOFAIL with __GFP_RETRY_MAYFAIL, which allows failure"),
    /** Order above {@code MAX_PAGE_ORDER} (negative orders count as huge, as the kernel's unsigned order would). */
    ORDER_ABOVE_MAX("__alloc_frozen_pages_noprof", "WARN_ON_ONCE_GFP (silent with __GFP_NOWARN), returns NULL",
            "asks for an order above MAX_PAGE_ORDER (10)"),
    /** {@code __GFP_COMP} passed to {@code alloc_pages_exact}, which splits the block. */
    COMP_IN_ALLOC_EXACT("alloc_pages_exact / make_alloc_exact", "WARN_ON_ONCE, __GFP_COMP cleared",
            "passes __GFP_COMP to alloc_pages_exact, which must split the block into single pages"),
    /** Slab allocation with a bit of {@code GFP_SLAB_BUG_MASK} ({@code __GFP_DMA32}, {@code __GFP_HIGHMEM}, invalid bits). */
    SLAB_BUG_MASK("kmalloc_fix_flags", "WARN \"Unexpected gfp ... Fix your code!\", bits cleared",
            "passes a GFP_SLAB_BUG_MASK bit (__GFP_DMA32, __GFP_HIGHMEM or invalid bits) to slab"),
    /** vmalloc with bits outside {@code GFP_VMALLOC_SUPPORTED} (v6.19). */
    VMALLOC_UNSUPPORTED("__vmalloc_noprof (GFP_VMALLOC_SUPPORTED)", "WARN \"Unexpected gfp ... Fix your code!\", bits cleared",
            "passes bits to vmalloc outside GFP_VMALLOC_SUPPORTED");

    private final String kernelFunction;
    private final String kernelReaction;
    private final String description;

    GfpRule(String kernelFunction, String kernelReaction, String description) {
        this.kernelFunction = kernelFunction;
        this.kernelReaction = kernelReaction;
        this.description = description;
    }

    /** The kernel function whose check this rule follows. */
    public String kernelFunction() {
        return kernelFunction;
    }

    /** What the kernel does when the rule is broken. */
    public String kernelReaction() {
        return kernelReaction;
    }

    /** What is wrong with such a mask, as a predicate ("uses __GFP_NOFAIL without ..."). */
    public String description() {
        return description;
    }

    /** This rule's bit in a {@link GfpCheck#check} result. */
    public int bit() {
        return 1 << ordinal();
    }

    /** True when {@code result} (from {@link GfpCheck}) contains this rule. */
    public boolean in(int result) {
        return (result & bit()) != 0;
    }

    /** The rules contained in a {@link GfpCheck} result. */
    public static EnumSet<GfpRule> decode(int result) {
        EnumSet<GfpRule> set = EnumSet.noneOf(GfpRule.class);
        for (GfpRule r : values()) {
            if (r.in(result)) {
                set.add(r);
            }
        }
        return set;
    }
}
