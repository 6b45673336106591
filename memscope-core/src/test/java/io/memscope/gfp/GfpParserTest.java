package io.memscope.gfp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Parsing the forms GfpFormat prints, and the named errors for everything else. */
class GfpParserTest {

    @ParameterizedTest(name = "''{0}''")
    @CsvSource(delimiter = ';', value = {
        "GFP_NOFS|__GFP_ZERO;0xd40",
        "0xd40;0xd40",
        "0XD40;0xd40",
        "0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP);0x140cca",
        "  GFP_KERNEL | __GFP_NOWARN  ;0x2cc0",
        "0x2cc0( GFP_KERNEL | __GFP_NOWARN );0x2cc0",
        "none;0x0",
        "0x0();0x0",
        "0x0;0x0",
        "GFP_KERNEL|0x100;0xdc0",
        "__GFP_RECLAIM|__GFP_IO;0xc40",
        "GFP_DMA32|__GFP_HIGHMEM;0x6",
        "mode:0x820(GFP_ATOMIC);0x820",
        "gfp_flags=GFP_NOWAIT;0x2800",
        "__GFP_NOLOCKDEP;0x1000000",
    })
    void acceptsKernelForms(String text, String hex) {
        assertThat(GfpParser.parse(text)).isEqualTo(Integer.parseUnsignedInt(hex.substring(2), 16));
    }

    @ParameterizedTest(name = "''{0}'' -> part ''{1}''")
    @CsvSource(delimiter = ';', value = {
        "GFP_KERNAL;GFP_KERNAL;is not a GFP flag name",
        "gfp_kernel;gfp_kernel;case-sensitive, expected GFP_KERNEL",
        "FS;FS;expected __GFP_FS",
        "KERNEL;KERNEL;expected GFP_KERNEL",
        "0xzz;0xzz;non-hex digit 'z'",
        "0x;0x;1 to 8 hex digits",
        "0x123456789;0x123456789;1 to 8 hex digits",
        "1234;1234;is not a GFP flag name",
        "0x80000000;0x80000000;outside the valid GFP mask",
        "0x200;0x200;outside the valid GFP mask",
        "GFP_KERNEL|0x4000000;0x4000000;outside the valid GFP mask",
        "0xcc0(GFP_NOFS);GFP_NOFS;denotes 0xc40 but the hex part says 0xcc0",
        "0xcc0(GFP_KERNEL;(GFP_KERNEL;expected ')'",
        "GFP_KERNEL||__GFP_ZERO;'';empty term",
        "__GFP_ATOMIC;__GFP_ATOMIC;removed in v6.3",
        "__GFP_SKIP_KASAN;__GFP_SKIP_KASAN;CONFIG_KASAN_HW_TAGS",
        "xyz(GFP_KERNEL);xyz;is not hex",
    })
    void rejectsWithAMessageNamingTheBadPart(String text, String part, String reason) {
        String expectedPart = part.equals("''") ? "" : part;
        assertThatThrownBy(() -> GfpParser.parse(text))
                .isInstanceOf(InvalidGfpMaskException.class)
                .hasMessageContaining("'" + expectedPart + "'")
                .hasMessageContaining(reason)
                .satisfies(e -> assertThat(((InvalidGfpMaskException) e).part()).isEqualTo(expectedPart));
    }

    @Test
    void rejectsEmptyAndNull() {
        assertThatThrownBy(() -> GfpParser.parse("   ")).isInstanceOf(InvalidGfpMaskException.class)
                .hasMessageContaining("is empty");
        assertThatThrownBy(() -> GfpParser.parse(null)).isInstanceOf(InvalidGfpMaskException.class);
    }

    @Test
    void everyTableNameParsesToItsMask() {
        String[] names = GfpFormat.tableNames(GfpFormat.Order.CURRENT);
        int[] masks = GfpFormat.tableMasks(GfpFormat.Order.CURRENT);
        for (int i = 0; i < names.length; i++) {
            assertThat(GfpParser.parse(names[i])).as(names[i]).isEqualTo(masks[i]);
        }
    }
}
