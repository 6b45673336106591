package io.memscope.slab;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.locking.Irq;
import io.memscope.locking.Mutex;
import io.memscope.locking.SpinLock;
import io.memscope.reclaim.ShrinkControl;
import io.memscope.sched.Memalloc;
import io.memscope.testkit.Machines;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Object caches: constructor, per-CPU sheaves, partial slabs, shrinking, slabinfo, and the allocation context. */
class KmemCacheTest {
    @RegisterExtension
    final Machines machines = new Machines();

    @Test
    void constructorRunsOncePerObjectWhenTheSlabIsCreatedNotOnEachAllocation() {
        Slab slab = machines.create(b -> b.debug(false)).slab();
        AtomicInteger ctorCalls = new AtomicInteger();
        KmemCache c = slab.createCache("inode", 200, 0, SlabFlags.HWCACHE_ALIGN,
                seg -> {
                    ctorCalls.incrementAndGet();
                    seg.set(ValueLayout.JAVA_LONG, 0, 0xfeedL);
                });
        assertThat(c.align()).isEqualTo(64);
        assertThat(c.size()).isEqualTo(256); // 200 + outside free pointer, rounded to 64
        long p = c.alloc(Gfp.KERNEL);
        assertThat(ctorCalls.get()).isEqualTo(c.objectsPerSlab());
        assertThat(slab.memory().get(ValueLayout.JAVA_LONG, p - slab.memory().address())).isEqualTo(0xfeedL);
        c.free(p);
        long q = c.alloc(Gfp.KERNEL);
        assertThat(ctorCalls.get()).isEqualTo(c.objectsPerSlab());
        // The free pointer is outside the object for caches with a constructor: the object is intact.
        assertThat(slab.memory().get(ValueLayout.JAVA_LONG, q - slab.memory().address())).isEqualTo(0xfeedL);
        c.free(q);
        c.destroy();
    }

