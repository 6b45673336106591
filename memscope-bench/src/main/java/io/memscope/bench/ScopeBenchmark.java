package io.memscope.bench;

import io.memscope.gfp.Gfp;
import io.memscope.sched.Memalloc;
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
 * Cost of the scope API on the allocation fast path: {@code current_gfp_context()} with and
 * without an open scope, a try-with-resources NOFS scope, and raw save/restore. Run with
 * {@code -prof gc} to check that nothing is allocated (scope debugging is off by default).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class ScopeBenchmark {
    int gfp = Gfp.KERNEL;

    /** A thread state that keeps a NOFS scope open on the benchmark thread for the whole iteration. */
    @State(Scope.Thread)
    public static class OpenScope {
        int cookie;

        @Setup(Level.Iteration)
        public void open() {
            cookie = Memalloc.memallocNofsSave();
        }

        @TearDown(Level.Iteration)
        public void close() {
            Memalloc.memallocNofsRestore(cookie);
        }
    }

    @Benchmark
    public int currentGfpContextNoScope() {
        return Memalloc.currentGfpContext(gfp);
    }

    @Benchmark
    public int currentGfpContextInNofsScope(OpenScope s) {
        return Memalloc.currentGfpContext(gfp);
    }

    @Benchmark
    public int nofsScopeTryWithResources() {
        try (var s = Memalloc.nofsScope()) {
            return Memalloc.currentGfpContext(gfp);
        }
    }

    @Benchmark
    public int nofsRawSaveRestore() {
        int c = Memalloc.memallocNofsSave();
        int r = Memalloc.currentGfpContext(gfp);
        Memalloc.memallocNofsRestore(c);
        return r;
    }
}
