package io.memscope.gfp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * RELIABILITY.md E1: every zone-bit × reclaim/retry-modifier × order combination is checked
 * against a rule table written here independently of GfpCheck (from KERNEL.md §1 and §3.9), and
 * every rejection names the rule and prints the mask in kernel form.
 */
class GfpCheckExhaustiveTest {
    /** The modifiers combined exhaustively with the 16 zone-bit patterns. */
    private static final int[] MODIFIERS = {
        Gfp.RECLAIMABLE, Gfp.DIRECT_RECLAIM, Gfp.KSWAPD_RECLAIM, Gfp.RETRY_MAYFAIL, Gfp.NOFAIL, Gfp.NORETRY,
        Gfp.NOWARN, Gfp.COMP, Gfp.UNUSED_BITS,
    };
    private static final int[] ORDERS = {0, 1, 3, 4, 10, 11, 31, -1};

    /** gfp.h GFP_ZONE_BAD, written out as the names of the bad combinations. */
    private static final Set<String> BAD_ZONES = Set.of("DMA|HIGHMEM", "DMA|DMA32", "HIGHMEM|DMA32",
            "DMA|HIGHMEM|DMA32", "DMA|HIGHMEM|MOVABLE", "DMA|DMA32|MOVABLE", "HIGHMEM|DMA32|MOVABLE",
            "DMA|HIGHMEM|DMA32|MOVABLE");

    private static String zoneName(int zoneBits) {
        StringBuilder sb = new StringBuilder();
        String[] n = {"DMA", "HIGHMEM", "DMA32", "MOVABLE"};
        for (int b = 0; b < 4; b++) {
            if ((zoneBits & (1 << b)) != 0) {
                sb.append(sb.isEmpty() ? "" : "|").append(n[b]);
            }
        }
        return sb.toString();
    }

    private static EnumSet<GfpRule> expected(int zone, boolean reclaimable, boolean direct, boolean mayfail,
                                             boolean nofail, boolean noretry, boolean unused, int order) {
        EnumSet<GfpRule> e = EnumSet.noneOf(GfpRule.class);
        if (unused) {
            e.add(GfpRule.BITS_OUTSIDE_MASK);
        }
        if (BAD_ZONES.contains(zoneName(zone))) {
            e.add(GfpRule.ZONE_BAD);
        }
        if (reclaimable && (zone & 8) != 0) {
            e.add(GfpRule.MOVABLE_AND_RECLAIMABLE);
        }
        if (nofail && !direct) {
            e.add(GfpRule.NOFAIL_WITHOUT_DIRECT_RECLAIM);
        }
        if (nofail && noretry) {
            e.add(GfpRule.NOFAIL_WITH_NORETRY);
        }
        if (nofail && mayfail) {
            e.add(GfpRule.NOFAIL_WITH_RETRY_MAYFAIL);
        }
        if (order < 0 || order > 10) {
            e.add(GfpRule.ORDER_ABOVE_MAX);
        }
        return e;
    }

    @Test
    void everyZoneAndModifierCombinationAgreesWithTheRuleTable() {
        int checked = 0;
        int rejected = 0;
        for (int zone = 0; zone < 16; zone++) {
            for (int mods = 0; mods < 1 << MODIFIERS.length; mods++) {
                int gfp = zone;
                for (int i = 0; i < MODIFIERS.length; i++) {
                    if ((mods & (1 << i)) != 0) {
                        gfp |= MODIFIERS[i];
                    }
                }
                for (int order : ORDERS) {
                    EnumSet<GfpRule> want = expected(zone, (gfp & Gfp.RECLAIMABLE) != 0, (gfp & Gfp.DIRECT_RECLAIM) != 0,
                            (gfp & Gfp.RETRY_MAYFAIL) != 0, (gfp & Gfp.NOFAIL) != 0, (gfp & Gfp.NORETRY) != 0,
                            (gfp & Gfp.UNUSED_BITS) != 0, order);
                    int result = GfpCheck.check(gfp, order);
                    if (!GfpRule.decode(result).equals(want)) {
                        throw new AssertionError(GfpFormat.report(gfp) + " order " + order + ": expected " + want
                                + ", GfpCheck says " + GfpRule.decode(result));
                    }
                    if (want.isEmpty()) {
                        assertThat(GfpCheck.requireValid(gfp, order)).isEqualTo(gfp);
                    } else {
                        GfpRule first = want.iterator().next();
                        final int g = gfp;
                        final int o = order;
                        assertThatThrownBy(() -> GfpCheck.requireValid(g, o))
                                .isInstanceOf(GfpRuleViolationException.class)
                                .hasMessageContaining(GfpFormat.report(g))
                                .hasMessageContaining(first.name())
                                .hasMessageContaining(first.kernelFunction());
                        rejected++;
                    }
                    checked++;
                }
            }
        }
        assertThat(checked).isEqualTo(16 * 512 * ORDERS.length);
        assertThat(rejected).isBetween(1, checked - 1);
    }

