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

    /**
     * Every valid mask, all 2^24 of them: the mask's bits are enumerated as a counter over the
     * valid bit positions, in one chunk per processor. The current order's name form and report
     * form both parse back to the mask.
     */
    @Test
    void everyValidMaskRoundTrips() throws Exception {
        int[] positions = new int[Integer.bitCount(GfpParser.VALID_MASK)];
        for (int b = 0, i = 0; b < 32; b++) {
            if ((GfpParser.VALID_MASK & (1 << b)) != 0) {
                positions[i++] = b;
            }
        }
        long total = 1L << positions.length;
        int chunks = Math.max(2, Runtime.getRuntime().availableProcessors());
        java.util.concurrent.atomic.AtomicLong checked = new java.util.concurrent.atomic.AtomicLong();
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(chunks)) {
            java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int c = 0; c < chunks; c++) {
                long from = total * c / chunks;
                long to = total * (c + 1) / chunks;
                done.add(pool.submit(() -> {
                    for (long k = from; k < to; k++) {
                        int m = 0;
                        for (int i = 0; i < positions.length; i++) {
                            if ((k & (1L << i)) != 0) {
                                m |= 1 << positions[i];
                            }
                        }
                        roundTripCurrent(m);
                    }
                    checked.addAndGet(to - from);
                }));
            }
            for (var f : done) {
                f.get();
            }
        }
        assertThat(checked.get()).isEqualTo(1L << 24);
    }

    @Test
    void aMillionSeededRandomValidMasksRoundTripInTheLegacyOrderToo() {
        Property.forAll("print∘parse identity", 1, rnd -> {
            for (int i = 0; i < 1_000_000; i++) {
                roundTrip(rnd.nextInt() & GfpParser.VALID_MASK);
            }
        });
    }
}
