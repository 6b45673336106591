package io.memscope.cli.run;

import io.memscope.MemoryManager;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code memscope run}: the main job on built-in defaults. One machine under memory pressure:
 * writer threads dirty a file-backed page cache over a temporary directory (flushers write it
 * back), reader threads fault file pages in, cache threads fill a shrinker-backed cache with
 * {@code GFP_KERNEL} pages, and an interrupt-style thread allocates with {@code GFP_ATOMIC} —
 * so kswapd, direct reclaim, shrinkers, writeback and the reserves all work. At the end it prints
 * the vmstat event counters that moved and the state items as the load left them, {@code /proc/meminfo},
 * and allocation latency per GFP mask.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a machine under memory pressure for a while and report what the kernel model did.")
public final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--memory", paramLabel = "MiB", defaultValue = "256", description = "machine size in MiB (default ${DEFAULT-VALUE})")
    long memoryMiB;

    @Option(names = "--threads", defaultValue = "8", description = "worker threads (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "10", description = "how long to run (default ${DEFAULT-VALUE})")
    int seconds;

    @Option(names = "--files", defaultValue = "4", description = "files in the page cache (default ${DEFAULT-VALUE})")
    int files;

    @Option(names = "--file-size", paramLabel = "MiB", defaultValue = "64", description = "size of each file in MiB (default ${DEFAULT-VALUE})")
    long fileMiB;

    @Option(names = "--dir", description = "directory for the files (default: a new temporary directory, removed afterwards)")
    Path dir;

    @Option(names = "--lockdep", description = "run with lockdep on (slower; reports any lock-order problem)")
    boolean lockdep;

    @Option(names = "--json", description = "print one JSON object with vmstat, meminfo and latency instead of text")
    boolean json;

    @Override
    public Integer call() throws Exception {
        validate();
        PrintStream out = System.out;
        boolean ownDir = dir == null;
        Path base = ownDir ? Files.createTempDirectory("memscope-run") : Files.createDirectories(dir);
        LatencyByMask latency = new LatencyByMask();
        Map<String, Object> result;
        try (MemoryManager mm = MemoryManager.builder().memoryBytes(memoryMiB << 20).lockdep(lockdep)
                .panicOnWarn(false).build()) {
            result = Workload.run(mm, base, this, latency);
        } finally {
            if (ownDir) {
                try (Stream<Path> s = Files.walk(base)) {
                    s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
        if (json) {
            out.println(Json.write(result));
        } else {
            Text.print(out, result);
        }
        return 0;
    }

    private void validate() {
        if (memoryMiB < 16 || memoryMiB % 4 != 0) {
            throw new ParameterException(spec.commandLine(), "--memory must be a multiple of 4 MiB and at least 16, was " + memoryMiB);
        }
        if (threads < 4) {
            throw new ParameterException(spec.commandLine(), "--threads must be at least 4, was " + threads);
        }
        if (seconds < 1 || files < 1 || fileMiB < 1) {
            throw new ParameterException(spec.commandLine(), "--duration, --files and --file-size must be positive");
        }
    }
}
