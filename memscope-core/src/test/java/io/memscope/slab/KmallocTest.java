package io.memscope.slab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.gfp.ZoneType;
import io.memscope.testkit.Machines;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The kmalloc family against mm/slab_common.c and mm/slub.c: size classes, kinds, ksize, krealloc, large sizes. */
class KmallocTest {
    @RegisterExtension
    final Machines machines = new Machines();

    /** Independent statement of the kernel's size classes: the smallest of 8,16,32,64,96,128,192,256,...,8192 that fits. */
    private static int expectedClass(int size) {
        int[] classes = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192};
        for (int c : classes) {
            if (size <= c) {
                return c;
            }
        }
        throw new AssertionError(size);
    }

    @Test
    void everySizeFrom1To8192GoesToTheSmallestClassThatFitsAndIsNaturallyAligned() {
        MemoryManager mm = machines.create(b -> b.debug(false));
        Slab slab = mm.slab();
        for (int size = 1; size <= Slab.KMALLOC_MAX_CACHE_SIZE; size++) {
            KmemCache s = slab.kmallocCache(size, Gfp.KERNEL);
            assertThat(s.objectSize()).as("size %d", size).isEqualTo(expectedClass(size));
            assertThat(s.name()).isEqualTo("kmalloc-" + (s.objectSize() >= 1024 ? s.objectSize() / 1024 + "k" : s.objectSize()));
        }
        for (int c : new int[] {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192}) {
            long p = slab.kmalloc(c, Gfp.KERNEL);
            assertThat(p % Integer.lowestOneBit(c)).as("kmalloc-%d alignment", c).isZero();
            assertThat(slab.ksize(p)).isEqualTo(c);
            slab.kfree(p);
        }
    }

    @Test
    void slabGeometryFollowsCalculateOrder() {
        // 2 CPUs: min_objects = 4 * (fls(2) + 1) = 12.
        assertThat(SlabGeometry.calculateOrder(64, 2)).isZero();
        assertThat(SlabGeometry.orderObjects(0, 64)).isEqualTo(64);
        assertThat(SlabGeometry.calculateOrder(8192, 2)).isEqualTo(3); // 4 objects in 32 KiB
        assertThat(SlabGeometry.calculateOrder(1024, 2)).isEqualTo(2); // 12 KiB needed -> order 2
        assertThat(SlabGeometry.calculateOrder(192, 2)).isZero(); // 21 objects, 64 B left over <= 4096/16
        // 700 B objects: 12 of them need 8400 B, so order 2; it leaves 284 B <= 16384/16.
        assertThat(SlabGeometry.calculateOrder(700, 2)).isEqualTo(2);
        // SLAB_HWCACHE_ALIGN: the cache line, halved while the object fits twice.
        assertThat(SlabGeometry.calculateAlignment(SlabFlags.HWCACHE_ALIGN, 0, 20)).isEqualTo(32);
        assertThat(SlabGeometry.calculateAlignment(SlabFlags.HWCACHE_ALIGN, 0, 100)).isEqualTo(64);
        assertThat(SlabGeometry.calculateAlignment(SlabFlags.HWCACHE_ALIGN, 0, 8)).isEqualTo(8);
        assertThat(SlabGeometry.calculateAlignment(0, 0, 20)).isEqualTo(8);
    }

    @Test
    void zeroSizeIsTheZeroSizePointerAndNullAndItAreIgnoredByKfree() {
        Slab slab = machines.create().slab();
        assertThat(slab.kmalloc(0, Gfp.KERNEL)).isEqualTo(Slab.ZERO_SIZE_PTR);
        assertThat(slab.ksize(Slab.ZERO_SIZE_PTR)).isZero();
        slab.kfree(Slab.ZERO_SIZE_PTR);
        slab.kfree(Slab.NULL);
        assertThatThrownBy(() -> slab.kmalloc(-1, Gfp.KERNEL)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("kmalloc: expected a size >= 0, found -1");
    }

    @Test
    void kzallocAndKcallocZeroWhatAPreviousUserDirtied() {
        Slab slab = machines.create(b -> b.debug(false)).slab();
        MemorySegment mem = slab.memory();
        long p = slab.kmalloc(64, Gfp.KERNEL);
        mem.asSlice(p - mem.address(), 64).fill((byte) 0x5a);
        slab.kfree(p);
        long q = slab.kzalloc(64, Gfp.KERNEL);
        assertThat(q).isEqualTo(p); // LIFO sheaf: the same object comes back
        for (int i = 0; i < 64; i++) {
            assertThat(mem.get(ValueLayout.JAVA_BYTE, q - mem.address() + i)).isZero();
        }
        slab.kfree(q);
        long r = slab.kcalloc(8, 8, Gfp.KERNEL);
        assertThat(slab.segment(r).toArray(ValueLayout.JAVA_BYTE)).containsOnly((byte) 0);
        slab.kfree(r);
    }

    @Test
    void kmallocArrayReturnsNullOnOverflow() {
        Slab slab = machines.create().slab();
        assertThat(slab.kmallocArray(Long.MAX_VALUE / 2, 3, Gfp.KERNEL)).isEqualTo(Slab.NULL);
        assertThat(slab.kmallocArray(1L << 40, 1L << 40, Gfp.KERNEL)).isEqualTo(Slab.NULL);
        long p = slab.kmallocArray(12, 8, Gfp.KERNEL);
        assertThat(slab.ksize(p)).isEqualTo(96);
        slab.kfree(p);
    }

    @Test
    void kreallocKeepsContentsAndReusesTheObjectWhenItFits() {
        Slab slab = machines.create().slab();
        MemorySegment mem = slab.memory();
        long p = slab.kmalloc(40, Gfp.KERNEL);
        for (int i = 0; i < 40; i++) {
            mem.set(ValueLayout.JAVA_BYTE, p - mem.address() + i, (byte) i);
        }
        assertThat(slab.krealloc(p, 64, Gfp.KERNEL)).as("fits in ksize 64").isEqualTo(p);
        long q = slab.krealloc(p, 1000, Gfp.KERNEL);
        assertThat(q).isNotEqualTo(p);
        assertThat(slab.ksize(q)).isEqualTo(1024);
        for (int i = 0; i < 40; i++) {
            assertThat(mem.get(ValueLayout.JAVA_BYTE, q - mem.address() + i)).isEqualTo((byte) i);
        }
        // The old object was freed: freeing it again is a double free.
        assertThatThrownBy(() -> slab.kfree(p)).isInstanceOf(SlabDoubleFreeException.class);
        // Failure leaves the object valid.
        assertThat(slab.krealloc(q, Slab.KMALLOC_MAX_SIZE + 1, Gfp.KERNEL | Gfp.NOWARN)).isEqualTo(Slab.NULL);
        assertThat(mem.get(ValueLayout.JAVA_BYTE, q - mem.address() + 39)).isEqualTo((byte) 39);
        assertThat(slab.krealloc(q, 0, Gfp.KERNEL)).isEqualTo(Slab.ZERO_SIZE_PTR);
        assertThat(slab.krealloc(Slab.NULL, 8, Gfp.KERNEL)).satisfies(r -> {
            assertThat(slab.ksize(r)).isEqualTo(8);
            slab.kfree(r);
        });
    }

    @Test
    void largeKmallocIsCompoundPagesCountedAsUnreclaimableSlab() {
        MemoryManager mm = machines.create();
        Slab slab = mm.slab();
        long before = slab.slabPages();
        long p = slab.kmalloc(20_000, Gfp.KERNEL);
        assertThat(p).isNotZero();
        assertThat(p & 4095).isZero();
        assertThat(slab.ksize(p)).isEqualTo(32_768);
        assertThat(slab.slabPages() - before).isEqualTo(8);
        assertThat(mm.meminfoValues().get("SUnreclaim")).isGreaterThanOrEqualTo(32);
        assertThatThrownBy(() -> slab.kfree(p + 4096)).isInstanceOf(ForeignObjectException.class)
                .hasMessageStartingWith("kfree: expected the start 0x" + Long.toHexString(p) + " of a large kmalloc block");
        slab.kfree(p);
        assertThat(slab.slabPages()).isEqualTo(before);
    }

    @Test
    void aboveKmallocMaxSizeFailsWithThePageAllocatorsWarningUnlessNowarn() {
        MemoryManager mm = machines.create(b -> b.panicOnWarn(false));
        Slab slab = mm.slab();
        assertThat(slab.kmalloc(Slab.KMALLOC_MAX_SIZE + 1, Gfp.KERNEL | Gfp.NOWARN)).isEqualTo(Slab.NULL);
        assertThat(mm.log().warnCount()).isZero();
        assertThat(slab.kmalloc(Slab.KMALLOC_MAX_SIZE + 1, Gfp.KERNEL)).isEqualTo(Slab.NULL);
        assertThat(mm.log().warnCount()).isEqualTo(1);
    }

    /** T62: __GFP_DMA32 cannot be honoured by a slab; the new-slab path fixes the mask with the kernel's words. */
    @Test
    void dma32IsFixedUpWithTheKernelsMessage() {
        MemoryManager mm = machines.create(b -> b.debug(false));
        long p = mm.kmalloc(64, Gfp.KERNEL | Gfp.DMA32);
        assertThat(p).isNotZero();
        assertThat(mm.log().lines()).contains(
                "Unexpected gfp: 0x4 (GFP_DMA32). Fixing up to gfp: 0xcc0 (GFP_KERNEL). Fix your code!");
        mm.kfree(p);
    }

    @Test
    void kmallocTypeSelectsReclaimableDmaAndCgroupCaches() {
        MemoryManager mm = machines.create();
        Slab slab = mm.slab();
        assertThat(slab.kmallocCache(64, Gfp.KERNEL | Gfp.RECLAIMABLE).name()).isEqualTo("kmalloc-rcl-64");
        assertThat(slab.kmallocCache(64, Gfp.KERNEL | Gfp.DMA).name()).isEqualTo("dma-kmalloc-64");
        assertThat(slab.kmallocCache(64, Gfp.KERNEL_ACCOUNT).name()).isEqualTo("kmalloc-cg-64");
        assertThat(slab.kmallocCache(64, Gfp.KERNEL | Gfp.DMA | Gfp.RECLAIMABLE).name()).isEqualTo("dma-kmalloc-64");
        long r = slab.kmalloc(64, Gfp.KERNEL | Gfp.RECLAIMABLE);
        assertThat(slab.reclaimablePages()).isPositive();
        assertThat(mm.meminfoValues().get("SReclaimable")).isPositive();
        long d = slab.kmalloc(64, Gfp.KERNEL | Gfp.DMA);
        int pfn = (int) ((d - slab.memory().address()) >>> 12);
        assertThat(mm.pages().zoneOf(pfn).type()).isEqualTo(ZoneType.DMA);
        slab.kfree(r);
        slab.kfree(d);
    }

    @Test
    void initOnAllocZeroesEveryKmalloc() {
        Slab slab = machines.create(b -> b.debug(false).initOnAlloc(true)).slab();
        MemorySegment mem = slab.memory();
        long p = slab.kmalloc(128, Gfp.KERNEL);
        mem.asSlice(p - mem.address(), 128).fill((byte) 1);
        slab.kfree(p);
        long q = slab.kmalloc(128, Gfp.KERNEL);
        assertThat(slab.segment(q).toArray(ValueLayout.JAVA_BYTE)).containsOnly((byte) 0);
        slab.kfree(q);
    }

    @Test
    void kfreeSensitiveZeroesTheObject() {
        Slab slab = machines.create(b -> b.debug(false)).slab();
        MemorySegment mem = slab.memory();
        long p = slab.kmalloc(32, Gfp.KERNEL);
        mem.asSlice(p - mem.address(), 32).fill((byte) 7);
        slab.kfreeSensitive(p);
        // The object is free; its bytes (except the free pointer in the middle) are zero.
        assertThat(mem.get(ValueLayout.JAVA_BYTE, p - mem.address())).isZero();
        assertThat(mem.get(ValueLayout.JAVA_BYTE, p - mem.address() + 31)).isZero();
    }
}
