package io.memscope.debug;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.gfp.Gfp;
import org.junit.jupiter.api.Test;

/** mm/fail_page_alloc.c and mm/failslab.c rules; KERNEL.md T69 and T70. */
class FailPageAllocTest {
    static final long SEED = FaultAttrTest.SEED;

    private final KernelLog log = new KernelLog(4096, true);

    private FailPageAlloc alwaysFailing() {
        FailPageAlloc f = new FailPageAlloc(log, SEED);
        f.attr().setProbability(100).setTimes(-1).setVerbose(1);
        return f;
    }

    @Test
    void defaults_T69() {
        FailPageAlloc f = alwaysFailing();
        assertThat(f.minOrder()).isEqualTo(1);
        assertThat(f.ignoreGfpHighmem()).isTrue();
        assertThat(f.ignoreGfpWait()).isTrue();
        for (int order = 0; order <= Gfp.MAX_PAGE_ORDER; order++) {
            assertThat(f.shouldFailAllocPage(Gfp.KERNEL, order)).as("GFP_KERNEL order %d", order).isFalse();
            assertThat(f.shouldFailAllocPage(Gfp.NOFS, order)).isFalse();
            assertThat(f.shouldFailAllocPage(Gfp.ATOMIC | Gfp.NOFAIL, order)).isFalse();
        }
        assertThat(f.shouldFailAllocPage(Gfp.ATOMIC, 0)).as("order 0 is below min-order").isFalse();
        assertThat(f.shouldFailAllocPage(Gfp.NOWAIT, 0)).isFalse();
        assertThat(log.entries()).isEmpty();
        assertThat(f.shouldFailAllocPage(Gfp.ATOMIC, 1)).as("GFP_ATOMIC order 1 is eligible").isTrue();
        assertThat(f.shouldFailAllocPage(Gfp.ATOMIC | Gfp.HIGHMEM, 1)).isFalse();
        assertThat(f.attr().injectedCount()).isEqualTo(1);
    }

    @Test
    void knobsTurnTheExemptionsOff() {
        FailPageAlloc f = alwaysFailing().setMinOrder(0).setIgnoreGfpWait(false).setIgnoreGfpHighmem(false);
        assertThat(f.shouldFailAllocPage(Gfp.KERNEL, 0)).isTrue();
        assertThat(f.shouldFailAllocPage(Gfp.HIGHUSER, 0)).isTrue();
        assertThat(f.shouldFailAllocPage(Gfp.KERNEL | Gfp.NOFAIL, 0)).as("NOFAIL has no knob").isFalse();
    }

    @Test
    void sizeIsOneShiftOrderPages() {
        FailPageAlloc f = alwaysFailing();
        f.attr().setSpace(5);
        assertThat(f.shouldFailAllocPage(Gfp.ATOMIC, 2)).isFalse(); // 5 > 4 → 1
        assertThat(f.attr().space()).isEqualTo(1);
        assertThat(f.shouldFailAllocPage(Gfp.ATOMIC, 1)).isTrue(); // 1 <= 2
    }

    @Test
    void nowarnSilencesTheReport() {
        FailPageAlloc f = alwaysFailing();
        assertThat(f.shouldFailAllocPage(Gfp.ATOMIC | Gfp.NOWARN, 1)).isTrue();
        assertThat(log.entries()).isEmpty();
        assertThat(f.shouldFailAllocPage(Gfp.ATOMIC, 1)).isTrue();
        assertThat(log.lines()).containsExactly("FAULT_INJECTION: forcing a failure.",
                "name fail_page_alloc, interval 1, probability 100, space 0, times -1");
    }

    @Test
    void failslabDefaults_T70() {
        Failslab f = new Failslab(log, SEED);
        f.attr().setProbability(100).setTimes(-1).setVerbose(1);
        assertThat(f.ignoreGfpWait()).isTrue();
        assertThat(f.cacheFilter()).isFalse();
        assertThat(f.shouldFailslab(Gfp.KERNEL, 64, false)).isFalse();
        assertThat(f.shouldFailslab(Gfp.ATOMIC | Gfp.NOFAIL, 64, true)).isFalse();
        assertThat(f.shouldFailslab(Gfp.ATOMIC | Gfp.NOWARN, 64, false)).isTrue();
        assertThat(log.entries()).as("__GFP_NOWARN suppresses the report").isEmpty();
        assertThat(f.shouldFailslab(Gfp.ATOMIC, 64, false)).isTrue();
        assertThat(log.lines()).containsExactly("FAULT_INJECTION: forcing a failure.",
                "name failslab, interval 1, probability 100, space 0, times -1");
        assertThat(f.attr().injectedCount()).isEqualTo(2);
    }

    @Test
    void failslabCacheFilterNeedsTheCacheFlag() {
        Failslab f = new Failslab(log, SEED).setCacheFilter(true).setIgnoreGfpWait(false);
        f.attr().setProbability(100).setTimes(-1).setVerbose(0);
        assertThat(f.shouldFailslab(Gfp.KERNEL, 64, false)).isFalse();
        assertThat(f.shouldFailslab(Gfp.KERNEL, 64, true)).isTrue();
    }
}
