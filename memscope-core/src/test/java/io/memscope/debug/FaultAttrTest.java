package io.memscope.debug;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.sched.Task;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The rules of {@code should_fail_ex()} and {@code fail_dump()} in lib/fault-inject.c: the
 * decision order, the knob semantics, fail-nth, determinism (RELIABILITY D1) and the report
 * text (D4).
 */
class FaultAttrTest {
    static final long SEED = FaultAttrFixture.SEED;

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

    @Test
    void defaultsAreTheKernelsAndProbabilityZeroNeverFails() {
        FaultAttr a = new FaultAttr("fail_test", log, SEED);
        assertThat(a.probability()).isZero();
        assertThat(a.interval()).isEqualTo(1);
        assertThat(a.times()).isEqualTo(1);
        assertThat(a.space()).isZero();
        assertThat(a.verbose()).isEqualTo(2);
        assertThat(a.taskFilter()).isFalse();
        assertThat(a.stacktraceDepth()).isEqualTo(32);
        assertThat(run(a, 1000)).as("seed %d", SEED).doesNotContain(true);
        assertThat(log.entries()).isEmpty();
    }

    @Test
    void sameSeedSameSequenceOnOneThread_D1() {
        List<Boolean> first = run(attr().setProbability(30).setTimes(-1), 10_000);
        List<Boolean> second = run(attr().setProbability(30).setTimes(-1), 10_000);
        assertThat(second).as("seed %d", SEED).isEqualTo(first);
        long fails = first.stream().filter(b -> b).count();
        // 30 % of 10 000 with a fair generator; a generator stuck at one value would fail this.
        assertThat(fails).as("seed %d", SEED).isBetween(2_500L, 3_500L);
        FaultAttr replay = attr().setProbability(30).setTimes(-1);
        run(replay, 77);
        replay.reseed(SEED);
        assertThat(run(replay, 10_000)).isEqualTo(first);
    }

    @Test
    void probabilityHundredAlwaysFailsAndTimesCountsDown() {
        FaultAttr a = attr().setProbability(100).setTimes(3);
        assertThat(run(a, 6)).containsExactly(true, true, true, false, false, false);
        assertThat(a.times()).isZero();
        assertThat(a.injectedCount()).isEqualTo(3);
    }

    @Test
    void timesMinusOneIsUnlimited() {
        FaultAttr a = attr().setProbability(100).setTimes(-1);
        assertThat(run(a, 50)).containsOnly(true);
        assertThat(a.times()).isEqualTo(-1);
        assertThat(a.injectedCount()).isEqualTo(50);
    }

    @Test
    void intervalLetsOnlyEveryNthEligibleCallFail() {
        FaultAttr a = attr().setProbability(100).setTimes(-1).setInterval(3);
        assertThat(run(a, 9)).containsExactly(false, false, true, false, false, true, false, false, true);
    }

    @Test
    void spaceLetsThatManyBytesPassFirst() {
        FaultAttr a = attr().setProbability(100).setTimes(-1).setSpace(10);
        assertThat(a.shouldFail(4)).isFalse(); // 10 > 4 → space 6
        assertThat(a.space()).isEqualTo(6);
        assertThat(a.shouldFail(4)).isFalse(); // 6 > 4 → space 2
        assertThat(a.shouldFail(4)).isTrue(); // 2 <= 4 → eligible, space unchanged
        assertThat(a.space()).isEqualTo(2);
        assertThat(a.shouldFail(1)).isFalse(); // 2 > 1 → space 1
        assertThat(a.shouldFail(1)).isTrue();
    }

    @Test
    void timesZeroStopsBeforeSpaceAndIntervalAreConsumed() {
        FaultAttr a = attr().setProbability(100).setTimes(0).setSpace(100).setInterval(2);
        assertThat(run(a, 5)).containsOnly(false);
        assertThat(a.space()).as("times == 0 is checked before space").isEqualTo(100);
    }

    @Test
    void failNthFailsExactlyTheNthCallOnce() {
        FaultAttr a = attr(); // probability 0: only fail-nth can fail it
        Task.current().setFailNth(3);
        assertThat(run(a, 6)).containsExactly(false, false, true, false, false, false);
        assertThat(Task.current().failNth()).isZero();
        assertThat(a.injectedCount()).isEqualTo(1);
    }

    @Test
    void failNthOverridesTimesZeroAndTheTaskFilter() {
        FaultAttr a = attr().setProbability(100).setTimes(0).setTaskFilter(true);
        Task.current().setFailNth(1);
        assertThat(a.shouldFail(1)).isTrue();
        assertThat(a.times()).as("dec_not_zero leaves 0 alone").isZero();
        assertThat(a.shouldFail(1)).isFalse();
    }

    @Test
    void failNthCountdownSkipsTheKnobsEntirely() {
        FaultAttr a = attr().setProbability(100).setTimes(-1).setInterval(2);
        Task.current().setFailNth(2);
        assertThat(a.shouldFail(1)).as("a counting call says no even at 100 %").isFalse();
        assertThat(a.shouldFail(1)).isTrue();
        // interval's count was not advanced by the two fail-nth calls: the next fails on count 2.
        assertThat(run(a, 2)).containsExactly(false, true);
    }

    @Test
    void failNthIsIgnoredOutsideTaskContext() {
        FaultAttr a = attr();
        Task t = Task.current();
        t.setFailNth(1);
        t.preemptCountAdd(Task.HARDIRQ_OFFSET);
        try {
            assertThat(a.shouldFail(1)).isFalse();
            assertThat(t.failNth()).isEqualTo(1);
        } finally {
            t.preemptCountSub(Task.HARDIRQ_OFFSET);
        }
    }

