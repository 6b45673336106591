package io.memscope.bench;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.page.PageHandle;
import io.memscope.page.PageTable;
import io.memscope.page.PageTableDescriptor;
import io.memscope.page.PageWaitTable;
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

    /**
     * A page-cache double: one mapped bit per pfn (no object per page), clean pages only. A set bit
     * owns the page cache's reference. The bit is cleared only under the page lock (by truncation,
     * or by reclaim, which holds the page locked when it calls {@link #removeMapping}), so a holder
     * of the page lock that sees the bit set knows that reference is still there — the guarantee
     * the kernel's {@code folio->mapping} check under {@code folio_lock} gives {@code __remove_mapping}.
     */
    static final class Mapping implements FileOwner {
        final MemoryManager mm;
        final PageTable pt;
        final PageWaitTable waits;
        final AtomicIntegerArray mapped;

        Mapping(MemoryManager mm) {
            this.mm = mm;
            this.pt = mm.pages().pageTable();
            this.waits = mm.pageWaitTable();
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
         * Truncates the page at {@code pfn} if it is in the mapping, as {@code truncate_inode_pages}
         * does. {@code pfn} may be stale (reclaim freed that page and the allocator handed the frame
         * out again), so, like {@code find_lock_entries}, only a frame whose bit is set is touched:
         * a reference of our own ({@code folio_try_get}; a count of 0 means reclaim has the page
         * frozen right now — wait until it finishes or gives the page back), then the page lock and
         * a re-check of the bit before the page leaves the mapping ({@code truncate_inode_folio}),
         * and our reference is dropped only after the unlock ({@code folio_batch_release}).
         *
         * <p>The page lock is what keeps reclaim's refcount freeze off our reference. Without it,
         * reclaim could read the bit as set, we clear it and drop the cache's reference, and reclaim
         * then freezes the count 2 → 0 — its isolation reference plus <em>ours</em>, not the
         * cache's — so our last put met a frozen count ("folio_put: ... found refcount 0").
         */
        void truncate(int pfn) {
            while (true) {
                if (mapped.get(pfn) == 0) {
                    return; // not in the mapping (reclaim took it, or a stale pfn)
                }
                if (pt.refcountTryGet(pfn)) {
                    break;
                }
                Thread.onSpinWait();
            }
            waits.lockPage(pfn);
            try {
                if (mapped.compareAndSet(pfn, 1, 0)) { // still ours, now that we hold the page lock
                    mm.lru(0).remove(pfn);
                    mm.lru(0).put(pfn); // the page cache's reference; ours keeps the page alive
                }
            } finally {
                waits.unlockPage(pfn);
            }
            mm.lru(0).put(pfn); // ours; frees the page unless reclaim has it isolated
        }

        void truncateAll() {
            for (int pfn = 0; pfn < mapped.length(); pfn++) {
                if (mapped.get(pfn) != 0) {
                    truncate(pfn);
                }
            }
        }

        /**
         * {@code __remove_mapping}: reclaim holds the page lock, so the bit cannot be cleared under
         * us and, when set, the page cache's reference is there; the freeze from 2 (cache +
         * isolation) then fails whenever anyone else — a truncation waiting for the lock — holds
         * a reference.
         */
        @Override
        public boolean removeMapping(int pfn) {
            if (mapped.get(pfn) == 0 || !pt.refcountFreeze(pfn, 2)) {
                return false;
            }
            if (pt.testPageFlag(pfn, PageTableDescriptor.FLAG_DIRTY)) {
                pt.refcountUnfreeze(pfn, 2);
                return false;
            }
            mapped.set(pfn, 0);
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
