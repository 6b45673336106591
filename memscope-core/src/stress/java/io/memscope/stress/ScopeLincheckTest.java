package io.memscope.stress;

import io.memscope.gfp.Gfp;
import io.memscope.sched.Memalloc;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * RELIABILITY C5: the scope API. Scopes are per-task state, so operations on different threads
 * must not see each other: every operation opens its scopes, reads {@code currentGfpContext} and
 * closes them, and must return exactly what it returns when run alone. A scope that leaked into
 * another thread (shared state) would make some interleaving return another mask.
 */
@Tag("stress")
public class ScopeLincheckTest {
    @Operation
    public int nofsContext() {
        int cookie = Memalloc.memallocNofsSave();
        try {
            return Memalloc.currentGfpContext(Gfp.KERNEL);
        } finally {
            Memalloc.memallocNofsRestore(cookie);
        }
    }

    @Operation
    public int noioInsideNofs() {
        int nofs = Memalloc.memallocNofsSave();
        try {
            int noio = Memalloc.memallocNoioSave();
            try {
                return Memalloc.currentGfpContext(Gfp.KERNEL);
            } finally {
                Memalloc.memallocNoioRestore(noio);
            }
        } finally {
            Memalloc.memallocNofsRestore(nofs);
        }
    }

    @Operation
    public int plainContext() {
        return Memalloc.currentGfpContext(Gfp.KERNEL);
    }

    @Test
    void modelChecking() {
        new ModelCheckingOptions().iterations(30).invocationsPerIteration(300).threads(2).actorsPerThread(3)
                .check(ScopeLincheckTest.class);
    }

    @Test
    void stress() {
        new StressOptions().iterations(20).invocationsPerIteration(500).threads(3).actorsPerThread(3)
                .check(ScopeLincheckTest.class);
    }
}
