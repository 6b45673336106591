package io.memscope.reclaim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memscope.debug.KernelLog;
import io.memscope.debug.KernelPanicException;
import io.memscope.gfp.Gfp;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** mm/shrinker.c rules: do_shrink_slab arithmetic (KERNEL.md T46–T49), deferral, life cycle. */
class ShrinkerTest {
    private final KernelLog log = new KernelLog(256, false);
    private final AtomicLong slabsScanned = new AtomicLong();
    private final Shrinkers shrinkers = new Shrinkers(2, log, slabsScanned::addAndGet);

    /** A cache of {@code objects} objects that records every scan call and frees what it scans. */
    static class FakeCache implements ShrinkerCallbacks {
        long objects;
        final List<Long> scans = new ArrayList<>();
        final List<Integer> masks = new ArrayList<>();
        boolean requireFs;

        FakeCache(long objects) {
            this.objects = objects;
        }

        @Override
        public long countObjects(ShrinkControl sc) {
            return objects == 0 ? Shrinker.SHRINK_EMPTY : objects;
        }

        @Override
        public long scanObjects(ShrinkControl sc) {
            masks.add(sc.gfpMask());
            if (requireFs && (sc.gfpMask() & Gfp.FS) == 0) {
                return Shrinker.SHRINK_STOP; // as super_cache_scan: deadlock avoidance
            }
            scans.add(sc.nrToScan());
            long n = Math.min(sc.nrToScan(), objects);
            objects -= n;
            return n;
        }
    }

    @Test
    void t47FifteenBatchesAtPriorityZeroDeferEighty() {
        // freeable 1000, priority 0, seeks 2, batch 128: delta = 1000*4/2 = 2000, total_scan = min(2000, 2000).
        FakeCache cache = new FakeCache(1000) {
            @Override
            public long scanObjects(ShrinkControl sc) {
                scans.add(sc.nrToScan());
                return 0; // scans but frees nothing, so freeable stays 1000 in the arithmetic
            }
        };
        Shrinker s = shrinkers.alloc("t47", 0, 2, 128, cache).register();
        long freed = shrinkers.doShrinkSlab(ShrinkControl.of(Gfp.KERNEL, 0), s, 0);
        assertThat(freed).isZero();
        assertThat(cache.scans).hasSize(15).allMatch(n -> n == 128);
        assertThat(s.nrDeferred(0)).isEqualTo(80);
        assertThat(slabsScanned.get()).isEqualTo(15 * 128);
        s.free();
    }

    @Test
    void t48LowPressureScansNothingAndDefersDelta() {
        FakeCache cache = new FakeCache(100_000);
        Shrinker s = shrinkers.alloc("sb-test", 0, 2, 1024, cache).register();
        shrinkers.doShrinkSlab(ShrinkControl.of(Gfp.KERNEL, 0), s, 12);
        assertThat(cache.scans).isEmpty();
        assertThat(s.nrDeferred(0)).isEqualTo(48);
        s.free();
    }

    @Test
    void t49ShrinkStopDefersTwiceFreeable() {
        FakeCache cache = new FakeCache(1000);
        cache.requireFs = true;
        Shrinker s = shrinkers.alloc("fs", 0, 2, 128, cache).register();
        long freed = shrinkers.doShrinkSlab(ShrinkControl.of(Gfp.NOFS, 0), s, 0);
        assertThat(freed).isZero();
        assertThat(s.nrDeferred(0)).isEqualTo(2000);
        assertThat(cache.objects).isEqualTo(1000);
        s.free();
    }

