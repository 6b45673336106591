package io.memscope.bench;

import io.memscope.MemoryManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Issue 3's start-up figure: {@code MemoryManager.builder().memoryBytes(n).build()} followed by
 * {@code close()}, for a 1 GiB and an 8 GiB machine, single-shot (each measurement is one build and
 * close in a warmed-up JVM).
 *
 * <p>Frames come from a {@code memfd} committed lazily, so start-up must not touch them: the
 * {@code @AuxCounters} {@code shmemKiB} reports how much of the memfd is resident right after
 * {@code build()} ({@code RssShmem} of {@code /proc/self/status}; 0 when nothing was touched; -1
 * where the file does not exist). What start-up does pay for is the page table (32 bytes per page
 * on the Java heap: 8 MiB for 1 GiB, 64 MiB for 8 GiB), the zones and
 * the initial free lists. The fork gets a 1 GiB heap so the 8 GiB machine's table fits.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5)
@Measurement(iterations = 10)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xms1g", "-Xmx1g"})
public class StartupBenchmark {
    @Param({"1073741824", "8589934592"})
    public long memoryBytes;

    /** Resident memfd memory after build. */
    @AuxCounters(AuxCounters.Type.EVENTS)
    @State(Scope.Thread)
    public static class Resident {
        /** {@code RssShmem} in KiB right after build (the memfd's resident pages and any other shmem). */
        public long shmemKiB;
    }

    @Benchmark
    public int buildAndClose(Resident r) {
        long before = rssShmemKiB();
        int pages;
        try (MemoryManager mm = MemoryManager.builder().memoryBytes(memoryBytes).debug(false).lockdep(false)
                .panicOnWarn(false).build()) {
            pages = mm.pages().totalPages();
            r.shmemKiB = before < 0 ? -1 : rssShmemKiB() - before;
        }
        return pages;
    }

    /** {@code RssShmem} of this process in KiB, or -1 when /proc is unavailable. */
    static long rssShmemKiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("RssShmem:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            return -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