    @Test
    void taskFilterNeedsMakeItFail() {
        FaultAttr a = attr().setProbability(100).setTimes(-1).setTaskFilter(true);
        assertThat(a.shouldFail(1)).isFalse();
        Task.current().setMakeItFail(true);
        assertThat(a.shouldFail(1)).isTrue();
    }

    @Test
    void stackFilterRequiresAndRejectsFramePrefixes() {
        FaultAttr a = attr().setProbability(100).setTimes(-1);
        String self = FaultAttrTest.class.getName();
        a.setRequireFrame("no.such.Caller");
        assertThat(a.shouldFail(1)).isFalse();
        a.setRequireFrame(self + ".stackFilter");
        assertThat(a.shouldFail(1)).isTrue();
        a.setRejectFrame(self);
        assertThat(a.shouldFail(1)).isFalse();
        a.setRequireFrame(null).setRejectFrame(null);
        assertThat(a.shouldFail(1)).isTrue();
    }

    @Test
    void reportTextIsTheKernels_D4() {
        FaultAttr a = new FaultAttr("fail_page_alloc", log, SEED).setProbability(100).setTimes(5)
                .setSpace(3).setInterval(1);
        assertThat(a.shouldFail(1)).isFalse(); // space 3 > 1 → 2
        assertThat(a.shouldFail(8)).isTrue();
        List<KernelLog.Entry> entries = log.entries();
        assertThat(entries).hasSize(1);
        KernelLog.Entry e = entries.get(0);
        assertThat(e.level()).isEqualTo(KernelLog.Level.NOTICE);
        assertThat(e.lines().get(0)).isEqualTo("FAULT_INJECTION: forcing a failure.");
        // times printed before this failure spends one, space after this call's check.
        assertThat(e.lines().get(1)).isEqualTo("name fail_page_alloc, interval 1, probability 100, space 2, times 5");
        assertThat(e.lines().get(2)).startsWith("CPU: 0 UID: 0 PID: " + Task.current().pid() + " Comm: ");
        assertThat(e.lines().get(3)).isEqualTo("Call Trace:");
        assertThat(e.lines().get(4)).isEqualTo(" <TASK>");
        assertThat(e.lines().get(5)).startsWith(" " + FaultAttrTest.class.getName() + ".reportTextIsTheKernels_D4(");
        assertThat(e.lines().getLast()).isEqualTo(" </TASK>");
        assertThat(a.times()).isEqualTo(4);
    }

    @Test
    void verboseOnePrintsNoStackAndZeroPrintsNothing() {
        FaultAttr a = new FaultAttr("fail_test", log, SEED).setProbability(100).setTimes(-1).setVerbose(1);
        assertThat(a.shouldFail(1)).isTrue();
        assertThat(log.entries().getLast().lines()).hasSize(2);
        a.setVerbose(0);
        assertThat(a.shouldFail(1)).isTrue();
        assertThat(log.entries()).hasSize(1);
        assertThat(a.injectedCount()).isEqualTo(2);
    }

    @Test
    void faultNowarnSuppressesTheReportButStillCounts_D4() {
        FaultAttr a = new FaultAttr("fail_test", log, SEED).setProbability(100).setTimes(-1);
        assertThat(a.shouldFailEx(1, FaultAttr.FAULT_NOWARN)).isTrue();
        assertThat(log.entries()).isEmpty();
        assertThat(a.injectedCount()).isEqualTo(1);
    }

    @Test
    void verboseRatelimitLimitsReportsAndSaysHowManyWereSuppressed() {
        AtomicLong now = new AtomicLong();
        FaultAttr a = new FaultAttr("fail_test", log, SEED, now::get).setProbability(100).setTimes(-1)
                .setVerbose(1).setVerboseRatelimit(1000, 2);
        run(a, 5);
        assertThat(log.entries()).hasSize(2);
        now.addAndGet(1_000_000_000L);
        run(a, 1);
        assertThat(log.lines()).contains("fail_dump: 3 callbacks suppressed");
        assertThat(a.injectedCount()).isEqualTo(6);
    }

    @Test
    void bootParameterSetsIntervalProbabilitySpaceTimes() {
        FaultAttr a = attr();
        assertThat(a.setup("10,50,4096,-1")).isTrue();
        assertThat(a.interval()).isEqualTo(10);
        assertThat(a.probability()).isEqualTo(50);
        assertThat(a.space()).isEqualTo(4096);
        assertThat(a.times()).isEqualTo(-1);
        assertThat(a.setup("10,50")).isFalse();
        assertThat(log.lines()).containsExactly("FAULT_INJECTION: failed to parse arguments");
        assertThat(a.interval()).isEqualTo(10);
    }

    @Test
    void concurrentInjectionsAreEachCountedOnce_D3() throws Exception {
        FaultAttr a = attr().setProbability(100).setTimes(1000);
        AtomicLong seen = new AtomicLong();
        Thread[] ts = new Thread[4];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = Thread.ofVirtual().start(() -> {
                for (int j = 0; j < 1000; j++) {
                    if (a.shouldFail(1)) {
                        seen.incrementAndGet();
                    }
                }
            });
        }
        for (Thread t : ts) {
            t.join(10_000);
        }
        assertThat(seen.get()).isEqualTo(1000);
        assertThat(a.injectedCount()).isEqualTo(1000);
        assertThat(a.times()).isZero();
    }
}
