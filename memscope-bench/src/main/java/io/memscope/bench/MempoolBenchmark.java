package io.memscope.bench;

import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.mempool.LongMempool;
import io.memscope.mempool.MempoolConfig;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * {@code mempoolAlloc} + {@code mempoolFree} of {@link LongMempool} in its two regimes:
 * <ul>
 *   <li>{@code allocator}: the backing allocator succeeds, the reserve stays full, so each
 *       pair is one allocator call, one lockless "reserve is full" check and one free call;</li>
 *   <li>{@code reserve}: the backing allocator always fails (memory exhausted), so each pair
 *       takes the reserve's top element under the pool lock and puts it back.</li>
 * </ul>
 * The backing allocator is a trivial counter so the figures are the pool's own cost. Run with
 * {@code -prof gc}: both regimes should show ~0 B/op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MempoolBenchmark {
    @Param({"allocator", "reserve"})
    public String regime;

    private LongMempool pool;
    private boolean failing;
    private long next = 0x1000;

    @Setup(Level.Trial)
    public void setUp() {
        failing = false;
        pool = LongMempool.create(MempoolConfig.defaults(new KernelLog(), "bench"), 16,
                gfp -> failing ? LongMempool.NULL : (next += 0x1000), element -> { });
        failing = regime.equals("reserve");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.destroy();
    }

    @Benchmark
    public long allocFree() {
        long e = pool.mempoolAlloc(Gfp.KERNEL);
        pool.mempoolFree(e);
        return e;
    }
}
