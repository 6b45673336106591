package io.memscope.gfp;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The helpers of {@code include/linux/gfp.h}, each pinned against the kernel's definition: the
 * sixteen entries of {@code GFP_ZONE_TABLE}/{@code GFP_ZONE_BAD} for a 64-bit kernel without
 * highmem, {@code gfp_migratetype()} for its four inputs, and the predicates over the composites
 * and over every mask of the bits they read.
 */
class GfpHelpersTest {

    /** {@code gfp_zone()}: the comment table above GFP_ZONE_TABLE, entry by entry, with OPT_ZONE_HIGHMEM = NORMAL. */
    @Test
    void gfpZoneFollowsTheKernelTableForAllSixteenModifierCombinations() {
        ZoneType[] expected = {
            ZoneType.NORMAL,  // 0x0
            ZoneType.DMA,     // 0x1 DMA
            ZoneType.NORMAL,  // 0x2 HIGHMEM (no highmem on 64-bit)
            ZoneType.BAD,     // 0x3 DMA+HIGHMEM
            ZoneType.DMA32,   // 0x4 DMA32
            ZoneType.BAD,     // 0x5 DMA+DMA32
            ZoneType.BAD,     // 0x6 HIGHMEM+DMA32
            ZoneType.BAD,     // 0x7
            ZoneType.NORMAL,  // 0x8 MOVABLE alone
            ZoneType.DMA,     // 0x9 MOVABLE+DMA
            ZoneType.MOVABLE, // 0xa MOVABLE+HIGHMEM
            ZoneType.BAD,     // 0xb
            ZoneType.DMA32,   // 0xc MOVABLE+DMA32
            ZoneType.BAD,     // 0xd
            ZoneType.BAD,     // 0xe
            ZoneType.BAD,     // 0xf
        };
        for (int bits = 0; bits < 16; bits++) {
            assertThat(Gfp.zone(bits)).as("gfp_zone(0x%x)", bits).isEqualTo(expected[bits]);
            // Only the four zone modifiers count: any other bit leaves the answer alone.
            assertThat(Gfp.zone(bits | Gfp.KERNEL | Gfp.COMP | Gfp.RECLAIMABLE))
                    .as("gfp_zone(0x%x | other bits)", bits).isEqualTo(expected[bits]);
        }
        assertThat(Gfp.zone(Gfp.HIGHUSER_MOVABLE)).isEqualTo(ZoneType.MOVABLE);
        assertThat(Gfp.zone(Gfp.USER)).isEqualTo(ZoneType.NORMAL);
        assertThat(Gfp.zone(Gfp.DMA32)).isEqualTo(ZoneType.DMA32);
    }

    /** {@code gfp_migratetype()}: {@code (gfp & (RECLAIMABLE|MOVABLE)) >> 3}; both bits give 3 (HIGHATOMIC) after a VM_WARN. */
    @Test
    void gfpMigratetypeIsTheMobilityBitsShiftedDown() {
        assertThat(Gfp.migratetype(Gfp.KERNEL)).isEqualTo(MigrateType.UNMOVABLE);
        assertThat(Gfp.migratetype(Gfp.HIGHUSER_MOVABLE)).isEqualTo(MigrateType.MOVABLE);
        assertThat(Gfp.migratetype(Gfp.KERNEL | Gfp.RECLAIMABLE)).isEqualTo(MigrateType.RECLAIMABLE);
        assertThat(Gfp.migratetype(Gfp.MOVABLE | Gfp.RECLAIMABLE)).isEqualTo(MigrateType.HIGHATOMIC);
        assertThat(MigrateType.gfpMigratetypeIndex(Gfp.MOVABLE | Gfp.RECLAIMABLE)).isEqualTo(3);
        assertThat(MigrateType.forGfp(Gfp.MOVABLE)).isEqualTo(MigrateType.MOVABLE);
    }

