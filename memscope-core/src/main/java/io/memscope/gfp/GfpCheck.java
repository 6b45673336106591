package io.memscope.gfp;

/**
 * Validity checks on GFP masks: which kernel rules a mask (and allocation order) breaks.
 *
 * <p>Kernel counterparts: the sanity checks scattered over {@code include/linux/gfp.h}
 * ({@code gfp_zone}, {@code gfp_migratetype}), {@code mm/page_alloc.c}
 * ({@code __alloc_frozen_pages_noprof}, {@code __alloc_pages_slowpath}, {@code alloc_pages_exact}),
 * {@code mm/slub.c} ({@code kmalloc_fix_flags}) and {@code mm/vmalloc.c}
 * ({@code GFP_VMALLOC_SUPPORTED}). Each rule is a {@link GfpRule}.
 *
 * <p>Results are {@code int} bit sets over {@link GfpRule} ordinals, so checking on an allocation
 * path allocates nothing; 0 means "no rule broken". Which rules apply depends on the entry point:
 * {@link #check} holds the page-allocator rules, {@link #checkSlab}, {@link #checkVmalloc} and
 * {@link #checkAllocExact} add the rules of those entry points.
 *
 * <p>Deliberately not a rule: {@code __GFP_NOFAIL} with an order above 1 (warned by v6.11's
 * {@code rmqueue} and v6.12's slow path, but no longer by the current {@code page_alloc.c}), and
 * {@code __GFP_COMP} at order 0 (harmless: compound metadata is only built for order &gt; 0).
 * {@code __GFP_NOFAIL} under {@code PF_MEMALLOC} depends on the task and is checked by the page
 * allocator, which sees the task.
 */
public final class GfpCheck {
    private GfpCheck() {}

    /** {@code GFP_SLAB_BUG_MASK}: bits slab refuses ({@code __GFP_DMA32|__GFP_HIGHMEM|~__GFP_BITS_MASK}). */
    public static final int SLAB_BUG_MASK = Gfp.DMA32 | Gfp.HIGHMEM | ~Gfp.BITS_MASK;

    /** {@code GFP_VMALLOC_SUPPORTED} (v6.19, with the RETRY_MAYFAIL fix). */
    public static final int VMALLOC_SUPPORTED = Gfp.KERNEL | Gfp.ATOMIC | Gfp.NOWAIT | Gfp.NOFAIL | Gfp.ZERO
            | Gfp.NORETRY | Gfp.RETRY_MAYFAIL | Gfp.NOFS | Gfp.NOIO | Gfp.KERNEL_ACCOUNT | Gfp.USER | Gfp.NOLOCKDEP;

    private static final int ZONE_BAD_SET = (1 << 0x3) | (1 << 0x5) | (1 << 0x6) | (1 << 0x7)
            | (1 << 0xb) | (1 << 0xd) | (1 << 0xe) | (1 << 0xf);

    /**
     * The page-allocator rules {@code gfp} at {@code order} breaks: bits outside the mask, bad
     * zone combination, both mobility bits, {@code __GFP_NOFAIL} misuse, order above
     * {@code MAX_PAGE_ORDER}. Returns 0 when none. Never allocates.
     */
    public static int check(int gfp, int order) {
        int r = 0;
        if ((gfp & ~GfpParser.VALID_MASK) != 0) {
            r |= GfpRule.BITS_OUTSIDE_MASK.bit();
        }
        if ((ZONE_BAD_SET & (1 << (gfp & Gfp.ZONEMASK))) != 0) {
            r |= GfpRule.ZONE_BAD.bit();
        }
        if ((gfp & (Gfp.MOVABLE | Gfp.RECLAIMABLE)) == (Gfp.MOVABLE | Gfp.RECLAIMABLE)) {
            r |= GfpRule.MOVABLE_AND_RECLAIMABLE.bit();
        }
        if ((gfp & Gfp.NOFAIL) != 0) {
            if ((gfp & Gfp.DIRECT_RECLAIM) == 0) {
                r |= GfpRule.NOFAIL_WITHOUT_DIRECT_RECLAIM.bit();
            }
            if ((gfp & Gfp.NORETRY) != 0) {
                r |= GfpRule.NOFAIL_WITH_NORETRY.bit();
            }
            if ((gfp & Gfp.RETRY_MAYFAIL) != 0) {
                r |= GfpRule.NOFAIL_WITH_RETRY_MAYFAIL.bit();
            }
        }
        if (Integer.compareUnsigned(order, Gfp.MAX_PAGE_ORDER) > 0) {
            r |= GfpRule.ORDER_ABOVE_MAX.bit();
        }
        return r;
    }

