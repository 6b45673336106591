package io.memscope.page;

import static io.memscope.page.MemfdRegion.PAGE_SIZE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * vmap over both backings (the same specification runs against MEMFD and ARENA regions): page i
 * of the view aliases the direct-map page of pfn i both ways, the guards, the accounting; and the
 * MEMFD-only facts: one segment, one mmap per run, nothing left in /proc/self/maps.
 */
class VmapTest {
    static final long SEED = Long.getLong("memscope.test.seed", 20261122L);
    static final int[] SCATTERED = {7, 3, 4, 5, 100};

    static MemfdRegion region(MemfdRegion.Selection sel, String name) {
        if (sel == MemfdRegion.Selection.MEMFD) {
            assumeTrue(MemfdRegionTest.memfdAvailable(), "memfd unavailable on this platform");
        }
        return MemfdRegion.create(128L * PAGE_SIZE, name, sel);
    }

    @ParameterizedTest
    @EnumSource(names = {"MEMFD", "ARENA"})
    void pageIAliasesTheDirectMapOfPfnIBothWays(MemfdRegion.Selection sel) {
        try (MemfdRegion r = region(sel, "memscope-test-alias"); VmapView v = r.vmap(SCATTERED)) {
            assertThat(v.nrPages()).isEqualTo(5);
            assertThat(v.byteSize()).isEqualTo(5L * PAGE_SIZE);
            assertThat(v.runs()).isEqualTo(3);
            for (int i = 0; i < SCATTERED.length; i++) {
                assertThat(v.pfn(i)).isEqualTo(SCATTERED[i]);
                MemorySegment direct = r.segmentOf(SCATTERED[i], 0);
                // view -> direct map
                v.putLong((long) i * PAGE_SIZE + 16, 0xC0FFEE00L + i);
                assertThat(direct.get(ValueLayout.JAVA_LONG_UNALIGNED, 16)).isEqualTo(0xC0FFEE00L + i);
                // direct map -> view
                direct.set(ValueLayout.JAVA_INT_UNALIGNED, PAGE_SIZE - 4, 1000 + i);
                assertThat(v.getInt((long) i * PAGE_SIZE + PAGE_SIZE - 4)).isEqualTo(1000 + i);
                assertThat(v.page(i).get(ValueLayout.JAVA_INT_UNALIGNED, PAGE_SIZE - 4)).isEqualTo(1000 + i);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"MEMFD", "ARENA"})
    void accessesThatStraddleTwoFramesLandInBoth(MemfdRegion.Selection sel) {
        try (MemfdRegion r = region(sel, "memscope-test-straddle"); VmapView v = r.vmap(SCATTERED)) {
            long at = PAGE_SIZE - 3; // bytes 0..2 in pfn 7, bytes 3..7 in pfn 3
            v.putLong(at, 0x0807060504030201L);
            assertThat(v.getLong(at)).isEqualTo(0x0807060504030201L);
            MemorySegment expected = Arena.ofAuto().allocate(8);
            expected.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, 0x0807060504030201L);
            for (int b = 0; b < 8; b++) {
                MemorySegment page = r.segmentOf(b < 3 ? 7 : 3, 0);
                long in = b < 3 ? PAGE_SIZE - 3 + b : b - 3;
                assertThat(page.get(ValueLayout.JAVA_BYTE, in)).isEqualTo(expected.get(ValueLayout.JAVA_BYTE, b));
            }
            v.putInt(2L * PAGE_SIZE - 1, -2);
            assertThat(v.getInt(2L * PAGE_SIZE - 1)).isEqualTo(-2);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"MEMFD", "ARENA"})
    void copyHelpersMoveWholeAreasAcrossFrames(MemfdRegion.Selection sel) {
        Random rnd = new Random(SEED);
        try (MemfdRegion r = region(sel, "memscope-test-copy"); VmapView v = r.vmap(SCATTERED);
             Arena a = Arena.ofConfined()) {
            byte[] data = new byte[(int) v.byteSize() - 100];
            rnd.nextBytes(data);
            MemorySegment src = a.allocate(data.length);
            MemorySegment.copy(data, 0, src, ValueLayout.JAVA_BYTE, 0, data.length);
            v.copyFrom(src, 50);
            MemorySegment back = a.allocate(data.length);
            v.copyTo(50, back);
            assertThat(back.toArray(ValueLayout.JAVA_BYTE)).isEqualTo(data);
            // byte 50 + 4096 - 50 = start of page 1 = pfn 3
            assertThat(r.segmentOf(3, 0).get(ValueLayout.JAVA_BYTE, 0)).isEqualTo(data[PAGE_SIZE - 50]);
            v.fill((byte) 0x5a);
            assertThat(r.segmentOf(100, 0).get(ValueLayout.JAVA_BYTE, PAGE_SIZE - 1)).isEqualTo((byte) 0x5a);
            assertThatThrownBy(() -> v.copyFrom(src, 200)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> v.getLong(v.byteSize() - 4)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"MEMFD", "ARENA"})
    void vmapIsAccountedAndVunmapReleases(MemfdRegion.Selection sel) {
        try (MemfdRegion r = region(sel, "memscope-test-acct")) {
            VmapView a = r.vmap(SCATTERED);
            VmapView b = r.vmap(new int[] {1, 1});
            assertThat(r.nrVmaps()).isEqualTo(2);
            assertThat(r.vmapPages()).isEqualTo(7);
            assertThat(r.vmapBytes()).isEqualTo(7L * PAGE_SIZE);
            a.vunmap();
            assertThat(a.isMapped()).isFalse();
            assertThat(r.nrVmaps()).isEqualTo(1);
            assertThat(r.vmapBytes()).isEqualTo(2L * PAGE_SIZE);
            // the same frame twice: both pages are one memory
            b.putLong(0, 42);
            assertThat(b.getLong(PAGE_SIZE)).isEqualTo(42);
            b.close();
            b.close(); // close is idempotent, vunmap is not
            assertThat(r.nrVmaps()).isZero();
            assertThat(r.vmapsTotal()).isEqualTo(2);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"MEMFD", "ARENA"})
    void doubleVunmapAndUseAfterVunmapAreNamedErrors(MemfdRegion.Selection sel) {
        try (MemfdRegion r = region(sel, "memscope-test-uaf")) {
            VmapView v = r.vmap(SCATTERED);
            MemorySegment page0 = v.page(0);
            v.vunmap();
            assertThatThrownBy(v::vunmap).isInstanceOf(VmapReleasedException.class)
                    .hasMessageStartingWith("vunmap: Trying to vunmap() nonexistent vm area (");
            assertThat(r.nrVmaps()).as("books unchanged by the bad vunmap").isZero();
            for (Consumer<VmapView> use : java.util.List.<Consumer<VmapView>>of(
                    x -> x.getLong(0), x -> x.putByte(0, (byte) 1), x -> x.page(0), x -> x.fill((byte) 0),
                    x -> x.contiguous(), x -> x.copyTo(0, MemorySegment.ofArray(new byte[8])))) {
                assertThatThrownBy(() -> use.accept(v)).isInstanceOf(VmapReleasedException.class)
                        .hasMessageContaining("expected a mapped area, found it unmapped by vunmap()");
            }
            assertThatThrownBy(() -> page0.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
            // the frames themselves are untouched by vunmap
            r.segmentOf(7, 0).set(ValueLayout.JAVA_BYTE, 0, (byte) 9);
            assertThat(r.segmentOf(7, 0).get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 9);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"MEMFD", "ARENA"})
    void badRequestsAreRefusedWithoutMappingAnything(MemfdRegion.Selection sel) {
        try (MemfdRegion r = region(sel, "memscope-test-badpfn")) {
            assertThatThrownBy(() -> r.vmap(new int[] {7, 3, 128})).isInstanceOf(PfnOutOfRangeException.class)
                    .hasMessageContaining("expected pfns in [0, 128)").hasMessageContaining("found pfn 128 at index 2");
            assertThatThrownBy(() -> r.vmap(new int[] {-1})).isInstanceOf(PfnOutOfRangeException.class);
            assertThatThrownBy(() -> r.vmap(new int[0])).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("vmap: expected at least one pfn, found none");
            assertThat(r.nrVmaps()).isZero();
            assertThat(r.runMmaps()).isZero();
        }
    }

    @Test
    void memfdVmapIsOneSegmentBuiltWithOneMmapPerRun() {
        String name = "memscope-test-runs";
        try (MemfdRegion r = region(MemfdRegion.Selection.MEMFD, name)) {
            assumeTrue(ProcMaps.available());
            long before = ProcMaps.memfdMappings(name);
            VmapView v = r.vmap(SCATTERED);
            assertThat(v).isInstanceOf(VmapArea.class);
            assertThat(r.runMmaps()).as("runs [7] [3,4,5] [100]").isEqualTo(3);
            MemorySegment seg = v.contiguous().orElseThrow();
            assertThat(seg.byteSize()).isEqualTo(5L * PAGE_SIZE);
            assertThat(seg.address()).isEqualTo(((VmapArea) v).address());
            assertThat(seg.address() % PAGE_SIZE).isZero();
            seg.set(ValueLayout.JAVA_LONG_UNALIGNED, 4L * PAGE_SIZE + 8, 77L);
            assertThat(r.segmentOf(100, 0).get(ValueLayout.JAVA_LONG_UNALIGNED, 8)).isEqualTo(77L);
            assertThat(ProcMaps.memfdMappings(name)).as("one mapping per run").isEqualTo(before + 3);
            v.vunmap();
            assertThat(ProcMaps.memfdMappings(name)).isEqualTo(before);
            assertThatThrownBy(() -> seg.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
            VmapView one = r.vmap(new int[] {10, 11, 12, 13});
            assertThat(one.runs()).isEqualTo(1);
            assertThat(r.runMmaps()).isEqualTo(4);
            one.vunmap();
        }
    }

    @Test
    void arenaVmapIsAScatterView() {
        try (MemfdRegion r = region(MemfdRegion.Selection.ARENA, "memscope-test-scatter"); VmapView v = r.vmap(SCATTERED)) {
            assertThat(v).isInstanceOf(ScatterVmap.class);
            assertThat(v.contiguous()).isEmpty();
            assertThat(r.runMmaps()).isZero();
            assertThat(v.page(4).address()).isEqualTo(r.segmentOf(100, 0).address());
        }
    }

    @Test
    void thousandCyclesLeaveNoMapping() {
        String name = "memscope-test-cycles";
        Random rnd = new Random(SEED);
        try (MemfdRegion r = region(MemfdRegion.Selection.MEMFD, name)) {
            assumeTrue(ProcMaps.available());
            long baseline = ProcMaps.memfdMappings(name);
            long runs = 0;
            for (int c = 0; c < 1000; c++) {
                int[] pfns = new int[1 + rnd.nextInt(16)];
                for (int i = 0; i < pfns.length; i++) {
                    pfns[i] = rnd.nextInt(4) == 0 && i > 0 ? Math.min(127, pfns[i - 1] + 1) : rnd.nextInt(128);
                }
                VmapView v = r.vmap(pfns);
                runs += v.runs();
                v.putInt(v.byteSize() - 4, c);
                assertThat(r.segmentOf(pfns[pfns.length - 1], 0).get(ValueLayout.JAVA_INT_UNALIGNED, PAGE_SIZE - 4))
                        .isEqualTo(c);
                v.vunmap();
            }
            assertThat(ProcMaps.memfdMappings(name)).isEqualTo(baseline);
            assertThat(r.nrVmaps()).isZero();
            assertThat(r.vmapsTotal()).isEqualTo(1000);
            assertThat(r.runMmaps()).isEqualTo(runs);
        }
    }
}
