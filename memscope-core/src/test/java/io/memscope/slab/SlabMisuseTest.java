package io.memscope.slab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.page.PageHandle;
import io.memscope.testkit.Machines;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Bad input to the slab layer: a named error that says what was expected, and books that still
 * balance (the Machines extension validates and closes every machine after each test).
 */
class SlabMisuseTest {
    @RegisterExtension
    final Machines machines = new Machines();

    @Test
    void freesOfAddressesThatAreNotObjectsAreRefusedByName() {
        MemoryManager mm = machines.create(b -> b.debug(false));
        Slab slab = mm.slab();
        long base = slab.memory().address();
        assertThatThrownBy(() -> slab.kfree(base - 4096)).isInstanceOf(ForeignObjectException.class)
                .hasMessageStartingWith("kfree: expected an object address in this machine's memory 0x" + Long.toHexString(base));
        long page = mm.allocPages(Gfp.KERNEL, 0);
        long pageAddr = base + ((long) PageHandle.pfn(page) << 12);
        assertThatThrownBy(() -> slab.kfree(pageAddr)).isInstanceOf(ForeignObjectException.class)
                .hasMessageContaining("which is not a slab or large kmalloc page");
        mm.freePages(page);
        long p = slab.kmalloc(64, Gfp.KERNEL);
        assertThatThrownBy(() -> slab.kfree(p + 8)).isInstanceOf(ForeignObjectException.class)
                .hasMessageStartingWith("kfree: expected the start of an object of kmalloc-64 (stride 64 B)")
                .hasMessageEndingWith("(Invalid object pointer)");
        assertThatThrownBy(() -> slab.ksize(p + 8)).isInstanceOf(ForeignObjectException.class);
        slab.kfree(p);
    }

    @Test
    void freeingToTheWrongCacheIsRefused() {
        Slab slab = machines.create(b -> b.debug(false)).slab();
        KmemCache a = slab.createCache("cache-a", 64);
        KmemCache b = slab.createCache("cache-b", 64);
        long p = a.alloc(Gfp.KERNEL);
        assertThatThrownBy(() -> b.free(p)).isInstanceOf(ForeignObjectException.class)
                .hasMessage("kmem_cache_free: expected an object of cache-b, found 0x" + Long.toHexString(p)
                        + " from cache-a (Wrong slab cache)");
        a.free(p);
        a.destroy();
        b.destroy();
    }

    /** Without debug flags the kernel's freelist hardening catches freeing the object freed last. */
    @Test
    void naiveDoubleFreeIsCaughtWithoutDebug() {
        Slab slab = machines.create(b -> b.debug(false)).slab();
        long p = slab.kmalloc(64, Gfp.KERNEL);
        slab.kfree(p);
        assertThatThrownBy(() -> slab.kfree(p)).isInstanceOf(SlabDoubleFreeException.class)
                .hasMessageStartingWith("kfree: expected an allocated object of kmalloc-64, found 0x" + Long.toHexString(p)
                        + " already free");
        KmemCache kmalloc64 = slab.kmallocCache(64, Gfp.KERNEL);
        assertThat(kmalloc64.activeObjects()).isZero();
    }