    @Test
    void t46NofsContextCountsButNeverScansAnFsCacheAndKernelContextDoesTheDeferredWork() {
        FakeCache cache = new FakeCache(4096);
        cache.requireFs = true;
        Shrinker s = shrinkers.alloc("sb-memscope", 0, 2, 1024, cache).register();
        for (int i = 0; i < 3; i++) {
            shrinkers.shrinkSlab(Gfp.NOFS, 0, 0);
        }
        assertThat(cache.objects).as("no object freed under GFP_NOFS").isEqualTo(4096);
        assertThat(cache.masks).as("scan_objects was asked, and refused").hasSize(3).containsOnly(Gfp.NOFS);
        assertThat(s.nrDeferred(0)).as("deferred work capped at 2 x freeable").isEqualTo(8192);
        // A GFP_KERNEL reclaimer (kswapd) picks up the deferred work: target = (8192 >> 2) + (4096 >> 2) * 4 / 2.
        long freed = shrinkers.shrinkSlab(Gfp.KERNEL, 0, 2);
        assertThat(freed).isEqualTo(4096);
        assertThat(cache.objects).isZero();
        s.free();
    }

    @Test
    void seeksZeroTrimsHalf() {
        FakeCache cache = new FakeCache(1000);
        Shrinker s = shrinkers.alloc("cheap", 0, 0, 100, cache).register();
        shrinkers.doShrinkSlab(ShrinkControl.of(Gfp.KERNEL, 0), s, 12);
        assertThat(cache.scans.stream().mapToLong(Long::longValue).sum()).isEqualTo(500);
        s.free();
    }

    @Test
    void emptyCountSkipsTheShrinker() {
        FakeCache cache = new FakeCache(0);
        Shrinker s = shrinkers.register("empty", cache);
        assertThat(shrinkers.shrinkSlab(Gfp.KERNEL, 0, 0)).isZero();
        assertThat(cache.masks).isEmpty();
        assertThat(s.nrDeferred(0)).isZero();
        s.free();
    }

    @Test
    void numaAwareShrinkerDefersPerNodeAndUnawareSeesNodeZero() {
        List<Integer> seenAware = new ArrayList<>();
        List<Integer> seenUnaware = new ArrayList<>();
        ShrinkerCallbacks stop = new ShrinkerCallbacks() {
            @Override public long countObjects(ShrinkControl sc) { seenAware.add(sc.nid()); return 1000; }
            @Override public long scanObjects(ShrinkControl sc) { return Shrinker.SHRINK_STOP; }
        };
        ShrinkerCallbacks unaware = new ShrinkerCallbacks() {
            @Override public long countObjects(ShrinkControl sc) { seenUnaware.add(sc.nid()); return 0; }
            @Override public long scanObjects(ShrinkControl sc) { return 0; }
        };
        Shrinker a = shrinkers.alloc("aware", Shrinker.NUMA_AWARE, 2, 0, stop).register();
        Shrinker u = shrinkers.alloc("unaware", 0, 2, 0, unaware).register();
        shrinkers.shrinkSlab(Gfp.KERNEL, 1, 0);
        assertThat(seenAware).containsExactly(1);
        assertThat(seenUnaware).containsExactly(0);
        assertThat(a.nrDeferred(1)).isEqualTo(2000);
        assertThat(a.nrDeferred(0)).isZero();
        a.free();
        u.free();
    }

    @Test
    void dropSlabEmptiesEveryCache() {
        FakeCache c1 = new FakeCache(10_000);
        FakeCache c2 = new FakeCache(300);
        Shrinker s1 = shrinkers.register("c1", c1);
        Shrinker s2 = shrinkers.register("c2", c2);
        long freed = shrinkers.dropSlab();
        assertThat(c1.objects).isZero();
        assertThat(c2.objects).isZero();
        assertThat(freed).isEqualTo(10_300);
        s1.free();
        s2.free();
    }

