package io.memscope.debug;

import io.memscope.sched.Task;
import java.util.ArrayList;
import java.util.List;

/** What the FaultAttr tests share: the seed, a quiet attribute, a run of decisions, and a clean task. */
final class FaultAttrFixture {
    private FaultAttrFixture() {}

    static final long SEED = Long.getLong("memscope.test.seed", 20261122L);

    /** A {@code fail_test} attribute on {@code log} with the kernel's defaults and verbose 0. */
    static FaultAttr attr(KernelLog log) {
        return new FaultAttr("fail_test", log, SEED).setVerbose(0);
    }

    /** {@code n} decisions of {@code a} for a size-1 request, in order. */
    static List<Boolean> run(FaultAttr a, int n) {
        List<Boolean> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(a.shouldFail(1));
        }
        return out;
    }

    /** Clears the per-task fault state a test may have set. */
    static void resetTask() {
        Task.current().setFailNth(0);
        Task.current().setMakeItFail(false);
    }
}