    @Test
    void cacheCreationChecksItsArguments() {
        Slab slab = machines.create().slab();
        assertThatThrownBy(() -> slab.createCache("", 8)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("kmem_cache_create: expected a cache name, found \"\"");
        assertThatThrownBy(() -> slab.createCache("zero", 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("kmem_cache_create zero: expected an object size in 1..2097152, found 0");
        assertThatThrownBy(() -> slab.createCache("odd", 8, 3, 0, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("kmem_cache_create odd: expected an alignment of 0 or a power of two up to 4096, found 3");
        assertThatThrownBy(() -> slab.createCache("bad", 8, 0, 1 << 20, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("kmem_cache_create bad: expected flags within");
    }

    @Test
    void destroyingACacheWithObjectsFailsAndKeepsItUsable() {
        Slab slab = machines.create(b -> b.debug(false)).slab();
        KmemCache c = slab.createCache("leaky", 100);
        long p = c.alloc(Gfp.KERNEL);
        assertThatThrownBy(c::destroy).isInstanceOf(SlabCacheLeakException.class)
                .hasMessage("kmem_cache_destroy leaky: Slab cache still has objects: expected 0 objects in use, found 1");
        assertThat(c.isDestroyed()).isFalse();
        c.free(p);
        c.destroy();
        assertThat(c.isDestroyed()).isTrue();
        assertThat(slab.caches()).doesNotContain(c);
        assertThatThrownBy(() -> c.alloc(Gfp.KERNEL)).isInstanceOf(SlabCacheDestroyedException.class);
    }

    @Test
    void closingAMachineWithAKmallocLeakNamesTheCacheAndStillReleasesTheMemory() {
        MemoryManager mm = MemoryManager.builder().memoryBytes(16L << 20).cpuSlots(2).build();
        mm.kmalloc(64, Gfp.KERNEL);
        mm.kmalloc(64, Gfp.KERNEL);
        assertThatThrownBy(mm::close).isInstanceOf(SlabCacheLeakException.class)
                .hasMessage("slab close: expected 0 objects in use, found kmalloc-64: 2");
        assertThat(mm.pages().isClosed()).isTrue();
    }

    /** Debug caches: any double free is refused and reported with both stacks; nothing changes. */
    @Test
    void debugDoubleFreeIsReportedWithBothStacksAndRefused() {
        MemoryManager mm = machines.create(); // debug: slab_debug=FZPU on kmalloc caches
        Slab slab = mm.slab();
        long p = slab.kmalloc(64, Gfp.KERNEL);
        long q = slab.kmalloc(64, Gfp.KERNEL);
        slab.kfree(p);
        slab.kfree(q); // p is no longer the last object freed
        assertThatThrownBy(() -> slab.kfree(p)).isInstanceOf(SlabDoubleFreeException.class)
                .hasMessageContaining("BUG kmalloc-64 (Not tainted): Object already free");
        List<String> log = mm.log().lines();
        assertThat(log).contains("BUG kmalloc-64 (Not tainted): Object already free",
                "FIX kmalloc-64: Object at 0x" + Long.toHexString(p) + " not freed");
        String allocated = log.stream().filter(l -> l.startsWith("Allocated in ")).findFirst().orElseThrow();
        String freed = log.stream().filter(l -> l.startsWith("Freed in ")).findFirst().orElseThrow();
        assertThat(allocated).contains("SlabMisuseTest.debugDoubleFreeIsReportedWithBothStacksAndRefused");
        assertThat(freed).contains("SlabMisuseTest.debugDoubleFreeIsReportedWithBothStacksAndRefused");
        assertThat(log).anyMatch(l -> l.startsWith("Object   ") && l.contains("6b 6b 6b"));
        assertThat(slab.kmallocCache(64, Gfp.KERNEL).activeObjects()).isZero();
    }

    @Test
    void debugRedZoneOverwriteIsReportedAndRestoredOnFree() {
        MemoryManager mm = machines.create();
        Slab slab = mm.slab();
        MemorySegment mem = slab.memory();
        long p = slab.kmalloc(64, Gfp.KERNEL);
        mem.set(ValueLayout.JAVA_BYTE, p - mem.address() + 64, (byte) 0x41); // one byte past the end
        slab.kfree(p);
        List<String> log = mm.log().lines();
        assertThat(log).anyMatch(l -> l.startsWith("[Right Redzone overwritten] 0x" + Long.toHexString(p + 64) + "-0x"
                + Long.toHexString(p + 64) + " @offset=") && l.endsWith(". First byte 0x41 instead of 0xcc"));
        assertThat(log).contains("BUG kmalloc-64 (Not tainted): Object corrupt");
        assertThat(log).anyMatch(l -> l.startsWith("FIX kmalloc-64: Restoring Right Redzone"));
        assertThat(mm.validate()).isZero();
    }

    @Test
    void debugUseAfterFreeWriteIsCaughtWhenTheObjectIsAllocatedAgain() {
        MemoryManager mm = machines.create();
        Slab slab = mm.slab();
        MemorySegment mem = slab.memory();
        KmemCache c = slab.createCache("uaf", 48);
        long p = c.alloc(Gfp.KERNEL);
        c.free(p);
        mem.set(ValueLayout.JAVA_INT, p - mem.address() + 4, 0x12345678); // write after free
        long q = c.alloc(Gfp.KERNEL); // same object: the free list is LIFO
        assertThat(q).isEqualTo(p);
        List<String> log = mm.log().lines();
        assertThat(log).anyMatch(l -> l.startsWith("[Poison overwritten] 0x" + Long.toHexString(p + 4)) && l.contains(
                "First byte 0x78 instead of 0x6b"));
        assertThat(log).anyMatch(l -> l.startsWith("Freed in ") && l.contains("debugUseAfterFreeWrite"));
        c.free(q);
        c.destroy();
    }

    @Test
    void validateFindsAWriteToAFreeObjectInADebugCache() {
        MemoryManager mm = machines.create();
        Slab slab = mm.slab();
        MemorySegment mem = slab.memory();
        KmemCache c = slab.createCache("scribbled", 32);
        long p = c.alloc(Gfp.KERNEL);
        long keep = c.alloc(Gfp.KERNEL);
        c.free(p);
        mem.set(ValueLayout.JAVA_BYTE, p - mem.address(), (byte) 0);
        assertThat(c.validate()).isEqualTo(1);
        assertThat(mm.log().lines()).contains("SLUB scribbled: validation found 1 error(s)");
        assertThat(c.validate()).as("the poison was restored").isZero();
        c.free(keep);
        c.destroy();
    }
}
