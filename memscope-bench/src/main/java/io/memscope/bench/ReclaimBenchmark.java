package io.memscope.bench;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.page.PageHandle;
import io.memscope.page.PageTable;
import io.memscope.page.PageTableDescriptor;
import io.memscope.reclaim.FileOwner;
import io.memscope.reclaim.ShrinkControl;
import io.memscope.reclaim.Shrinker;
import io.memscope.reclaim.ShrinkerCallbacks;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Reclaim cost (mm/vmscan.c as memscope implements it), lockdep off:
 * <ul>
 *   <li>{@code reclaimCleanPageCache}: pages/s that direct reclaim ({@code try_to_free_pages} with
 *       GFP_KERNEL, called until the LRU is empty) frees from clean page-cache pages;</li>
 *   <li>{@code reclaimShrinkerObjects}: pages/s freed through a shrinker whose objects are pages;</li>
 *   <li>{@code allocPageCachePage} (SampleTime): latency of inserting one page-cache page while
 *       {@code inUsePercent} of memory is page cache — at 90% and 99% the allocator wakes kswapd
 *       and reclaims directly; p50/p99/p99.9 come from JMH's sample percentiles.</li>
 * </ul>
 */
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class ReclaimBenchmark {
    static final int BATCH = 4096;

    /** A page-cache double: one mapped bit per pfn (no object per page), clean pages only. */
    static final class Mapping implements FileOwner {
        final MemoryManager mm;
        final PageTable pt;
        final AtomicIntegerArray mapped;

        Mapping(MemoryManager mm) {
            this.mm = mm;
            this.pt = mm.pages().pageTable();
            this.mapped = new AtomicIntegerArray(mm.pages().totalPages());
            mm.setFileOwner(this);
        }

        int add(int gfp) {
            long h = mm.allocPages(gfp, 0);
            if (h == PageHandle.NULL) {
                return -1;
            }
            int pfn = PageHandle.pfn(h);
            mapped.set(pfn, 1);
            mm.lru(0).add(pfn);
            return pfn;
        }

        /**
         * Truncates {@code pfn} if reclaim has not taken it already, as {@code truncate_inode_pages}
         * does: first a reference of our own ({@code find_lock_entries}' {@code folio_try_get}), so
         * that reclaim's refcount freeze in {@link #removeMapping} cannot succeed while we work and
         * our puts never meet a frozen count; a count of 0 means reclaim has it frozen right now, so
         * wait for it to finish or give the page back.
         */
        void truncate(int pfn) {
            while (!pt.refcountTryGet(pfn)) {
                if (mapped.get(pfn) == 0) {
                    return; // reclaim took it
                }
                Thread.onSpinWait();
            }
            if (mapped.compareAndSet(pfn, 1, 0)) {
                mm.lru(0).remove(pfn);
                mm.lru(0).put(pfn); // the page cache's reference
            }
            mm.lru(0).put(pfn); // ours
        }

        void truncateAll() {
            for (int pfn = 0; pfn < mapped.length(); pfn++) {
                truncate(pfn);
            }
        }

        @Override
        public boolean removeMapping(int pfn) {
            if (mapped.get(pfn) == 0 || !pt.refcountFreeze(pfn, 2)) {
                return false;
            }
            if (!mapped.compareAndSet(pfn, 1, 0) || pt.testPageFlag(pfn, PageTableDescriptor.FLAG_DIRTY)) {
                pt.refcountUnfreeze(pfn, 2);
                return false;
            }
            return true;
        }

        @Override
        public void wakeupFlusherThreads(int nid) {}

        @Override
        public PageoutResult writePage(int pfn) {
            return PageoutResult.KEEP;
        }
    }

    static MemoryManager machine() {
        return MemoryManager.builder().memoryBytes(256L << 20).lockdep(false).build();
    }

    @State(Scope.Thread)
    public static class PageCache {
        MemoryManager mm;
        Mapping mapping;

        @Setup(Level.Trial)
        public void boot() {
            mm = machine();
            mapping = new Mapping(mm);
        }

        @Setup(Level.Invocation)
        public void fill() {
            for (int i = 0; i < BATCH; i++) {
                mapping.add(Gfp.KERNEL);
            }
        }

        @TearDown(Level.Trial)
        public void shutdown() {
            mapping.truncateAll();
            mm.close();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    public long reclaimCleanPageCache(PageCache s) {
        long total = 0;
        while (s.mm.lru(0).nrInactiveFile() + s.mm.lru(0).nrActiveFile() > 0) {
            total += s.mm.reclaim().directReclaimer().tryToFreePages(s.mm.pages(), Gfp.KERNEL, 0, -1L);
        }
        return total;
    }

    @State(Scope.Thread)
    public static class SlabCache {
        MemoryManager mm;
        long[] objects = new long[BATCH];
        int n;

        @Setup(Level.Trial)
        public void boot() {
            mm = machine();
            mm.shrinkers().register("bench-cache", new ShrinkerCallbacks() {
                @Override
                public long countObjects(ShrinkControl sc) {
                    return n == 0 ? Shrinker.SHRINK_EMPTY : n;
                }

                @Override
                public long scanObjects(ShrinkControl sc) {
                    long k = Math.min(sc.nrToScan(), n);
                    for (long i = 0; i < k; i++) {
                        mm.freePages(objects[--n]);
                    }
                    sc.addReclaimedPages(k);
                    return k;
                }
            });
        }

        @Setup(Level.Invocation)
        public void fill() {
            while (n < BATCH) {
                objects[n++] = mm.allocPages(Gfp.KERNEL, 0);
            }
        }

        @TearDown(Level.Trial)
        public void shutdown() {
            while (n > 0) {
                mm.freePages(objects[--n]);
            }
            mm.close();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    public long reclaimShrinkerObjects(SlabCache s) {
        long total = 0;
        while (s.n > 0) {
            total += s.mm.reclaim().directReclaimer().tryToFreePages(s.mm.pages(), Gfp.KERNEL, 0, -1L);
        }
        return total;
    }

    @State(Scope.Thread)
    public static class Pressure {
        @Param({"50", "90", "99"})
        int inUsePercent;
        MemoryManager mm;
        Mapping mapping;
        int[] ring;
        int head;
        int size;

        @Setup(Level.Trial)
        public void boot() {
            mm = machine();
            mapping = new Mapping(mm);
            int target = (int) ((long) mm.pages().totalPages() * inUsePercent / 100);
            ring = new int[target];
            for (int i = 0; i < target; i++) {
                push(mapping.add(Gfp.KERNEL));
            }
        }

        void push(int pfn) {
            if (pfn < 0) {
                return;
            }
            if (size == ring.length) {
                mapping.truncate(ring[head]); // keep the page cache at its target size
                ring[head] = pfn;
                head = (head + 1) % ring.length;
            } else {
                ring[(head + size++) % ring.length] = pfn;
            }
        }

        @TearDown(Level.Trial)
        public void shutdown() {
            mapping.truncateAll();
            mm.close();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void allocPageCachePage(Pressure s) {
        s.push(s.mapping.add(Gfp.KERNEL));
    }
}
