package io.memscope.bench;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Issue 3's fast-path figures: one 4 KiB page allocated and freed, memscope's per-CPU list path
 * against the JVM peers in the same run.
 *
 * <ul>
 *   <li>{@code memscopeOrder0}: {@code allocPages(GFP_KERNEL, 0)} + {@code freePages} — served from
 *       the per-CPU list (the pcp is refilled and trimmed in batches, so the buddy lists are touched
 *       once per {@code batch} operations).</li>
 *   <li>{@code nettyAdaptive} / {@code nettyPooled}: {@code directBuffer(4096)} + {@code release()}
 *       with Netty 4.2's default settings.</li>
 *   <li>{@code arenaConfined}: {@code Arena.ofConfined().allocate(4096)} + {@code close()}.</li>
 *   <li>{@code unsafeMalloc}: {@code Unsafe.allocateMemory(4096)} + {@code freeMemory} (malloc).</li>
 *   <li>{@code memscopeBuddySplitMerge}: order 4, which no per-CPU list caches: split on every
 *       allocation, merged on every free, under the zone lock.</li>
 *   <li>{@code floorArrayStack}: popping and pushing the address of a pre-sliced page on a bare
 *       array stack — the practical floor of any page pool, single-threaded and unsynchronised.</li>
 *   <li>{@code floorArrayStackTwoThreads}: the same on two threads, one stack each — how far two
 *       threads can scale on the machine during the run.</li>
 *   <li>{@code floorLockedStack}: the same stack behind one CAS-acquired, release-stored lock word
 *       — the floor for a pool that, like memscope's per-CPU lists, is safe to share between
 *       threads.</li>
 * </ul>
 * Debug mode, lockdep and fault injection are off; benchmarks never run with debug on.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class PageAllocBenchmark {
    private MemoryManager mm;
    private PooledByteBufAllocator pooled;
    private AdaptiveByteBufAllocator adaptive;

    @Setup(Level.Trial)
    public void setup() {
        mm = MemoryManager.builder().memoryBytes(256L << 20).debug(false).lockdep(false).panicOnWarn(false).build();
        pooled = PooledByteBufAllocator.DEFAULT;
        adaptive = new AdaptiveByteBufAllocator();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        mm.close();
    }

    /** The addresses of {@code n} pages pre-sliced from one region of {@code arena}. */
    static long[] slicePages(Arena arena, int n) {
        MemorySegment region = arena.allocate(n * 4096L, 4096);
        long[] stack = new long[n];
        for (int i = 0; i < n; i++) {
            stack[i] = region.address() + i * 4096L;
        }
        return stack;
    }

    /** Per-thread floor: a stack of pre-sliced page addresses. */
    @State(Scope.Thread)
    public static class Floor {
        Arena arena;
        long[] stack;
        int top;

        @Setup(Level.Trial)
        public void setup() {
            arena = Arena.ofConfined();
            stack = slicePages(arena, 64);
            top = 64;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    @Benchmark
    public long memscopeOrder0() {
        long h = mm.allocPages(Gfp.KERNEL, 0);
        mm.freePages(h, 0);
        return h;
    }

    @Benchmark
    @Threads(2)
    public long memscopeOrder0TwoThreads() {
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

    /**
     * Order 4 is above the orders cached per CPU, so each allocation goes to the buddy under the
     * zone lock and splits a larger free block ({@code expand}), and each free merges it back: the
     * cost of an allocation that the per-CPU lists cannot serve.
     */
    @Benchmark
    public long memscopeBuddySplitMerge() {
        long h = mm.allocPages(Gfp.KERNEL, 4);
        mm.freePages(h, 4);
        return h;
    }

    /** {@code sun.misc.Unsafe.allocateMemory(4096)} + {@code freeMemory}: the C library's malloc. */
    @Benchmark
    public long unsafeMalloc() {
        long a = UNSAFE.allocateMemory(4096);
        UNSAFE.freeMemory(a);
        return a;
    }

    private static final sun.misc.Unsafe UNSAFE;

    static {
        try {
            java.lang.reflect.Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            UNSAFE = (sun.misc.Unsafe) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
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
            return a.allocate(4096, 4096).address();
        }
    }

    /** A shared pre-sliced stack guarded by one lock word (CAS to take, release store to give back). */
    @State(Scope.Benchmark)
    public static class LockedFloor {
        static final java.lang.invoke.VarHandle LOCK;

        static {
            try {
                LOCK = java.lang.invoke.MethodHandles.lookup().findVarHandle(LockedFloor.class, "lock", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        volatile int lock;
        Arena arena;
        long[] stack;
        int top;

        @Setup(Level.Trial)
        public void setup() {
            arena = Arena.ofShared();
            stack = slicePages(arena, 64);
            top = 64;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }

        long pop() {
            while (!LOCK.compareAndSet(this, 0, 1)) {
                Thread.onSpinWait();
            }
            long a = stack[--top];
            LOCK.setRelease(this, 0);
            return a;
        }

        void push(long a) {
            while (!LOCK.compareAndSet(this, 0, 1)) {
                Thread.onSpinWait();
            }
            stack[top++] = a;
            LOCK.setRelease(this, 0);
        }
    }

    @Benchmark
    public long floorLockedStack(LockedFloor f) {
        long a = f.pop();
        f.push(a);
        return a;
    }

    @Benchmark
    public long floorArrayStack(Floor f) {
        long addr = f.stack[--f.top];
        f.stack[f.top++] = addr;
        return addr;
    }

    /**
     * The bare floor on two threads, each with its own stack: what two threads can scale to on this
     * machine at this moment (nothing is shared), the yardstick for {@code memscopeOrder0TwoThreads}.
     */
    @Benchmark
    @Threads(2)
    public long floorArrayStackTwoThreads(Floor f) {
        long addr = f.stack[--f.top];
        f.stack[f.top++] = addr;
        return addr;
    }
}
