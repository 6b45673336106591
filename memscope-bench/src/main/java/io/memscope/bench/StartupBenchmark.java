package io.memscope.bench;

import io.memscope.MemoryManager;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Issue 3's start-up figure: building a machine (memfd region, 32-byte page table, zones,
 * watermarks, per-CPU lists, slab and vmalloc, kswapd) and closing it, for 1 GiB and 8 GiB.
 * Single-shot: each measurement is one cold build, as an application starts once. The memfd is
 * committed lazily, so the cost is the page table (8 GiB: 2 Mi pages, 64 MiB of metadata).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
public class StartupBenchmark {
    @Param({"1", "8"})
    public int gib;

    @Benchmark
    public long buildAndClose() {
        try (MemoryManager mm = MemoryManager.builder().memoryBytes((long) gib << 30).debug(false).lockdep(false)
                .panicOnWarn(false).build()) {
            return mm.pages().totalPages();
        }
    }
}
