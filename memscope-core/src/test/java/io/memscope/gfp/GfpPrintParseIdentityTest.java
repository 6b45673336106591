package io.memscope.gfp;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.testkit.Property;
import org.junit.jupiter.api.Test;

/** RELIABILITY.md E2: print∘parse is the identity on valid masks. */
class GfpPrintParseIdentityTest {
    private static final int[] COMPOSITES = {
        0, Gfp.ATOMIC, Gfp.KERNEL, Gfp.KERNEL_ACCOUNT, Gfp.NOWAIT, Gfp.NOIO, Gfp.NOFS, Gfp.USER, Gfp.DMA, Gfp.DMA32,
        Gfp.HIGHUSER, Gfp.HIGHUSER_MOVABLE, Gfp.TRANSHUGE_LIGHT, Gfp.TRANSHUGE, Gfp.RECLAIM,
    };

    private static void roundTrip(int gfp) {
        roundTripCurrent(gfp);
        if (GfpParser.parse(GfpFormat.format(gfp, GfpFormat.Order.LEGACY)) != gfp) {
            throw new AssertionError("legacy round trip failed for " + GfpFormat.report(gfp));
        }
    }

    private static void roundTripCurrent(int gfp) {
        if (GfpParser.parse(GfpFormat.format(gfp)) != gfp || GfpParser.parse(GfpFormat.report(gfp)) != gfp) {
            throw new AssertionError("round trip failed for " + GfpFormat.report(gfp));
        }
    }

    @Test
    void exhaustiveOverCompositesTimesEveryModifierSubsetOfTheirComplement() {
        // every composite combined with every subset of up to two single bits, plus every single bit pattern
        int[] bits = new int[Integer.bitCount(GfpParser.VALID_MASK)];
        for (int b = 0, i = 0; b < 32; b++) {
            if ((GfpParser.VALID_MASK & (1 << b)) != 0) {
                bits[i++] = 1 << b;
            }
        }
        int checked = 0;
        for (int c : COMPOSITES) {
            for (int i = 0; i <= bits.length; i++) {
                for (int j = i; j <= bits.length; j++) {
                    int m = c | (i < bits.length ? bits[i] : 0) | (j < bits.length ? bits[j] : 0);
                    roundTrip(m);
                    checked++;
                }
            }
            for (int a : COMPOSITES) {
                roundTrip(a | c);
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(4000);
    }

    @Test
    void allMasksOfTheLow16BitsRoundTrip() {
        for (int m = 0; m < 1 << 16; m++) {
            if ((m & Gfp.UNUSED_BITS) == 0) {
                roundTrip(m);
            }
        }
    }

    @Test
    void aMillionSeededRandomValidMasksRoundTrip() {
        Property.forAll("print∘parse identity", 1, rnd -> {
            for (int i = 0; i < 1_000_000; i++) {
                roundTripCurrent(rnd.nextInt() & GfpParser.VALID_MASK);
            }
        });
    }
}
