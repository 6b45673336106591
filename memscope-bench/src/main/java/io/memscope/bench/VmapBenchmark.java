package io.memscope.bench;

import io.memscope.page.MemfdRegion;
import io.memscope.page.VmapView;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The cost of giving a user 1 MiB of virtually contiguous memory:
 * <ul>
 *   <li>{@code vmapScattered}: {@link MemfdRegion#vmap} + {@code vunmap} of 256 frames in random
 *       order (256 runs: one reserve mmap, 256 MAP_FIXED mmaps, one munmap, a shared-arena close);</li>
 *   <li>{@code vmapRuns16}: the same 256 frames as 16 runs of 16 (17 mmaps);</li>
 *   <li>{@code vmapScatteredTouch}: {@code vmapScattered} plus one write per page, so the 256
 *       page faults that populate the new page-table entries are counted too;</li>
 *   <li>{@code scatterArena}: the ARENA fallback's scatter view of the same 256 frames;</li>
 *   <li>peers: {@code Arena.ofShared().allocate(1 MiB)} + close and {@code Arena.ofConfined()}
 *       (these zero the 1 MiB on allocation; vmap maps frames that are already allocated).</li>
 * </ul>
 * The frames come from a 64 MiB region; allocating them is the page allocator's cost, not measured here.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class VmapBenchmark {
    static final long MIB = 1L << 20;
    static final int PAGES = 256;

    private MemfdRegion memfd;
    private MemfdRegion arena;
    private int[] scattered;
    private int[] runs16;

    @Setup(Level.Trial)
    public void setUp() {
        memfd = MemfdRegion.create(64 * MIB, "memscope-bench", MemfdRegion.Selection.MEMFD);
        arena = MemfdRegion.create(64 * MIB, "memscope-bench-arena", MemfdRegion.Selection.ARENA);
        Random rnd = new Random(20261122L);
        int[] all = new int[memfd.nrPages()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        for (int i = all.length - 1; i > 0; i--) { // Fisher-Yates
            int j = rnd.nextInt(i + 1);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        scattered = new int[PAGES];
        for (int i = 0; i < PAGES; i++) {
            // every other frame of the shuffle, kept away from its neighbours so no two are adjacent
            scattered[i] = (all[i] / 2) * 2;
        }
        runs16 = new int[PAGES];
        for (int r = 0; r < 16; r++) {
            int start = (all[r] / 32) * 32;
            for (int k = 0; k < 16; k++) {
                runs16[r * 16 + k] = start + k;
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        memfd.close();
        arena.close();
    }

    @Benchmark
    public long vmapScattered() {
        VmapView v = memfd.vmap(scattered);
        long size = v.byteSize();
        v.vunmap();
        return size;
    }

    @Benchmark
    public long vmapRuns16() {
        VmapView v = memfd.vmap(runs16);
        long size = v.byteSize();
        v.vunmap();
        return size;
    }

    @Benchmark
    public long vmapScatteredTouch() {
        VmapView v = memfd.vmap(scattered);
        MemorySegment s = v.contiguous().orElseThrow();
        long sum = 0;
        for (long off = 0; off < s.byteSize(); off += MemfdRegion.PAGE_SIZE) {
            s.set(ValueLayout.JAVA_LONG, off, off);
            sum += off;
        }
        v.vunmap();
        return sum;
    }

    @Benchmark
    public long scatterArena() {
        VmapView v = arena.vmap(scattered);
        long size = v.byteSize();
        v.vunmap();
        return size;
    }

    @Benchmark
    public long arenaShared() {
        try (Arena a = Arena.ofShared()) {
            return a.allocate(MIB).address();
        }
    }

    @Benchmark
    public long arenaConfined() {
        try (Arena a = Arena.ofConfined()) {
            return a.allocate(MIB).address();
        }
    }
}
