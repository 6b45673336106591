package io.memscope.page;

import static io.memscope.page.MemfdRegion.PAGE_SIZE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The machine's physical memory: memfd creation, the direct map, close, selection, errno reporting. */
class MemfdRegionTest {
    static final long SIZE = 64L * PAGE_SIZE;

    static boolean memfdAvailable() {
        try (MemfdRegion r = MemfdRegion.create(PAGE_SIZE, "memscope-probe", MemfdRegion.Selection.AUTO)) {
            return r.mode() == MemfdRegion.Mode.MEMFD;
        }
    }

    @Test
    void autoSelectsMemfdOnLinuxAndMapsOneFile() {
        assumeTrue(ProcMaps.available(), "needs /proc/self/maps (Linux)");
        String name = "memscope-test-create";
        MemfdRegion r = MemfdRegion.create(SIZE, name, MemfdRegion.Selection.AUTO);
        assertThat(r.mode()).isEqualTo(MemfdRegion.Mode.MEMFD);
        assertThat(r.supportsRemap()).isTrue();
        assertThat(r.fallbackReason()).isEmpty();
        assertThat(r.size()).isEqualTo(SIZE);
        assertThat(r.nrPages()).isEqualTo(64);
        assertThat(ProcMaps.memfdMappings(name)).isEqualTo(1);
        r.close();
        assertThat(r.isClosed()).isTrue();
        assertThat(ProcMaps.memfdMappings(name)).isZero();
        r.close(); // idempotent
        assertThat(r.isClosed()).isTrue();
    }

    @Test
    void directMapReadWriteByPfnInBothModes() {
        for (MemfdRegion.Selection sel : new MemfdRegion.Selection[] {MemfdRegion.Selection.AUTO, MemfdRegion.Selection.ARENA}) {
            try (MemfdRegion r = MemfdRegion.create(SIZE, "memscope-test-rw", sel)) {
                MemorySegment p5 = r.segmentOf(5, 0);
                assertThat(p5.byteSize()).isEqualTo(PAGE_SIZE);
                assertThat(p5.address() % PAGE_SIZE).as("frames are page aligned").isZero();
                p5.set(ValueLayout.JAVA_LONG, 8, 0x1122334455667788L);
                assertThat(r.directMap().get(ValueLayout.JAVA_LONG, 5L * PAGE_SIZE + 8)).isEqualTo(0x1122334455667788L);
                MemorySegment block = r.segmentOf(4, 2); // pfns 4..7
                assertThat(block.byteSize()).isEqualTo(4L * PAGE_SIZE);
                assertThat(block.get(ValueLayout.JAVA_LONG, PAGE_SIZE + 8)).isEqualTo(0x1122334455667788L);
                assertThat(r.segmentOf(63, 0).get(ValueLayout.JAVA_BYTE, PAGE_SIZE - 1)).isZero();
            }
        }
    }

    @Test
    void segmentOfRejectsFramesOutsideTheRegion() {
        try (MemfdRegion r = MemfdRegion.create(SIZE, "memscope-test-bad", MemfdRegion.Selection.AUTO)) {
            assertThatThrownBy(() -> r.segmentOf(64, 0)).isInstanceOf(PfnOutOfRangeException.class)
                    .hasMessageContaining("expected frames in [0, 64)").hasMessageContaining("found [64, 65)");
            assertThatThrownBy(() -> r.segmentOf(-1, 0)).isInstanceOf(PfnOutOfRangeException.class);
            assertThat(r.segmentOf(62, 1).byteSize()).as("[62, 64) is the last order-1 block").isEqualTo(2L * PAGE_SIZE);
            assertThatThrownBy(() -> r.segmentOf(63, 1)).isInstanceOf(PfnOutOfRangeException.class)
                    .hasMessageContaining("found [63, 65)");
            assertThatThrownBy(() -> r.segmentOf(0, 11)).isInstanceOf(PfnOutOfRangeException.class)
                    .hasMessageContaining("expected order in [0, 10], found 11");
        }
    }

