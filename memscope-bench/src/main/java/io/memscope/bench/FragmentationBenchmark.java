package io.memscope.bench;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.page.PageHandle;
import io.memscope.page.Zone;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Issue 3's fragmentation run: random orders 0..10 allocated with a mix of migratetypes and freed
 * in random order, on a 256 MiB machine held at about 70 % full, with the largest free buddy
 * order watched over time.
 *
 * <p>Two ways to run it:
 * <ul>
 *   <li>As a JMH benchmark ({@code ./memscope bench FragmentationBenchmark}): the time of one
 *       random step (an allocation or a free), with {@code @AuxCounters} reporting, per iteration,
 *       the largest free order seen at the end ({@code largestFreeOrder}), the failed allocations
 *       and the allocations of order ≥ 9 that succeeded. JMH prints each iteration's values on its
 *       iteration line; its summary adds them up over the iterations (an "events" counter), so
 *       divide the summary's {@code largestFreeOrder} by the iteration count.</li>
 *   <li>As a time series ({@code java -cp memscope-bench/target/benchmarks.jar
 *       io.memscope.bench.FragmentationBenchmark [steps] [seed]}): prints, every 1/40 of the run,
 *       the step, the share of memory in use, the largest free order, the free blocks per order
 *       (buddyinfo of all zones summed) and the failures so far.</li>
 * </ul>
 * The workload is the classic anti-fragmentation stress: unmovable, reclaimable and movable
 * requests (1 : 1 : 2); order {@code k} with probability {@code 2^-(k+1)} (order 10 takes the
 * tail), so small blocks are the most frequent while every order holds about the same share of the
 * pages in use; allocate with probability 0.55 below the fill target and 0.45 above it.
 * Allocations use {@code __GFP_NORETRY | __GFP_NOWARN} so a failure is counted, not retried.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class FragmentationBenchmark {
    static final long MEMORY = 256L << 20;
    private static final int[] MASKS = {Gfp.KERNEL, Gfp.KERNEL | Gfp.RECLAIMABLE, Gfp.HIGHUSER_MOVABLE,
        Gfp.HIGHUSER_MOVABLE};

    /** The workload: a machine, the blocks it holds, and its random source. */
    static final class Workload implements AutoCloseable {
        final MemoryManager mm;
        final SplittableRandom random;
        final long[] held;
        int nHeld;
        long heldPages;
        final long targetPages;
        long failures;
        long bigAllocs;

        Workload(long seed) {
            mm = MemoryManager.builder().memoryBytes(MEMORY).debug(false).lockdep(false).panicOnWarn(false).build();
            random = new SplittableRandom(seed);
            held = new long[1 << 16];
            targetPages = mm.pages().totalPages() * 7 / 10;
        }

        /** One step: an allocation or a free. */
        long step() {
            boolean alloc = nHeld == 0 || (nHeld < held.length
                    && random.nextInt(100) < (heldPages < targetPages ? 55 : 45));
            if (alloc) {
                int order = Math.min(Gfp.MAX_PAGE_ORDER, Long.numberOfTrailingZeros(random.nextLong()));
                long h = mm.allocPages(MASKS[random.nextInt(MASKS.length)] | Gfp.NORETRY | Gfp.NOWARN, order);
                if (h == PageHandle.NULL) {
                    failures++;
                    return 0;
                }
                if (order >= Zone.PAGEBLOCK_ORDER) {
                    bigAllocs++;
                }
                held[nHeld++] = h;
                heldPages += 1L << order;
                return h;
            }
            int i = random.nextInt(nHeld);
            long h = held[i];
            held[i] = held[--nHeld];
            heldPages -= 1L << PageHandle.order(h);
            mm.freePages(h);
            return h;
        }

        /** The largest order with a free buddy block in any zone, or -1. */
        int largestFreeOrder() {
            int best = -1;
            for (Zone z : mm.pages().zones()) {
                for (int o = Gfp.MAX_PAGE_ORDER; o > best; o--) {
                    if (z.hasFreeBlock(o, true)) {
                        best = o;
                        break;
                    }
                }
            }
            return best;
        }

        @Override
        public void close() {
            for (int i = 0; i < nHeld; i++) {
                mm.freePages(held[i]);
            }
            nHeld = 0;
            mm.close();
        }
    }

    /**
     * The benchmark's state: the workload, and the per-iteration figures JMH reports next to the
     * time per step (the public fields).
     */
    @AuxCounters(AuxCounters.Type.EVENTS)
    @State(Scope.Thread)
    public static class Run {
        /** Largest free order at the end of the iteration. */
        public long largestFreeOrder;
        /** Allocations that failed during the iteration. */
        public long failures;
        /** Allocations of order 9 or 10 that succeeded during the iteration. */
        public long bigAllocs;
        private Workload w;

        @Setup(Level.Trial)
        public void setup() {
            w = new Workload(42);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            w.close();
        }

        @Setup(Level.Iteration)
        public void resetCounts() {
            w.failures = 0;
            w.bigAllocs = 0;
        }

        @TearDown(Level.Iteration)
        public void report() {
            largestFreeOrder = w.largestFreeOrder();
            failures = w.failures;
            bigAllocs = w.bigAllocs;
        }
    }

    @Benchmark
    public long randomStep(Run r) {
        return r.w.step();
    }

    /** The time series: {@code [steps (default 2 000 000)] [seed (default 42)]}. */
    public static void main(String[] args) {
        long steps = args.length > 0 ? Long.parseLong(args[0]) : 2_000_000L;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 42L;
        long every = Math.max(1, steps / 40);
        try (Workload w = new Workload(seed)) {
            long total = w.mm.pages().totalPages();
            System.out.printf("# %d MiB, %d pages, seed %d; free blocks per order 0..10 summed over zones%n",
                    MEMORY >> 20, total, seed);
            System.out.println("step\tin_use%\tlargest_free_order\tfailures\tfree_blocks_by_order");
            long t0 = System.nanoTime();
            for (long s = 1; s <= steps; s++) {
                w.step();
                if (s % every == 0) {
                    System.out.printf("%d\t%.1f\t%d\t%d\t%s%n", s, 100.0 * w.heldPages / total, w.largestFreeOrder(),
                            w.failures, buddyTotals(w.mm.buddyinfo()));
                }
            }
            System.out.printf("# %.1f ns per step%n", (System.nanoTime() - t0) / (double) steps);
        }
    }

    /** Sums the per-order columns of every zone's buddyinfo line. */
    static String buddyTotals(String buddyinfo) {
        long[] sum = new long[Gfp.MAX_PAGE_ORDER + 1];
        for (String line : buddyinfo.split("\n")) {
            String[] f = line.trim().split("\\s+");
            for (int o = 0; o <= Gfp.MAX_PAGE_ORDER && f.length > o + 4; o++) {
                sum[o] += Long.parseLong(f[o + 4]);
            }
        }
        StringBuilder sb = new StringBuilder();
        for (long n : sum) {
            sb.append(sb.isEmpty() ? "" : " ").append(n);
        }
        return sb.toString();
    }
}