    @Test
    void freeWaitsForARunningCallback() throws Exception {
        CountDownLatch inScan = new CountDownLatch(1);
        CountDownLatch letGo = new CountDownLatch(1);
        ShrinkerCallbacks slow = new ShrinkerCallbacks() {
            @Override public long countObjects(ShrinkControl sc) { return 1000; }
            @Override public long scanObjects(ShrinkControl sc) {
                inScan.countDown();
                try {
                    letGo.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return Shrinker.SHRINK_STOP;
            }
        };
        Shrinker s = shrinkers.register("slow", slow);
        Thread reclaimer = Thread.ofPlatform().start(() -> shrinkers.shrinkSlab(Gfp.KERNEL, 0, 0));
        assertThat(inScan.await(10, TimeUnit.SECONDS)).isTrue();
        CountDownLatch freed = new CountDownLatch(1);
        Thread freer = Thread.ofPlatform().start(() -> {
            s.free();
            freed.countDown();
        });
        assertThat(freed.await(200, TimeUnit.MILLISECONDS)).as("free returned while scan_objects ran").isFalse();
        assertThat(s.isRegistered()).isFalse();
        letGo.countDown();
        assertThat(freed.await(10, TimeUnit.SECONDS)).isTrue();
        reclaimer.join(10_000);
        freer.join(10_000);
        assertThat(shrinkers.registered()).isEmpty();
    }

    @Test
    void freeFromOwnCallbackIsRefused() {
        Shrinker[] self = new Shrinker[1];
        List<Throwable> errors = new ArrayList<>();
        self[0] = shrinkers.register("selfish", new ShrinkerCallbacks() {
            @Override public long countObjects(ShrinkControl sc) { return 1000; }
            @Override public long scanObjects(ShrinkControl sc) {
                try {
                    self[0].free();
                } catch (ShrinkerException e) {
                    errors.add(e);
                }
                return Shrinker.SHRINK_STOP;
            }
        });
        shrinkers.shrinkSlab(Gfp.KERNEL, 0, 0);
        assertThat(errors).singleElement().extracting(Throwable::getMessage).asString()
                .contains("own callback");
        self[0].free();
    }

    @Test
    void lifeCycleMisuseIsNamed() {
        Shrinker s = shrinkers.register("twice", new FakeCache(1));
        assertThatThrownBy(s::register).isInstanceOf(ShrinkerException.class)
                .hasMessageContaining("expected state allocated, found registered");
        s.free();
        assertThatThrownBy(s::free).isInstanceOf(ShrinkerException.class)
                .hasMessageContaining("found freed");
        assertThatThrownBy(() -> shrinkers.alloc("bad", 0x1, 2, 0, new FakeCache(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown flags 0x1");
    }

    @Test
    void throwingCallbackIsContainedCountedAndReported() {
        Shrinker bad = shrinkers.register("bad", new ShrinkerCallbacks() {
            @Override public long countObjects(ShrinkControl sc) { return 500; }
            @Override public long scanObjects(ShrinkControl sc) { throw new IllegalStateException("boom"); }
        });
        FakeCache good = new FakeCache(500);
        Shrinker ok = shrinkers.register("good", good);
        long freed = shrinkers.shrinkSlab(Gfp.KERNEL, 0, 0);
        assertThat(freed).isEqualTo(500);
        assertThat(shrinkers.callbackErrors()).isEqualTo(1);
        assertThat(log.dmesg()).contains("WARNING: shrinker bad: scan_objects threw java.lang.IllegalStateException: boom");
        log.setPanicOnWarn(true);
        assertThatThrownBy(() -> shrinkers.shrinkSlab(Gfp.KERNEL, 0, 0)).isInstanceOf(KernelPanicException.class);
        bad.free();
        ok.free();
    }

    @Test
    void traceLinesHaveTheKernelShape() {
        List<String> lines = new ArrayList<>();
        shrinkers.setTrace(lines::add);
        Shrinker s = shrinkers.alloc("sb-test", 0, 2, 1024, new FakeCache(100_000)).register();
        shrinkers.shrinkSlab(Gfp.KERNEL, 0, 12);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).matches("mm_shrink_slab_start: sb-test [0-9a-f]{16}: nid: 0 objects to shrink 0"
                + " gfp_flags GFP_KERNEL cache items 100000 delta 48 total_scan 48 priority 12");
        assertThat(lines.get(1)).matches("mm_shrink_slab_end: sb-test [0-9a-f]{16}: nid: 0 unused scan count 0"
                + " new scan count 48 total_scan 48 last shrinker return val 0");
        s.free();
    }
}
