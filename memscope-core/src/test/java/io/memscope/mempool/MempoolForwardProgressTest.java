package io.memscope.mempool;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.page.PageHandle;
import io.memscope.sched.Task;
import io.memscope.slab.KmemCache;
import io.memscope.slab.Slab;
import io.memscope.testkit.Machines;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mempools over the real allocators (seeds/004, mm/mempool.c): the ready-made slab, kmalloc and
 * page pools, the forward-progress guarantee at the OOM edge, and the D2 sweep over pool creation.
 */
class MempoolForwardProgressTest {
    /** Pins pages down to the min watermark: no reclaim, no reserves, no failure report. */
    private static final int GFP_PIN = (Gfp.KERNEL & ~Gfp.RECLAIM) | Gfp.NOWARN;

    @RegisterExtension
    final Machines machines = new Machines();

    /**
     * A writeback path allocates its per-I/O structure from a mempool with {@code GFP_NOIO}, writes a
     * real file page and frees the structure. Every page is pinned and the cache is exhausted, so
     * the page allocator and the slab fail every other request — yet all 600 writes complete with 4
     * reserved elements, because each element comes back when its I/O completes.
     */
    @Test
    void writebackThroughAMempoolCompletesAtTheOomEdge(@TempDir Path dir) throws Exception {
        MemoryManager mm = machines.create(b -> b.debug(false).cpuSlots(2).memoryBytes(32L << 20).panicOnWarn(false));
        Slab slab = mm.slab();
        KmemCache bio = slab.createCache("bio", 256);
        LongMempool pool = Mempools.slabPool(MempoolConfig.defaults(mm.log(), "bio_pool").withWait(Duration.ofMillis(20)),
                4, bio);
        List<Long> pinnedObjects = new ArrayList<>();
        long o;
        while ((o = bio.alloc(GFP_PIN)) != KmemCache.NULL) {
            pinnedObjects.add(o);
        }
        List<Long> pinnedPages = new ArrayList<>();
        long h;
        while ((h = mm.allocPages(GFP_PIN, 0)) != PageHandle.NULL) {
            pinnedPages.add(h);
        }
        assertThat(slab.kmalloc(256, Gfp.NOIO | Gfp.NORETRY | Gfp.NOWARN)).as("the allocator fails everything else").isZero();
        assertThat(bio.alloc(Gfp.NOIO | Gfp.NORETRY | Gfp.NOWARN)).isZero();
        long objectsBefore = bio.activeObjects();

        AtomicLong completed = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 6; w++) {
            Path file = dir.resolve("dev" + w);
            writers.add(Thread.ofPlatform().name("kworker/u4:" + w).start(() -> {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                    ByteBuffer page = ByteBuffer.allocateDirect(4096);
                    for (int i = 0; i < 100; i++) {
                        long element = pool.mempoolAlloc(Gfp.NOIO);
                        if (element == LongMempool.NULL) {
                            throw new AssertionError("a sleeping mempool_alloc returned NULL");
                        }
                        page.clear();
                        page.putLong(0, element).putInt(8, i);
                        ch.write(page, (long) i * 4096); // the I/O the element stands for
                        pool.mempoolFree(element); // bio completion
                        completed.incrementAndGet();
                    }
                    ch.force(false);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread t : writers) {
            t.join(Duration.ofSeconds(60));
            assertThat(t.isAlive()).as("%s made no progress in 60 s", t.getName()).isFalse();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        assertThat(completed.get()).isEqualTo(600);
        assertThat(Files.size(dir.resolve("dev0"))).isEqualTo(100 * 4096L);
        assertThat(pool.currNr()).isEqualTo(4);
        assertThat(bio.activeObjects()).as("no element came from the exhausted allocator").isEqualTo(objectsBefore);

        pinnedPages.forEach(mm::freePages);
        pinnedObjects.forEach(bio::free);
        pool.destroy();
        bio.destroy();
    }

    @Test
    void kmallocAndPagePoolsHandOutRealElements() {
        MemoryManager mm = machines.create(b -> b.debug(false));
        MempoolConfig cfg = MempoolConfig.defaults(mm.log(), "pools");
        LongMempool kp = Mempools.kmallocPool(cfg, 3, mm.slab(), 100);
        long e = kp.mempoolAlloc(Gfp.KERNEL);
        assertThat(mm.slab().ksize(e)).isEqualTo(128);
        kp.mempoolFree(e);
        kp.destroy();
        LongMempool pp = Mempools.pagePool(cfg, 2, mm.pages(), 2);
        long page = pp.mempoolAlloc(Gfp.KERNEL);
        assertThat(PageHandle.order(page)).isEqualTo(2);
        pp.mempoolFree(page);
        pp.destroy();
        assertThat(mm.slab().kmallocCache(100, Gfp.KERNEL).activeObjects()).isZero();
    }

    /** D2: mempool_create with the 1st, 2nd, ... internal allocation failed: a clean null or a pool; books balance. */
    @Test
    void failNthSweepOverMempoolCreate() {
        MemoryManager mm = machines.create(b -> b.debug(false)
                .failPageAlloc(Machines.seed(), f -> f.setIgnoreGfpWait(false).setMinOrder(0))
                .failslab(Machines.seed(), f -> f.setIgnoreGfpWait(false)));
        MempoolConfig cfg = MempoolConfig.defaults(mm.log(), "sweep");
        Task task = Task.current();
        int nulls = 0;
        for (int n = 1; ; n++) {
            task.setFailNth(n);
            LongMempool p = Mempools.kmallocPool(cfg, 4, mm.slab(), 512);
            boolean reached = task.failNth() == 0;
            task.setFailNth(0);
            if (p == null) {
                nulls++;
            } else {
                p.destroy();
            }
            assertThat(mm.slab().kmallocCache(512, Gfp.KERNEL).activeObjects()).as("fail-nth %d leaked", n).isZero();
            assertThat(mm.validate()).as("fail-nth %d", n).isZero();
            if (!reached) {
                assertThat(p).as("succeeds once no check is failed").isNotNull();
                break;
            }
            assertThat(n).isLessThan(40);
        }
        // Some steps fail the whole create; others are absorbed (a failed higher-order slab falls back to min order).
        assertThat(nulls).as("failed preallocations fail the create").isPositive();
    }
}
