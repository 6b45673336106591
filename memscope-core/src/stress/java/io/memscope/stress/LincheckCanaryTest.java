package io.memscope.stress;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The canary (RELIABILITY tooling note): a counter with a racy read-modify-write. If Lincheck's
 * instrumentation silently stopped working on this JDK, it would pass broken code; this test
 * passes only when model checking finds the lost update.
 */
@Tag("stress")
public class LincheckCanaryTest {
    private int value;

    @Operation
    public int incrementAndGet() {
        int v = value; // a plain read-modify-write: two threads can both read the same value
        value = v + 1;
        return v + 1;
    }

    @Test
    void modelCheckingFindsTheLostUpdate() {
        assertThatThrownBy(() -> new ModelCheckingOptions().iterations(20).invocationsPerIteration(500)
                .threads(2).actorsPerThread(2).check(LincheckCanaryTest.class))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("Invalid execution results");
    }
}
