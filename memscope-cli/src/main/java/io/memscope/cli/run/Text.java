package io.memscope.cli.run;

import java.io.PrintStream;
import java.util.Map;

/** The human-readable form of a {@code memscope run} result. */
final class Text {
    private Text() {}

    @SuppressWarnings("unchecked")
    static void print(PrintStream out, Map<String, Object> result) {
        Map<String, Object> run = (Map<String, Object>) result.get("run");
        out.printf("memscope run: %s MiB, %s threads, %s s: %s writes, %s reads, %s cache pages reclaimed,"
                        + " %s GFP_ATOMIC allocations (%s failed)%n%n",
                run.get("memory_mib"), run.get("threads"), run.get("seconds"), run.get("writes"), run.get("reads"),
                run.get("cache_pages_reclaimed"), run.get("atomic_allocations"), run.get("atomic_failures"));
        out.println("vmstat (events: what the load added; nr_* states: their value when it ended):");
        ((Map<String, Object>) result.get("vmstat")).forEach((k, v) -> out.printf("  %-32s %d%n", k, (Long) v));
        out.println();
        out.println("meminfo:");
        ((Map<String, Object>) result.get("meminfo")).forEach((k, v) -> out.printf("  %-18s %10d kB%n", k + ":", (Long) v));
        out.println();
        out.println("allocation latency by mask (µs):");
        out.printf("  %-64s %9s %9s %9s %9s %9s %9s%n", "mask", "count", "p50", "p90", "p99", "p99.9", "max");
        ((Map<String, Map<String, Object>>) result.get("latency")).forEach((mask, p) -> out.printf(
                "  %-64s %9d %9.2f %9.2f %9.2f %9.2f %9.2f%n", mask, (Long) p.get("count"), p.get("p50_us"),
                p.get("p90_us"), p.get("p99_us"), p.get("p99.9_us"), p.get("max_us")));
    }
}