    /**
     * The predicates, over every combination of the bits they read (DIRECT_RECLAIM,
     * KSWAPD_RECLAIM, IO, FS, MEMALLOC) with unrelated bits set around them, against the
     * kernel's one-line definitions written out here independently.
     */
    @Test
    void predicatesAgreeWithTheKernelDefinitionsOnEveryCombinationOfTheirBits() {
        int[] bits = {Gfp.DIRECT_RECLAIM, Gfp.KSWAPD_RECLAIM, Gfp.IO, Gfp.FS, Gfp.MEMALLOC};
        for (int subset = 0; subset < 1 << bits.length; subset++) {
            int gfp = Gfp.COMP | Gfp.NOWARN | Gfp.ZERO;
            for (int i = 0; i < bits.length; i++) {
                if ((subset & 1 << i) != 0) {
                    gfp |= bits[i];
                }
            }
            boolean direct = (subset & 1) != 0;
            boolean kswapd = (subset & 2) != 0;
            boolean io = (subset & 4) != 0;
            boolean fs = (subset & 8) != 0;
            boolean memalloc = (subset & 16) != 0;
            String m = Integer.toHexString(gfp);
            assertThat(Gfp.allowBlocking(gfp)).as("gfpflags_allow_blocking(0x%s)", m).isEqualTo(direct);
            assertThat(Gfp.allowSpinning(gfp)).as("gfpflags_allow_spinning(0x%s)", m).isEqualTo(direct || kswapd);
            assertThat(Gfp.hasIoFs(gfp)).as("gfp_has_io_fs(0x%s)", m).isEqualTo(io && fs);
            assertThat(Gfp.compactionAllowed(gfp)).as("gfp_compaction_allowed(0x%s)", m).isEqualTo(io);
            assertThat(Gfp.normalContext(gfp)).as("gfpflags_normal_context(0x%s)", m).isEqualTo(direct && !memalloc);
        }
    }

    /** The predicates on the composites a reader knows by heart. */
    @Test
    void predicatesOnTheComposites() {
        assertThat(Gfp.allowBlocking(Gfp.KERNEL)).isTrue();
        assertThat(Gfp.allowBlocking(Gfp.NOFS)).isTrue();
        assertThat(Gfp.allowBlocking(Gfp.ATOMIC)).isFalse();
        assertThat(Gfp.allowBlocking(Gfp.NOWAIT)).isFalse();
        assertThat(Gfp.allowSpinning(Gfp.ATOMIC)).isTrue();
        assertThat(Gfp.allowSpinning(Gfp.NOWAIT)).isTrue();
        assertThat(Gfp.allowSpinning(0)).as("alloc_pages_nolock's mask").isFalse();
        assertThat(Gfp.hasIoFs(Gfp.KERNEL)).isTrue();
        assertThat(Gfp.hasIoFs(Gfp.NOFS)).isFalse();
        assertThat(Gfp.hasIoFs(Gfp.NOIO)).isFalse();
        assertThat(Gfp.compactionAllowed(Gfp.NOFS)).isTrue();
        assertThat(Gfp.compactionAllowed(Gfp.NOIO)).isFalse();
        assertThat(Gfp.normalContext(Gfp.KERNEL)).isTrue();
        assertThat(Gfp.normalContext(Gfp.KERNEL | Gfp.MEMALLOC)).isFalse();
        assertThat(Gfp.normalContext(Gfp.ATOMIC)).isFalse();
    }

    /**
     * {@code gfp_nested_mask()}: keeps only the context bits of GFP_KERNEL, GFP_ATOMIC and
     * __GFP_NOLOCKDEP and adds NORETRY|NOMEMALLOC|NOWARN — zone, mobility, NOFAIL and the other
     * modifiers are stripped.
     */
    @Test
    void nestedMaskKeepsTheContextAndFailsFastAndQuietly() {
        int quiet = Gfp.NORETRY | Gfp.NOMEMALLOC | Gfp.NOWARN;
        assertThat(Gfp.nestedMask(Gfp.KERNEL)).isEqualTo(Gfp.KERNEL | quiet);
        assertThat(Gfp.nestedMask(Gfp.NOFS)).isEqualTo(Gfp.NOFS | quiet);
        assertThat(Gfp.nestedMask(Gfp.ATOMIC)).isEqualTo(Gfp.ATOMIC | quiet);
        assertThat(Gfp.nestedMask(Gfp.HIGHUSER_MOVABLE | Gfp.COMP | Gfp.NOFAIL | Gfp.ZERO))
                .as("zone, mobility, COMP, NOFAIL and ZERO stripped").isEqualTo(Gfp.KERNEL | quiet);
        assertThat(Gfp.nestedMask(Gfp.KERNEL | Gfp.NOLOCKDEP)).isEqualTo(Gfp.KERNEL | Gfp.NOLOCKDEP | quiet);
        assertThat(Gfp.nestedMask(Gfp.KERNEL | Gfp.RETRY_MAYFAIL)).isEqualTo(Gfp.KERNEL | quiet);
        assertThat(Gfp.nestedMask(Gfp.KERNEL | Gfp.MEMALLOC)).as("never the reserves").isEqualTo(Gfp.KERNEL | quiet);
    }
}