    @Test
    void objectsAreDistinctAndTheBooksCountThem() {
        Slab slab = machines.create(b -> b.debug(false).cpuSlots(2)).slab();
        KmemCache c = slab.createCache("dentry", 192);
        List<Long> objs = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            objs.add(c.alloc(Gfp.KERNEL));
        }
        assertThat(objs).doesNotHaveDuplicates().doesNotContain(0L);
        assertThat(c.activeObjects()).isEqualTo(1000);
        long slabs = c.slabs();
        assertThat(c.totalObjects()).isEqualTo(slabs * c.objectsPerSlab());
        assertThat(slab.validate()).isZero();
        for (long o : objs) {
            c.free(o);
        }
        assertThat(c.activeObjects()).isZero();
        assertThat(c.slabs()).as("empty slabs beyond min_partial went back").isLessThan(slabs);
        long freed = c.shrink();
        assertThat(freed).isPositive();
        assertThat(c.slabs()).isZero();
        c.destroy();
    }

    @Test
    void slabinfoHasTheKernelsColumns() {
        Slab slab = machines.create(b -> b.debug(false)).slab();
        long p = slab.kmalloc(64, Gfp.KERNEL);
        String info = slab.slabinfo();
        assertThat(info).startsWith("slabinfo - version: 2.1\n# name            <active_objs> <num_objs> <objsize>"
                + " <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata"
                + " <active_slabs> <num_slabs> <sharedavail>\n");
        assertThat(info).contains(String.format("%-17s %6d %6d %6d %4d %4d : tunables    0    0    0 : slabdata %6d %6d      0%n",
                "kmalloc-64", 1, 64, 64, 64, 1, 1, 1));
        assertThat(info).contains("kmalloc-8k             0      0   8192    4    8 : tunables    0    0    0 : slabdata      0      0      0");
        slab.kfree(p);
    }

    @Test
    void theSlabShrinkerGivesEmptySlabsBackUnderPressure() {
        MemoryManager mm = machines.create(b -> b.debug(false));
        Slab slab = mm.slab();
        KmemCache c = slab.createCache("buffers", 512);
        List<Long> objs = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            objs.add(c.alloc(Gfp.KERNEL));
        }
        objs.forEach(c::free);
        c.flushAllSheaves();
        long empty = c.emptySlabPages();
        assertThat(empty).isPositive();
        var cb = slab.shrinkerCallbacks();
        assertThat(cb.countObjects(ShrinkControl.of(Gfp.KERNEL, 0))).isEqualTo(empty);
        long free = mm.pages().zones()[0].freePages();
        long dropped = mm.shrinkers().dropSlab();
        assertThat(dropped).isGreaterThanOrEqualTo(empty);
        assertThat(c.slabs()).isZero();
        assertThat(c.emptySlabPages()).isZero();
        c.destroy();
    }

    /** might_alloc runs for every kmalloc, even one served from the sheaf: GFP_KERNEL under a spinlock is reported. */
    @Test
    void sleepingKmallocUnderASpinlockIsReportedEvenWhenAnObjectIsCached() {
        MemoryManager mm = machines.create(b -> b.debug(false).panicOnWarn(false));
        Slab slab = mm.slab();
        slab.kfree(slab.kmalloc(32, Gfp.KERNEL)); // the sheaf now holds objects
        SpinLock lock = new SpinLock(mm.lockdep(), "dev_lock");
        lock.lock();
        long p;
        try {
            p = slab.kmalloc(32, Gfp.KERNEL);
        } finally {
            lock.unlock();
        }
        assertThat(p).isNotZero();
        assertThat(mm.log().dmesg()).contains("BUG: sleeping function called from invalid context");
        slab.kfree(p);
        lock.lock();
        try {
            p = slab.kmalloc(32, Gfp.ATOMIC);
        } finally {
            lock.unlock();
        }
        assertThat(mm.log().warnCount()).isEqualTo(1);
        slab.kfree(p);
    }

    @Test
    void kmallocFromNmiIsRefused() {
        MemoryManager mm = machines.create(b -> b.debug(false).panicOnWarn(false));
        long[] got = new long[1];
        Irq.nmi(() -> got[0] = mm.kmalloc(64, Gfp.ATOMIC));
        assertThat(got[0]).isZero();
        assertThat(mm.log().warnCount()).isEqualTo(1);
    }

    /** T65 through kmalloc: the fs_reclaim annotation sees a GFP_KERNEL kmalloc under the shrinker's lock. */
    @Test
    void gfpKernelKmallocUnderALockTheShrinkerTakesIsACycleAndNofsIsNot() {
        MemoryManager mm = machines.create(b -> b.debug(false).panicOnWarn(false).lockdep(true));
        Mutex l = new Mutex(mm.lockdep(), "sb_lock");
        mm.shrinkers().register("sb-cache", new io.memscope.reclaim.ShrinkerCallbacks() {
            @Override
            public long countObjects(ShrinkControl sc) {
                return 1;
            }

            @Override
            public long scanObjects(ShrinkControl sc) {
                l.lock();
                l.unlock();
                return 0;
            }
        });
        mm.reclaim().directReclaimer().tryToFreePages(mm.pages(), Gfp.KERNEL, 0, -1L); // fs_reclaim -> sb_lock
        l.lock();
        try (var scope = Memalloc.nofsScope()) {
            mm.kfree(mm.kmalloc(64, Gfp.KERNEL));
        } finally {
            l.unlock();
        }
        assertThat(mm.lockdep().reportCount()).isZero();
        l.lock();
        try {
            mm.kfree(mm.kmalloc(64, Gfp.KERNEL));
        } finally {
            l.unlock();
        }
        assertThat(mm.log().dmesg()).contains("WARNING: possible circular locking dependency detected")
                .contains("fs_reclaim").contains("sb_lock");
    }

    /** obj_to_index by reciprocal multiplication agrees with division at every byte of a slab, for odd sizes too. */
    @Test
    void objectIndexByReciprocalIsExactAtEveryOffset() {
        Slab slab = machines.create(b -> b.debug(false)).slab();
        for (int sz : new int[] {8, 24, 96, 200, 700, 1000, 3000}) {
            KmemCache c = slab.createCache("recip-" + sz, sz);
            long p = c.alloc(Gfp.KERNEL);
            int head = (int) ((p - slab.memory().address()) >>> 12);
            long start = c.slabAddress(head);
            long bytes = 4096L << c.order();
            for (long off = 0; off < bytes; off++) {
                int expected = off % c.size() == 0 && off / c.size() < c.objectsPerSlab() ? (int) (off / c.size()) : -1;
                if (c.objectIndex(head, start + off) != expected) {
                    throw new AssertionError("size " + c.size() + " offset " + off + ": expected " + expected + ", found "
                            + c.objectIndex(head, start + off));
                }
            }
            c.free(p);
            c.destroy();
        }
    }
}
