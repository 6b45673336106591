package io.memscope.bench;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.slab.Slab;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Issue 6's small-object figures: {@code kmalloc(size)} + {@code kfree} served by the calling
 * slot's per-CPU sheaf, against Netty 4.2's {@code directBuffer(size)} + {@code release()} (its
 * default adaptive allocator and the pooled one) in the same run. One and two threads; sizes
 * across the kmalloc classes. Debug, lockdep and fault injection are off.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class SlabBenchmark {
    @Param({"64"})
    public int size;

    private MemoryManager mm;
    private Slab slab;
    private PooledByteBufAllocator pooled;
    private AdaptiveByteBufAllocator adaptive;

    @Setup(Level.Trial)
    public void setup() {
        mm = MemoryManager.builder().memoryBytes(256L << 20).debug(false).lockdep(false).panicOnWarn(false).build();
        slab = mm.slab();
        pooled = PooledByteBufAllocator.DEFAULT;
        adaptive = new AdaptiveByteBufAllocator();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        mm.close();
    }

    @Benchmark
    public long kmalloc() {
        long p = slab.kmalloc(size, Gfp.KERNEL);
        slab.kfree(p);
        return p;
    }

    @Benchmark
    public int nettyAdaptive() {
        ByteBuf b = adaptive.directBuffer(size);
        int c = b.capacity();
        b.release();
        return c;
    }

    @Benchmark
    public int nettyPooled() {
        ByteBuf b = pooled.directBuffer(size);
        int c = b.capacity();
        b.release();
        return c;
    }

    /** Two threads, each on its own slot: throughput per thread (ns/op), compare with one thread. */
    @Benchmark
    @Threads(2)
    public long kmallocTwoThreads() {
        long p = slab.kmalloc(size, Gfp.KERNEL);
        slab.kfree(p);
        return p;
    }

    @Benchmark
    @Threads(2)
    public int nettyAdaptiveTwoThreads() {
        ByteBuf b = adaptive.directBuffer(size);
        int c = b.capacity();
        b.release();
        return c;
    }
}
