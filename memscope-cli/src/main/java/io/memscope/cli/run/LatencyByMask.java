package io.memscope.cli.run;

import io.memscope.gfp.GfpFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Allocation latency per GFP mask, recorded from many threads with HdrHistogram's {@link Recorder}
 * (wait-free recording, one interval histogram per mask), reported as percentiles in
 * microseconds under the mask's kernel name.
 */
final class LatencyByMask {
    private final ConcurrentHashMap<Integer, Recorder> recorders = new ConcurrentHashMap<>();
    private final Map<Integer, Histogram> totals = new ConcurrentHashMap<>();

    /** Records one allocation of {@code nanos} under {@code gfp}. */
    void record(int gfp, long nanos) {
        recorders.computeIfAbsent(gfp, g -> new Recorder(3)).recordValue(Math.max(1, nanos));
    }

    /** Folds everything recorded so far into the totals. */
    synchronized void collect() {
        recorders.forEach((gfp, r) -> {
            Histogram h = r.getIntervalHistogram();
            totals.merge(gfp, h, (a, b) -> {
                a.add(b);
                return a;
            });
        });
    }

    /** mask name → {count, p50, p90, p99, p99.9, max} in microseconds. */
    synchronized Map<String, Map<String, Object>> percentiles() {
        collect();
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        totals.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            Histogram h = e.getValue();
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("count", h.getTotalCount());
            p.put("p50_us", us(h.getValueAtPercentile(50)));
            p.put("p90_us", us(h.getValueAtPercentile(90)));
            p.put("p99_us", us(h.getValueAtPercentile(99)));
            p.put("p99.9_us", us(h.getValueAtPercentile(99.9)));
            p.put("max_us", us(h.getMaxValue()));
            out.put(GfpFormat.formatFlags(e.getKey()), p);
        });
        return out;
    }

    private static double us(long nanos) {
        return Math.round(nanos / 10.0) / 100.0;
    }
}