    @Test
    void useAfterCloseIsANamedError() {
        MemfdRegion r = MemfdRegion.create(SIZE, "memscope-test-closed", MemfdRegion.Selection.AUTO);
        MemorySegment p0 = r.segmentOf(0, 0);
        r.close();
        assertThatThrownBy(() -> r.segmentOf(0, 0)).isInstanceOf(RegionClosedException.class)
                .hasMessage("segmentOf on region 'memscope-test-closed' (" + r.mode()
                        + ", 64 pages): expected an open region, found it closed");
        assertThatThrownBy(() -> r.vmap(new int[] {1})).isInstanceOf(RegionClosedException.class);
        assertThatThrownBy(r::directMap).isInstanceOf(RegionClosedException.class);
        // A segment handed out before close is dead too (its arena is closed), not dangling.
        assertThatThrownBy(() -> p0.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void sizeMustBeWholePages() {
        assertThatThrownBy(() -> MemfdRegion.create(PAGE_SIZE + 1, "x", MemfdRegion.Selection.ARENA))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("found 4097");
        assertThatThrownBy(() -> MemfdRegion.create(0, "x", MemfdRegion.Selection.ARENA))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void systemPropertyForcesTheBacking() {
        String old = System.getProperty(MemfdRegion.PHYSMEM_PROPERTY);
        try {
            System.setProperty(MemfdRegion.PHYSMEM_PROPERTY, "arena");
            try (MemfdRegion r = MemfdRegion.create(SIZE)) {
                assertThat(r.mode()).isEqualTo(MemfdRegion.Mode.ARENA);
                assertThat(r.supportsRemap()).isFalse();
                assertThat(r.fallbackReason()).as("forced, not a fallback").isEmpty();
            }
            System.setProperty(MemfdRegion.PHYSMEM_PROPERTY, "MemFD");
            if (memfdAvailable()) {
                try (MemfdRegion r = MemfdRegion.create(SIZE)) {
                    assertThat(r.mode()).isEqualTo(MemfdRegion.Mode.MEMFD);
                }
            } else {
                assertThatThrownBy(() -> MemfdRegion.create(SIZE)).isInstanceOf(MemfdUnavailableException.class);
            }
            System.setProperty(MemfdRegion.PHYSMEM_PROPERTY, "tmpfs");
            assertThatThrownBy(() -> MemfdRegion.create(SIZE)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("memscope.physmem: expected arena, memfd or auto, found 'tmpfs'");
        } finally {
            if (old == null) {
                System.clearProperty(MemfdRegion.PHYSMEM_PROPERTY);
            } else {
                System.setProperty(MemfdRegion.PHYSMEM_PROPERTY, old);
            }
        }
    }

    @Test
    void failedCallsNameTheCallAndTheErrno() {
        assumeTrue(memfdAvailable());
        Libc libc = Libc.load();
        // munmap of an address that is not page aligned: EINVAL (22).
        assertThatThrownBy(() -> libc.munmap(0x1001L, PAGE_SIZE)).isInstanceOf(NativeCallException.class)
                .hasMessageStartingWith("munmap(addr=0x1001, len=4096) failed: EINVAL (22)")
                .satisfies(e -> {
                    NativeCallException n = (NativeCallException) e;
                    assertThat(n.errno()).isEqualTo(22);
                    assertThat(n.errnoName()).isEqualTo("EINVAL");
                    assertThat(n.call()).isEqualTo("munmap(addr=0x1001, len=4096)");
                });
        assertThat(libc.pageSize()).isEqualTo(PAGE_SIZE);
    }

    @Test
    void memfdThatCannotBeCreatedIsReportedAndAutoFallsBack() {
        assumeTrue(memfdAvailable());
        // memfd names are limited to 249 bytes: memfd_create fails with EINVAL.
        String tooLong = "m".repeat(300);
        assertThatThrownBy(() -> MemfdRegion.create(SIZE, tooLong, MemfdRegion.Selection.MEMFD))
                .isInstanceOf(MemfdUnavailableException.class)
                .hasMessageContaining("memfd_create(")
                .hasMessageContaining("EINVAL (22)")
                .hasCauseInstanceOf(NativeCallException.class);
        try (MemfdRegion r = MemfdRegion.create(SIZE, tooLong, MemfdRegion.Selection.AUTO)) {
            assertThat(r.mode()).isEqualTo(MemfdRegion.Mode.ARENA);
            assertThat(r.fallbackReason()).get().asString().contains("EINVAL");
        }
    }

    @Test
    void closeWithLiveVmapsUnmapsThemAndReportsTheLeak() {
        for (MemfdRegion.Selection sel : new MemfdRegion.Selection[] {MemfdRegion.Selection.AUTO, MemfdRegion.Selection.ARENA}) {
            String name = "memscope-test-leak";
            MemfdRegion r = MemfdRegion.create(SIZE, name, sel);
            VmapView a = r.vmap(new int[] {1, 2});
            VmapView b = r.vmap(new int[] {9});
            assertThatThrownBy(r::close).isInstanceOf(VmapLeakException.class)
                    .hasMessage("close() of region '" + name + "' (" + r.mode()
                            + ", 64 pages): expected 0 live vmap areas, found 2 (3 pages); they have been unmapped");
            assertThat(a.isMapped()).isFalse();
            assertThat(b.isMapped()).isFalse();
            assertThat(r.nrVmaps()).isZero();
            assertThat(r.vmapBytes()).isZero();
            if (ProcMaps.available()) {
                assertThat(ProcMaps.memfdMappings(name)).isZero();
            }
            r.close(); // already closed: no second report
        }
    }
}
