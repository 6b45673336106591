package io.memscope.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.ZoneType;
import io.memscope.sched.Task;
import org.junit.jupiter.api.Test;

/** Watermark, reserve and alloc_flags arithmetic (KERNEL.md §0, §3.2, §3.3; T22–T27). */
class WatermarkRulesTest {
    private static final Watermarks.OrderProbe ANY_BLOCK = (o, ha) -> true;

    private static boolean ok(long free, int flags) {
        return Watermarks.zoneWatermarkOk(free, 1000, 0, 0, 0, flags, ANY_BLOCK);
    }

    @Test
    void setupPerZoneWmarksMatchesTheKernelExample() {
        long[] w = Watermarks.zoneWatermarks(1L << 20, ZoneType.NORMAL.ordinal(), 1L << 20, 8192, 10);
        assertThat(w).containsExactly(2048, 3096, 4144, 5192);
    }

    @Test
    void movableZoneMinIsClampedAndStepComesFromTheProportionalShare() {
        long[] w = Watermarks.zoneWatermarks(65536, ZoneType.MOVABLE.ordinal(), 65536, 4096, 10);
        assertThat(w[0]).isEqualTo(64); // clamp(65536/1024, 32, 128)
        assertThat(w[1] - w[0]).isEqualTo(Math.max(1024 >> 2, 65536 * 10 / 10000));
    }

    @Test
    void calculateMinFreeKbytesClamps() {
        assertThat(Watermarks.defaultMinFreeKbytes(1L << 20)).isEqualTo(8192); // 4 GiB: sqrt(4194304*16)
        assertThat(Watermarks.defaultMinFreeKbytes(256)).isEqualTo(128);
        assertThat(Watermarks.defaultMinFreeKbytes(1L << 34)).isEqualTo(262144);
    }

    @Test
    void lowmemReserveSumsHigherZonesOverTheRatio() {
        long[][] r = Watermarks.lowmemReserve(new long[] {4096, 1 << 20, 1 << 21, 0}, new int[] {256, 256, 32, 0});
        assertThat(r[0]).containsExactly(0, 4096, 12288, 12288);
        assertThat(r[1]).containsExactly(0, 0, 8192, 8192);
        assertThat(r[2]).containsExactly(0, 0, 0, 0);
    }

    @Test
    void pcpBatchAndHighFollowZoneBatchsizeAndZoneHighsize() {
        assertThat(Watermarks.zoneBatchsize(1L << 20)).isEqualTo(63);
        assertThat(Watermarks.zoneBatchsize(1024)).isEqualTo(1);
        assertThat(Watermarks.zoneHighsize(3096, 63, 4)).isEqualTo(774);
        assertThat(Watermarks.zoneHighsize(100, 63, 4)).isEqualTo(252);
    }

    @Test
    void gfpToAllocFlagsVectorsT22() {
        Task t = Task.current();
        assertThat(AllocFlags.gfpToAllocFlags(Gfp.KERNEL, 0, t)).isEqualTo(0x840);
        assertThat(AllocFlags.gfpToAllocFlags(Gfp.NOFS, 0, t)).isEqualTo(0x840);
        assertThat(AllocFlags.gfpToAllocFlags(Gfp.KERNEL | Gfp.HIGH, 0, t)).isEqualTo(0x860);
        assertThat(AllocFlags.gfpToAllocFlags(Gfp.ATOMIC, 0, t)).isEqualTo(0x830);
        assertThat(AllocFlags.gfpToAllocFlags(Gfp.ATOMIC, 2, t)).isEqualTo(0xa30);
        assertThat(AllocFlags.gfpToAllocFlags(Gfp.ATOMIC | Gfp.NOMEMALLOC, 0, t)).isEqualTo(0x820);
        assertThat(AllocFlags.gfpToAllocFlags(Gfp.NOWAIT, 0, t)).isEqualTo(0x850);
        assertThat(AllocFlags.gfpToAllocFlags(Gfp.KERNEL & ~Gfp.RECLAIM, 0, t)).isEqualTo(0x050);
        assertThat(AllocFlags.gfpToAllocFlags(Gfp.HIGHUSER_MOVABLE, 0, t)).isEqualTo(0x8c0);
    }