    @Test
    void zoneBadAgreesWithGfpZone() {
        for (int z = 0; z < 16; z++) {
            assertThat(GfpRule.ZONE_BAD.in(GfpCheck.check(z, 0))).as(zoneName(z)).isEqualTo(Gfp.zone(z) == ZoneType.BAD);
        }
    }

    @Test
    void entryPointRules() {
        assertThat(GfpRule.decode(GfpCheck.checkAllocExact(Gfp.KERNEL | Gfp.COMP, 2)))
                .containsExactly(GfpRule.COMP_IN_ALLOC_EXACT);
        assertThat(GfpCheck.checkAllocExact(Gfp.KERNEL, 2)).isZero();
        assertThat(GfpCheck.check(Gfp.KERNEL | Gfp.COMP, 0)).as("__GFP_COMP at order 0 is harmless").isZero();

        assertThat(GfpRule.decode(GfpCheck.checkSlab(Gfp.KERNEL | Gfp.DMA32))).containsExactly(GfpRule.SLAB_BUG_MASK);
        assertThat(GfpRule.decode(GfpCheck.checkSlab(Gfp.KERNEL | Gfp.HIGHMEM))).containsExactly(GfpRule.SLAB_BUG_MASK);
        assertThat(GfpCheck.checkSlab(Gfp.KERNEL | Gfp.DMA | Gfp.ZERO)).isZero();
        // T62
        int bad = (Gfp.KERNEL | Gfp.DMA32) & GfpCheck.SLAB_BUG_MASK;
        assertThat(GfpCheck.unexpectedGfpMessage(bad, GfpCheck.slabFixup(Gfp.KERNEL | Gfp.DMA32)))
                .isEqualTo("Unexpected gfp: 0x4 (GFP_DMA32). Fixing up to gfp: 0xcc0 (GFP_KERNEL). Fix your code!");
        // T61
        int v = Gfp.NOIO | Gfp.NOWARN | Gfp.RECLAIMABLE;
        assertThat(GfpRule.decode(GfpCheck.checkVmalloc(v))).containsExactly(GfpRule.VMALLOC_UNSUPPORTED);
        assertThat(GfpCheck.unexpectedGfpMessage(v & ~GfpCheck.VMALLOC_SUPPORTED, GfpCheck.vmallocFixup(v)))
                .isEqualTo("Unexpected gfp: 0x10 (__GFP_RECLAIMABLE). Fixing up to gfp: 0x2c00 (GFP_NOIO|__GFP_NOWARN). Fix your code!");
        for (int ok : new int[] {Gfp.KERNEL, Gfp.ATOMIC, Gfp.NOWAIT, Gfp.NOFS | Gfp.NOFAIL, Gfp.USER | Gfp.ZERO,
            Gfp.KERNEL_ACCOUNT | Gfp.RETRY_MAYFAIL, Gfp.NOIO | Gfp.NOLOCKDEP}) {
            assertThat(GfpCheck.checkVmalloc(ok)).as(GfpFormat.report(ok)).isZero();
        }
        assertThat(GfpRule.decode(GfpCheck.checkVmalloc(Gfp.KERNEL | Gfp.COMP))).containsExactly(GfpRule.VMALLOC_UNSUPPORTED);
    }

    @Test
    void everyRuleNamesItsKernelFunction() {
        for (GfpRule r : GfpRule.values()) {
            assertThat(r.kernelFunction()).isNotBlank();
            assertThat(r.kernelReaction()).isNotBlank();
            assertThat(r.bit()).isEqualTo(1 << r.ordinal());
        }
        assertThat(GfpRule.values().length).isLessThan(32);
    }
}
