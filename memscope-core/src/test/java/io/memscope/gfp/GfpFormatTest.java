package io.memscope.gfp;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.gfp.GfpFormat.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Printing follows show_gfp_flags (include/trace/events/mmflags.h) and %pGg (lib/vsprintf.c):
 * KERNEL.md vectors T10–T18 and lines from real allocation-failure and OOM reports.
 */
class GfpFormatTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = ';', value = {
        // T10
        "0xcc0;GFP_KERNEL",
        "0xd40;GFP_NOFS|__GFP_ZERO",
        // T11
        "0x821;GFP_ATOMIC|GFP_DMA",
        "0x20;__GFP_HIGH",
        "0x1c24ca;GFP_TRANSHUGE",
        // T12
        "0x2c00;GFP_NOIO|__GFP_NOWARN",
        // T13
        "0x100cc0;GFP_USER",
        "0xc00;GFP_NOIO",
        // T14
        "0x800;__GFP_KSWAPD_RECLAIM",
        // T15
        "0x6;GFP_DMA32|__GFP_HIGHMEM",
        // T16
        "0x2dc0;GFP_KERNEL|__GFP_ZERO|__GFP_NOWARN",
        // T18
        "0x80000cc0;GFP_KERNEL|0x80000000",
        "0xfe000020;__GFP_HIGH|0xfe000000",
        // T19: gfp_nested_mask(GFP_KERNEL|__GFP_ZERO|__GFP_NOFAIL)
        "0x92cc0;GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY|__GFP_NOMEMALLOC",
        // T55, T59
        "0x92880;GFP_NOWAIT|__GFP_FS|__GFP_NORETRY|__GFP_NOMEMALLOC",
        "0x28c0;GFP_NOWAIT|__GFP_IO|__GFP_FS",
        // every composite prints as itself
        "0x820;GFP_ATOMIC",
        "0x400cc0;GFP_KERNEL_ACCOUNT",
        "0x2800;GFP_NOWAIT",
        "0xc40;GFP_NOFS",
        "0x100cc2;GFP_HIGHUSER",
        "0x100cca;GFP_HIGHUSER_MOVABLE",
        "0x1c20ca;GFP_TRANSHUGE_LIGHT",
        "0x1;GFP_DMA",
        "0x4;GFP_DMA32",
        "0x400;__GFP_DIRECT_RECLAIM",
        "0x1000000;__GFP_NOLOCKDEP",
        "0x200;0x200",
    })
    void printsLikeTheKernel(String hex, String expected) {
        int gfp = Integer.parseUnsignedInt(hex.substring(2), 16);
        assertThat(GfpFormat.format(gfp)).isEqualTo(expected);
        assertThat(GfpFormat.formatFlags(gfp)).isEqualTo(expected);
    }

    @Test
    void zeroIsNoneInTracesAndEmptyInReports() { // T17
        assertThat(GfpFormat.format(0)).isEqualTo("none");
        assertThat(GfpFormat.formatFlags(0)).isEmpty();
        assertThat("mode:" + GfpFormat.report(0)).isEqualTo("mode:0x0()");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        // lines as they appear in real page allocation failure / OOM reports
        "mode:0x40cc0(GFP_KERNEL|__GFP_COMP);0x40cc0",
        "mode:0x820(GFP_ATOMIC);0x820",
        "gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP);0x140cca",
        "mode:0x2dc0(GFP_KERNEL|__GFP_ZERO|__GFP_NOWARN);0x2dc0",
        "gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE);0x100cca",
        "mode:0x400dc0(GFP_KERNEL_ACCOUNT|__GFP_ZERO);0x400dc0",
        "mode:0x92cc0(GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY|__GFP_NOMEMALLOC);0x92cc0",
        "mode:0xcc4(GFP_KERNEL|GFP_DMA32);0xcc4",
    })
    void reportFormMatchesRealReportLines(String line, String hex) {
        int gfp = Integer.parseUnsignedInt(hex.substring(2), 16);
        String prefix = line.substring(0, line.indexOf("0x"));
        assertThat(prefix + GfpFormat.report(gfp)).isEqualTo(line);
        assertThat(GfpFormat.parse(line)).isEqualTo(gfp);
    }

    @Test
    void legacyOrderDecodesOldLogs() {
        assertThat(GfpFormat.format(0x6, Order.LEGACY)).isEqualTo("__GFP_HIGHMEM|GFP_DMA32"); // T15 legacy
        assertThat(GfpFormat.format(0x2dc0, Order.LEGACY)).isEqualTo("GFP_KERNEL|__GFP_NOWARN|__GFP_ZERO"); // T16 legacy
        assertThat(GfpFormat.format(0x40cc0, Order.LEGACY)).isEqualTo("GFP_KERNEL|__GFP_COMP");
        assertThat(GfpFormat.format(0xc00, Order.LEGACY)).isEqualTo("GFP_NOIO");
        assertThat(GfpFormat.report(0x10, Order.LEGACY)).isEqualTo("0x10(__GFP_RECLAIMABLE)");
    }

    @Test
    void tableStartsWithTheCompositesInMmflagsOrderThenBitsInBitOrder() {
        String[] names = GfpFormat.tableNames(Order.CURRENT);
        assertThat(names).startsWith("GFP_TRANSHUGE", "GFP_TRANSHUGE_LIGHT", "GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER",
                "GFP_USER", "GFP_KERNEL_ACCOUNT", "GFP_KERNEL", "GFP_NOFS", "GFP_ATOMIC", "GFP_NOIO", "GFP_NOWAIT",
                "GFP_DMA", "GFP_DMA32", "__GFP_RECLAIM", "__GFP_DMA", "__GFP_HIGHMEM");
        assertThat(names).endsWith("__GFP_ACCOUNT", "__GFP_ZEROTAGS", "__GFP_NOLOCKDEP");
        int[] masks = GfpFormat.tableMasks(Order.CURRENT);
        for (int i = 15; i < masks.length; i++) {
            assertThat(Integer.compareUnsigned(masks[i - 1], masks[i])).as("bit order at " + names[i]).isNegative();
        }
    }

    @Test
    void everySingleBitHasANameAndMeaning() {
        for (int b = 0; b < Gfp.BITS_SHIFT; b++) {
            if (b == 9) {
                assertThat(GfpFormat.bitName(b)).isNull();
                continue;
            }
            assertThat(GfpFormat.bitName(b)).startsWith("__GFP_");
            assertThat(GfpFormat.bitMeaning(b)).isNotBlank();
            assertThat(GfpFormat.valueOf(GfpFormat.bitName(b))).isEqualTo(1 << b);
        }
    }

    @Test
    void appendReportWritesIntoTheCallersBuilder() {
        StringBuilder sb = new StringBuilder("mode:");
        GfpFormat.appendReport(sb, Gfp.ATOMIC, Order.CURRENT);
        assertThat(sb).hasToString("mode:0x820(GFP_ATOMIC)");
    }
}
