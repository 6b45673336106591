package io.memscope.cli.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** RELIABILITY C3: every seed scenario, unsafe and safe, behaves as declared. */
class ScenarioTest {
    static Stream<Arguments> runs() {
        return Scenarios.all().stream().flatMap(s -> Stream.of(
                Arguments.of(s.name(), Scenario.Variant.UNSAFE), Arguments.of(s.name(), Scenario.Variant.SAFE)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("runs")
    void variantBehavesAsDeclared(String name, Scenario.Variant variant) {
        Scenario.Result r = Scenarios.byName(name).orElseThrow().run(variant);
        assertThat(r.asExpected()).as(String.join("\n", r.output())).isTrue();
    }

    @org.junit.jupiter.api.Test
    void atomicContextsUnsafeShowsBothKernelReports() {
        Scenario.Result r = Scenarios.byName("atomic-contexts").orElseThrow().run(Scenario.Variant.UNSAFE);
        assertThat(r.output()).contains("[ BUG: Invalid wait context ]");
        assertThat(r.output()).anyMatch(l -> l.startsWith("page allocation from NMI context refused: mode:0x820(GFP_ATOMIC)"));
    }

    /** Scenario 3 (seeds/003): the legacy vmalloc's page-table allocation closes the cycle through fs_reclaim. */
    @org.junit.jupiter.api.Test
    void vmallocNofsUnsafeIsReportedByLockdepOnItsFirstAllocation() {
        Scenario.Result r = Scenarios.byName("vmalloc-nofs").orElseThrow().run(Scenario.Variant.UNSAFE);
        assertThat(r.output()).anyMatch(l -> l.contains("WARNING: possible circular locking dependency detected"));
        assertThat(r.output()).anyMatch(l -> l.contains("fs_reclaim"));
        assertThat(r.asExpected()).isTrue();
    }
}
