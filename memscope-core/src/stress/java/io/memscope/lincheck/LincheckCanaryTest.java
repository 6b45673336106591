package io.memscope.lincheck;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The canary of the Lincheck suite (RELIABILITY tooling note): a deliberately broken counter
 * whose increment is a plain read followed by a plain write, so two threads can lose an update.
 *
 * <p>Why it exists: Lincheck releases older than 3.7 silently skip their bytecode instrumentation
 * on JDK 25, and then model checking explores nothing and passes every test, broken or not. This
 * test passes only when Lincheck <em>finds</em> the lost update, so a green suite means the other
 * Lincheck tests really were model-checked.
 */
@Tag("stress")
class LincheckCanaryTest {

    /** Non-linearizable on purpose: {@code value++} is not atomic. */
    public static final class RacyCounter {
        private int value;

        @Operation
        public int incrementAndGet() {
            int v = value;
            value = v + 1;
            return v + 1;
        }

        @Operation
        public int get() {
            return value;
        }
    }

    @Test
    void modelCheckingFindsTheLostUpdate() {
        assertThatThrownBy(() -> new ModelCheckingOptions()
                .iterations(20)
                .invocationsPerIteration(500)
                .threads(2)
                .actorsPerThread(2)
                .check(RacyCounter.class))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("Invalid execution results");
    }
}