    /** {@link #check} plus {@code alloc_pages_exact}'s refusal of {@code __GFP_COMP}. */
    public static int checkAllocExact(int gfp, int order) {
        int r = check(gfp, order);
        if ((gfp & Gfp.COMP) != 0) {
            r |= GfpRule.COMP_IN_ALLOC_EXACT.bit();
        }
        return r;
    }

    /**
     * Slab's rules for {@code kmalloc}/{@code kmem_cache_alloc}: {@link #check} at order 0 plus
     * {@link GfpRule#SLAB_BUG_MASK}.
     */
    public static int checkSlab(int gfp) {
        int r = check(gfp, 0);
        if ((gfp & SLAB_BUG_MASK) != 0) {
            r |= GfpRule.SLAB_BUG_MASK.bit();
        }
        return r;
    }

    /** vmalloc's rules: {@link #check} at order 0 plus {@link GfpRule#VMALLOC_UNSUPPORTED}. */
    public static int checkVmalloc(int gfp) {
        int r = check(gfp, 0);
        if ((gfp & ~VMALLOC_SUPPORTED) != 0) {
            r |= GfpRule.VMALLOC_UNSUPPORTED.bit();
        }
        return r;
    }

    /** {@code kmalloc_fix_flags}: the mask slab really uses ({@code gfp & ~GFP_SLAB_BUG_MASK}). */
    public static int slabFixup(int gfp) {
        return gfp & ~SLAB_BUG_MASK;
    }

    /** The mask vmalloc really uses ({@code gfp & GFP_VMALLOC_SUPPORTED}). */
    public static int vmallocFixup(int gfp) {
        return gfp & VMALLOC_SUPPORTED;
    }

    /**
     * The kernel's fix-up warning text, shared by slab and vmalloc:
     * {@code Unexpected gfp: 0x4 (GFP_DMA32). Fixing up to gfp: 0xcc0 (GFP_KERNEL). Fix your code!}
     */
    public static String unexpectedGfpMessage(int invalidBits, int fixed) {
        StringBuilder sb = new StringBuilder(96).append("Unexpected gfp: ");
        GfpFormat.appendHex(sb, invalidBits).append(" (");
        GfpFormat.append(sb, invalidBits, GfpFormat.Order.CURRENT).append("). Fixing up to gfp: ");
        GfpFormat.appendHex(sb, fixed).append(" (");
        GfpFormat.append(sb, fixed, GfpFormat.Order.CURRENT).append("). Fix your code!");
        return sb.toString();
    }

    /**
     * Throws for the first rule (in {@link GfpRule} order) that {@code gfp} at {@code order} breaks
     * under {@link #check}; returns {@code gfp} otherwise.
     *
     * @throws GfpRuleViolationException naming the rule and printing the mask in report form
     */
    public static int requireValid(int gfp, int order) {
        return require(check(gfp, order), gfp, order);
    }

    /**
     * Throws for the first rule contained in {@code result} (a value of one of the
     * {@code check*} methods); returns {@code gfp} when {@code result} is 0.
     */
    public static int require(int result, int gfp, int order) {
        if (result != 0) {
            throw new GfpRuleViolationException(GfpRule.values()[Integer.numberOfTrailingZeros(result)], gfp, order);
        }
        return gfp;
    }
}
