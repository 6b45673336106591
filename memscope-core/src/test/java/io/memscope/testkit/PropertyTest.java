package io.memscope.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The helper itself: failures carry the seed, op lists shrink by removal. */
class PropertyTest {
    @Test
    void failureNamesTheSeedAndShrinksToTheCulprit() {
        assertThatThrownBy(() -> Property.forAllOps("no sevens", 50, rnd -> {
            List<Integer> ops = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                ops.add(rnd.nextInt(10));
            }
            return ops;
        }, ops -> {
            if (ops.contains(7)) {
                throw new AssertionError("found 7");
            }
        })).isInstanceOf(AssertionError.class)
                .hasMessageContaining("memscope.test.seed=" + Property.seed())
                .hasMessageContaining("ops: [7]");
    }

    @Test
    void sameSeedSameValues() {
        long a = Property.random(Property.trialSeed(1, 2)).nextLong();
        long b = Property.random(Property.trialSeed(1, 2)).nextLong();
        assertThat(a).isEqualTo(b);
        assertThat(Property.trialSeed(1, 2)).isNotEqualTo(Property.trialSeed(1, 3));
    }
}
