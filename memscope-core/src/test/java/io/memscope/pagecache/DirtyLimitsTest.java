package io.memscope.pagecache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** mm/page-writeback.c: global_dirtyable_memory, domain_dirty_limits, dirty_freerun_ceiling. */
class DirtyLimitsTest {
    @Test
    void defaultRatiosUsePerPageSizeFractions() {
        // ratio 20% -> 819 parts per 4096; 100000 pages -> 819*100000/4096 = 19995 (not 20000).
        DirtyLimits l = DirtyLimits.defaults(100_000);
        assertThat(l.thresh()).isEqualTo(819L * 100_000 / 4096);
        assertThat(l.thresh()).isEqualTo(19995);
        assertThat(l.bgThresh()).isEqualTo(409L * 100_000 / 4096);
        assertThat(l.freerunCeiling()).isEqualTo((19995 + 9985) / 2);
    }

    @Test
    void bytesKnobsWinOverRatiosAndRoundUp() {
        DirtyLimits l = DirtyLimits.compute(100_000, 20, 10, 4096 * 1000 + 1, 4096 * 100, false, 0);
        assertThat(l.thresh()).isEqualTo(1001);
        assertThat(l.bgThresh()).isEqualTo(100);
    }

    @Test
    void backgroundAtOrAboveThresholdIsHalved() {
        DirtyLimits l = DirtyLimits.compute(100_000, 10, 10, 0, 0, false, 0);
        assertThat(l.bgThresh()).isEqualTo(l.thresh() / 2);
    }

    @Test
    void realTimeTasksGetAQuarterMore() {
        DirtyLimits base = DirtyLimits.defaults(100_000);
        DirtyLimits rt = DirtyLimits.compute(100_000, 20, 10, 0, 0, true, 3200);
        assertThat(rt.thresh()).isEqualTo(base.thresh() + base.thresh() / 4 + 100);
        assertThat(rt.bgThresh()).isEqualTo(base.bgThresh() + base.bgThresh() / 4 + 100);
    }

    @Test
    void dirtyableMemoryExcludesTheReserveAndIsNeverZero() {
        assertThat(DirtyLimits.dirtyableMemory(1000, 300, 500)).isEqualTo(1201);
        assertThat(DirtyLimits.dirtyableMemory(100, 300, 0)).isEqualTo(1);
    }

    @Test
    void badRatiosAreRejected() {
        assertThatThrownBy(() -> DirtyLimits.compute(1, 101, 10, 0, 0, false, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("101");
    }
}
