package io.memscope.debug;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.sched.Task;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Where the stack-trace filter sits in {@code should_fail_ex()} (lib/fault-inject.c, current
 * kernel, with {@code stack_checked}):
 *
 * <pre>
 *   if (in_task() &amp;&amp; current-&gt;fail_nth) {
 *           if (!fail_stacktrace(attr)) return false;      // before the countdown
 *           stack_checked = true; fail_nth--; ...
 *   }
 *   probability == 0 → false; task filter; times == 0 → false;
 *   if (!stack_checked &amp;&amp; !fail_stacktrace(attr)) return false;   // before space
 *   space; interval (count++); probability vs get_random_u32_below(100); fail:
 * </pre>
 *
 * Every test here fails with the stack filter checked last (after the random draw) or not at
 * all on the fail-nth path. The filter rejects by naming this class as the reject prefix, so
 * every call made from a test method is a "rejected caller".
 */
class FaultAttrOrderTest {
    static final long SEED = FaultAttrFixture.SEED;
    private static final String SELF = FaultAttrOrderTest.class.getName();

    private final KernelLog log = new KernelLog(4096, true);

    @AfterEach
    void resetTask() {
        FaultAttrFixture.resetTask();
    }

    private FaultAttr attr() {
        return FaultAttrFixture.attr(log);
    }

    private static List<Boolean> run(FaultAttr a, int n) {
        return FaultAttrFixture.run(a, n);
    }

    // ------------------------------------------------------------------ fail-nth path

    @Test
    void rejectedCallerDoesNotCountFailNthDown() {
        FaultAttr a = attr().setRejectFrame(SELF); // probability 0: only fail-nth could fail it
        Task.current().setFailNth(3);
        assertThat(run(a, 5)).containsOnly(false);
        assertThat(Task.current().failNth()).as("filter runs before fail_nth--").isEqualTo(3);
        assertThat(a.injectedCount()).isZero();

        a.setRejectFrame(null);
        assertThat(run(a, 4)).containsExactly(false, false, true, false);
        assertThat(Task.current().failNth()).isZero();
        assertThat(a.injectedCount()).isEqualTo(1);
    }

    @Test
    void failNthOfOneWithRejectingFilterDoesNotForceAFailure() {
        FaultAttr a = attr().setProbability(100).setTimes(-1).setRejectFrame(SELF);
        Task.current().setFailNth(1);
        assertThat(a.shouldFail(1)).isFalse();
        assertThat(Task.current().failNth()).isEqualTo(1);
        assertThat(a.injectedCount()).isZero();
        assertThat(log.entries()).isEmpty();
    }

    @Test
    void failNthRejectionReturnsWithoutTouchingTheKnobs() {
        // The kernel returns false straight from the fail-nth branch: space, interval and times
        // are not looked at, even with probability 100.
        FaultAttr a = attr().setProbability(100).setTimes(5).setSpace(10).setInterval(2)
                .setRejectFrame(SELF);
        Task.current().setFailNth(2);
        assertThat(run(a, 3)).containsOnly(false);
        assertThat(a.space()).isEqualTo(10);
        assertThat(a.times()).isEqualTo(5);
        assertThat(Task.current().failNth()).isEqualTo(2);

        // Interval's count did not advance either: with the filter gone and fail-nth cleared,
        // count goes 1 (no), 2 (fail).
        Task.current().setFailNth(0);
        a.setRejectFrame(null).setSpace(0);
        assertThat(run(a, 2)).containsExactly(false, true);
    }

    @Test
    void failNthCountsDownWhenTheRequiredFrameIsOnTheStack() {
        FaultAttr a = attr().setRequireFrame(SELF + ".failNthCountsDown");
        Task.current().setFailNth(2);
        assertThat(run(a, 3)).containsExactly(false, true, false);
        assertThat(Task.current().failNth()).isZero();

        a.setRequireFrame("no.such.Caller");
        Task.current().setFailNth(2);
        assertThat(run(a, 3)).as("required frame absent: filter rejects, no countdown")
                .containsOnly(false);
        assertThat(Task.current().failNth()).isEqualTo(2);
    }

    // ------------------------------------------------------------------ knob path

    @Test
    void rejectedCallerConsumesNoSpace() {
        FaultAttr a = attr().setProbability(100).setTimes(-1).setSpace(10).setRejectFrame(SELF);
        assertThat(a.shouldFail(1)).isFalse();
        assertThat(a.space()).as("stack filter is checked before space").isEqualTo(10);
        assertThat(a.shouldFail(4)).isFalse();
        assertThat(a.space()).isEqualTo(10);
        assertThat(a.injectedCount()).isZero();
    }

    @Test
    void acceptedCallerStillConsumesSpace() {
        FaultAttr a = attr().setProbability(100).setTimes(-1).setSpace(10)
                .setRequireFrame(SELF + ".acceptedCaller");
        assertThat(a.shouldFail(4)).isFalse();
        assertThat(a.space()).isEqualTo(6);
        assertThat(a.shouldFail(4)).isFalse();
        assertThat(a.shouldFail(4)).isTrue();
        assertThat(a.space()).isEqualTo(2);
    }

    @Test
    void rejectedCallerDoesNotAdvanceTheIntervalCount() {
        FaultAttr a = attr().setProbability(100).setTimes(-1).setInterval(2).setRejectFrame(SELF);
        assertThat(run(a, 3)).containsOnly(false);
        a.setRejectFrame(null);
        // count is still 0: 1 no, 2 fail, 3 no, 4 fail (it would be 4, 5, 6, 7 had the three
        // rejected calls advanced it).
        assertThat(run(a, 4)).containsExactly(false, true, false, true);
    }

    @Test
    void rejectedCallerDoesNotConsumeARandomDraw_D1() {
        // Same seed, same accepted calls: the decisions must not depend on how many rejected
        // calls were interleaved, because the filter decides before get_random_u32_below(100).
        FaultAttr plain = attr().setProbability(50).setTimes(-1);
        List<Boolean> expected = run(plain, 400);

        FaultAttr mixed = attr().setProbability(50).setTimes(-1);
        List<Boolean> got = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            mixed.setRejectFrame(SELF);
            for (int r = 0; r < i % 3; r++) {
                assertThat(mixed.shouldFail(1)).isFalse();
            }
            mixed.setRejectFrame(null);
            got.add(mixed.shouldFail(1));
        }
        assertThat(got).as("seed %d", SEED).isEqualTo(expected);
        assertThat(mixed.injectedCount()).isEqualTo(plain.injectedCount());
    }

    @Test
    void timesZeroAndProbabilityZeroStillWinOverAnAcceptingFilter() {
        FaultAttr a = attr().setProbability(100).setTimes(0).setSpace(10)
                .setRequireFrame(SELF);
        assertThat(a.shouldFail(1)).isFalse();
        assertThat(a.space()).as("times == 0 decides before the filter and space").isEqualTo(10);
        a.setTimes(-1).setProbability(0);
        assertThat(a.shouldFail(1)).isFalse();
        assertThat(a.space()).isEqualTo(10);
    }

    @Test
    void taskFilterDecidesBeforeTheStackFilterAndSpace() {
        FaultAttr a = attr().setProbability(100).setTimes(-1).setSpace(10).setTaskFilter(true)
                .setRequireFrame(SELF);
        assertThat(a.shouldFail(1)).isFalse();
        assertThat(a.space()).isEqualTo(10);
        Task.current().setMakeItFail(true);
        assertThat(a.shouldFail(1)).isFalse();
        assertThat(a.space()).isEqualTo(9);
    }
}
