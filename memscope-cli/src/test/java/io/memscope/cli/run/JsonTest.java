package io.memscope.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void writesNestedObjectsNumbersAndEscapedStrings() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("p50_us", 1.5);
        inner.put("count", 3L);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("latency", Map.of("GFP_KERNEL", inner));
        root.put("note", "a \"quoted\"\nline\u0001");
        root.put("nan", Double.NaN);
        assertThat(Json.write(root)).isEqualTo(
                "{\"latency\":{\"GFP_KERNEL\":{\"p50_us\":1.5,\"count\":3}},"
                        + "\"note\":\"a \\\"quoted\\\"\\nline\\u0001\",\"nan\":null}");
    }

    @Test
    void latencyPercentilesAreKeyedByKernelMaskNames() {
        LatencyByMask l = new LatencyByMask();
        for (int i = 1; i <= 1000; i++) {
            l.record(0xcc0, i * 1000L);
        }
        l.record(0xc40, 5_000);
        Map<String, Map<String, Object>> p = l.percentiles();
        assertThat(p).containsOnlyKeys("GFP_KERNEL", "GFP_NOFS");
        assertThat(p.get("GFP_KERNEL").get("count")).isEqualTo(1000L);
        assertThat((Double) p.get("GFP_KERNEL").get("p50_us")).isBetween(499.0, 501.0);
    }
}
