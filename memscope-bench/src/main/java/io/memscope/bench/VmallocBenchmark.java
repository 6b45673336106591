package io.memscope.bench;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.vmalloc.VmArea;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
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
 * Issue 6's large-buffer figures: {@code vmalloc(1 MiB)} + {@code vfree} (256 order-0 pages, their
 * page-table page and metadata, one contiguous memfd mapping) against
 * {@code Arena.ofShared().allocate(1 MiB)} + close, and {@code kvmalloc(64 KiB)} + {@code kvfree}
 * (served by kmalloc's large path) in the same run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class VmallocBenchmark {
    private MemoryManager mm;

    @Setup(Level.Trial)
    public void setup() {
        mm = MemoryManager.builder().memoryBytes(256L << 20).debug(false).lockdep(false).panicOnWarn(false).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        mm.close();
    }

    @Benchmark
    public long vmalloc1MiB() {
        VmArea a = mm.vmalloc().vmalloc(1 << 20);
        long addr = a.address();
        mm.vmalloc().vfree(a);
        return addr;
    }

    @Benchmark
    public long arenaShared1MiB() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment s = arena.allocate(1 << 20);
            return s.address();
        }
    }

    @Benchmark
    public long kvmalloc64KiB() {
        long p = mm.vmalloc().kvmalloc(64 << 10, Gfp.KERNEL);
        mm.vmalloc().kvfree(p);
        return p;
    }
}
