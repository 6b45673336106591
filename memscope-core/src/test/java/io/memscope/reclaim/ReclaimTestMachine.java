package io.memscope.reclaim;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.page.PageHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** A small machine for reclaim tests: a fake page cache, pinned (unreclaimable) pages, a trace. */
final class ReclaimTestMachine implements AutoCloseable {
    /** Pins pages down to the min watermark: no reclaim, no reserves, no failure report. */
    static final int GFP_PIN = (Gfp.KERNEL & ~Gfp.RECLAIM) | Gfp.NOWARN;

    final MemoryManager mm;
    final FakeFileOwner files;
    final List<String> trace = new CopyOnWriteArrayList<>();
    private final List<Long> pinned = new ArrayList<>();

    ReclaimTestMachine(long bytes, boolean legacy) {
        this(MemoryManager.builder().memoryBytes(bytes).cpuSlots(1).panicOnWarn(true).legacyReclaimWriteback(legacy));
    }

    ReclaimTestMachine(MemoryManager.Builder b) {
        this.mm = b.build();
        this.files = new FakeFileOwner(mm);
        mm.reclaim().setTrace(trace::add);
    }

    /** Pins pages with {@code gfp} until it fails; returns how many. */
    synchronized int pinAll(int gfp) {
        int n = 0;
        long h;
        while ((h = mm.allocPages(gfp, 0)) != PageHandle.NULL) {
            pinned.add(h);
            n++;
        }
        return n;
    }

    /** Frees up to {@code n} pinned pages. */
    synchronized void unpin(int n) {
        for (int i = 0; i < n && !pinned.isEmpty(); i++) {
            mm.freePages(pinned.removeLast());
        }
    }

    long tryToFreePages(int gfp) {
        return mm.reclaim().directReclaimer().tryToFreePages(mm.pages(), gfp, 0, -1L);
    }

    long count(String prefix) {
        return trace.stream().filter(l -> l.startsWith(prefix)).count();
    }

    static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not reached within 20 s: " + what);
            }
            Thread.sleep(2);
        }
    }

    @Override
    public void close() {
        mm.reclaim().close(); // kswapd stops first: it must not reclaim pages truncate is dropping
        files.truncateAll();
        unpin(Integer.MAX_VALUE);
        if (mm.validate() != 0) {
            throw new AssertionError("validate() found errors:\n" + mm.log().dmesg());
        }
        mm.close();
    }
}
