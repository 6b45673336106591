package io.memscope.page;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import java.util.ArrayList;
import java.util.List;

/** Test helper for the allocator's rule tests: fill memory with order-0 pages, and give them back. */
final class HeldPages {
    private HeldPages() {}

    /** Allocates order-0 pages with {@code gfp} (plus NORETRY and NOWARN) until one fails; returns the handles. */
    static List<Long> exhaust(MemoryManager mm, int gfp) {
        return exhaust(mm, gfp, new ArrayList<>());
    }

    /** As {@link #exhaust(MemoryManager, int)}, adding to {@code held}. */
    static List<Long> exhaust(MemoryManager mm, int gfp, List<Long> held) {
        for (long h; (h = mm.allocPages(gfp | Gfp.NOWARN | Gfp.NORETRY, 0)) != PageHandle.NULL; ) {
            held.add(h);
        }
        return held;
    }

    /** Frees every handle in {@code held} and empties it. */
    static void freeAll(MemoryManager mm, List<Long> held) {
        for (long h : held) {
            mm.freePages(h);
        }
        held.clear();
    }
}