    @Test
    void rtTaskGetsMinReserveForBlockingRequests() throws Exception {
        int[] f = new int[1];
        Thread th = Thread.ofPlatform().start(() -> {
            Task.current().setRtTask(true);
            f[0] = AllocFlags.gfpToAllocFlags(Gfp.KERNEL, 0, Task.current());
        });
        th.join();
        assertThat(f[0]).isEqualTo(0x860);
    }

    @Test
    void atomicUsesSixtyTwoPointFivePercentOfMinT23() {
        int f = AllocFlags.gfpToAllocFlags(Gfp.ATOMIC, 0, Task.current());
        assertThat(ok(376, f)).isTrue();
        assertThat(ok(375, f)).isFalse();
    }

    @Test
    void highBlockingUsesHalfAndOrdinaryNoneT24() {
        int high = AllocFlags.gfpToAllocFlags(Gfp.KERNEL | Gfp.HIGH, 0, Task.current());
        assertThat(ok(501, high)).isTrue();
        assertThat(ok(500, high)).isFalse();
        int kernel = AllocFlags.gfpToAllocFlags(Gfp.KERNEL, 0, Task.current());
        assertThat(ok(1001, kernel)).isTrue();
        assertThat(ok(1000, kernel)).isFalse();
    }

    @Test
    void nowaitGetsNoMinDiscountT25() {
        int f = AllocFlags.gfpToAllocFlags(Gfp.NOWAIT, 0, Task.current());
        assertThat(ok(999, f)).isFalse();
        assertThat(ok(1001, f)).isTrue();
    }

    @Test
    void atomicNomemallocKeepsHalfT26() {
        int f = AllocFlags.gfpToAllocFlags(Gfp.ATOMIC | Gfp.NOMEMALLOC, 0, Task.current());
        assertThat(f & AllocFlags.NON_BLOCK).isZero();
        assertThat(ok(501, f)).isTrue();
        assertThat(ok(500, f)).isFalse();
    }

    @Test
    void oomVictimHalvesMinAndHighatomicCountsOnlyWithReserves() {
        assertThat(ok(501, AllocFlags.OOM)).isTrue();
        assertThat(ok(500, AllocFlags.OOM)).isFalse();
        // 200 free highatomic pages are unusable without a reserve flag
        assertThat(Watermarks.zoneWatermarkOk(1150, 1000, 0, 200, 0, AllocFlags.WMARK_MIN, ANY_BLOCK)).isFalse();
        assertThat(Watermarks.zoneWatermarkOk(1150, 1000, 0, 200, 0, AllocFlags.NON_BLOCK, ANY_BLOCK)).isTrue();
    }

    @Test
    void lowmemReserveAndOrderAreSubtracted() {
        assertThat(Watermarks.zoneWatermarkOk(1100, 1000, 100, 0, 0, 0, ANY_BLOCK)).isFalse();
        assertThat(Watermarks.zoneWatermarkOk(1101, 1000, 100, 0, 0, 0, ANY_BLOCK)).isTrue();
        assertThat(Watermarks.zoneWatermarkOk(1007, 1000, 0, 0, 3, 0, ANY_BLOCK)).isFalse(); // 1007 - 7 == min
        assertThat(Watermarks.zoneWatermarkOk(1008, 1000, 0, 0, 3, 0, ANY_BLOCK)).isTrue();
        assertThat(Watermarks.zoneWatermarkOk(1009, 1000, 0, 0, 3, 0, (o, ha) -> false)).isFalse();
    }

    @Test
    void pfmemallocFlagsT27() throws Exception {
        int[] r = new int[3];
        Thread th = Thread.ofPlatform().start(() -> {
            Task.current().becomeKernelThread(Task.PF_MEMALLOC);
            r[0] = AllocFlags.pfmemallocFlags(Gfp.KERNEL, Task.current());
            r[1] = AllocFlags.pfmemallocFlags(Gfp.KERNEL | Gfp.NOMEMALLOC, Task.current());
        });
        th.join();
        r[2] = AllocFlags.pfmemallocFlags(Gfp.KERNEL | Gfp.MEMALLOC, Task.current());
        assertThat(r[0]).isEqualTo(AllocFlags.NO_WATERMARKS);
        assertThat(r[1]).isZero();
        assertThat(r[2]).isEqualTo(AllocFlags.NO_WATERMARKS);
        assertThat(AllocFlags.pfmemallocFlags(Gfp.KERNEL, Task.current())).isZero();
    }
}
