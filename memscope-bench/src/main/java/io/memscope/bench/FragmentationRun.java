package io.memscope.bench;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.page.PageHandle;
import io.memscope.page.Zone;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Issue 3's fragmentation run: random orders (0..10, small orders far more likely, as in real
 * workloads), random frees, memory kept between 50 % and 90 % in use, for a number of operations;
 * every {@code step} operations it prints the free pages and the largest order with a free block
 * in the Normal zone — how well the buddy allocator (with migratetype grouping and the per-CPU
 * lists) keeps large blocks available over time.
 *
 * <p>Run: {@code java -cp memscope-bench/target/benchmarks.jar io.memscope.bench.FragmentationRun [ops] [seed]}.
 */
public final class FragmentationRun {
    private FragmentationRun() {}

    public static void main(String[] args) {
        long ops = args.length > 0 ? Long.parseLong(args[0]) : 2_000_000L;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 20261123L;
        long step = ops / 20;
        try (MemoryManager mm = MemoryManager.builder().memoryBytes(256L << 20).cpuSlots(2).debug(false).lockdep(false)
                .panicOnWarn(false).build()) {
            SplittableRandom rnd = new SplittableRandom(seed);
            List<Long> held = new ArrayList<>();
            long heldPages = 0;
            long total = mm.pages().totalPages();
            Zone normal = null;
            for (Zone z : mm.pages().zones()) {
                if (z.name().equals("Normal")) {
                    normal = z;
                }
            }
            System.out.printf("%12s %10s %8s %18s%n", "ops", "free", "used%", "largest free order");
            long failures = 0;
            for (long i = 1; i <= ops; i++) {
                double used = (double) heldPages / total;
                boolean alloc = used < 0.5 || (used < 0.9 && rnd.nextInt(100) < 52);
                if (alloc) {
                    int r = rnd.nextInt(1000);
                    int order = r < 700 ? 0 : r < 850 ? 1 : r < 930 ? 2 : r < 970 ? 3 : r < 990 ? 4 + rnd.nextInt(3)
                            : 7 + rnd.nextInt(4);
                    long h = mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, order);
                    if (h == PageHandle.NULL) {
                        failures++;
                    } else {
                        held.add(h);
                        heldPages += 1L << order;
                    }
                } else if (!held.isEmpty()) {
                    int k = rnd.nextInt(held.size());
                    long h = held.get(k);
                    held.set(k, held.get(held.size() - 1));
                    held.remove(held.size() - 1);
                    heldPages -= 1L << PageHandle.order(h);
                    mm.freePages(h);
                }
                if (i % step == 0) {
                    int largest = -1;
                    for (int o = Gfp.MAX_PAGE_ORDER; o >= 0; o--) {
                        if (normal != null && normal.hasFreeBlock(o, false)) {
                            largest = o;
                            break;
                        }
                    }
                    long free = 0;
                    for (Zone z : mm.pages().zones()) {
                        free += z.freePages();
                    }
                    System.out.printf("%12d %10d %7.1f%% %18d%n", i, free, 100.0 * heldPages / total, largest);
                }
            }
            System.out.printf("allocation failures (NORETRY): %d%n", failures);
            held.forEach(mm::freePages);
        }
    }
}
