package io.memscope.bench;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * Order-0 allocate+free on memscope's per-CPU fast path next to its peers in the same run: Netty 4.2
 * adaptive and pooled direct buffers, a confined Arena, and the floor (a bare array stack of
 * pre-sliced pages).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PageAllocBenchmark {
    MemoryManager mm;
    AdaptiveByteBufAllocator adaptive;
    PooledByteBufAllocator pooled;

    @Setup
    public void setup() {
        mm = MemoryManager.builder().memoryBytes(256L << 20).build();
        adaptive = new AdaptiveByteBufAllocator();
        pooled = new PooledByteBufAllocator(true);
    }

    @TearDown
    public void tearDown() {
        mm.drainAllPages();
        mm.close();
    }

    /** The floor: a per-thread stack of pre-sliced pages. */
    @State(Scope.Thread)
    public static class Floor {
        long[] stack = new long[64];
        int top;

        @Setup
        public void fill() {
            for (int i = 0; i < stack.length; i++) {
                stack[i] = (long) i << 12;
            }
            top = stack.length;
        }
    }

    @Benchmark
    public long memscopeOrder0() {
        long h = mm.allocPages(Gfp.KERNEL, 0);
        mm.freePages(h, 0);
        return h;
    }

    @Benchmark
    public long memscopeOrder3() {
        long h = mm.allocPages(Gfp.KERNEL, 3);
        mm.freePages(h, 3);
        return h;
    }

    @Benchmark
    public long memscopeOrder9() {
        long h = mm.allocPages(Gfp.KERNEL, 9);
        mm.freePages(h, 9);
        return h;
    }

    @Benchmark
    public int nettyAdaptive() {
        ByteBuf b = adaptive.directBuffer(4096);
        int c = b.capacity();
        b.release();
        return c;
    }

    @Benchmark
    public int nettyPooled() {
        ByteBuf b = pooled.directBuffer(4096);
        int c = b.capacity();
        b.release();
        return c;
    }

    @Benchmark
    public long arenaConfined() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(4096, 4096);
            return s.address();
        }
    }

    @Benchmark
    public long floor(Floor f) {
        long p = f.stack[--f.top];
        f.stack[f.top++] = p;
        return p;
    }

    @Benchmark
    @Threads(2)
    public long memscopeOrder0TwoThreads() {
        long h = mm.allocPages(Gfp.KERNEL, 0);
        mm.freePages(h, 0);
        return h;
    }
}
