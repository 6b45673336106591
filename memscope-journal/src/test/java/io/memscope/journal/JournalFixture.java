package io.memscope.journal;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.MemoryManager;
import io.memscope.debug.FailPageAlloc;
import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.locking.Lockdep;
import io.memscope.pagecache.PageCache;
import io.memscope.reclaim.Shrinkers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A machine, page cache, lockdep, shrinker list and a {@link JournalStore} in a temporary
 * directory, all the machine's own (its lockdep sees {@code fs_reclaim} on every allocation). The
 * allocator's fault hook records every allocation with whether {@code jfs_trans} was held.
 */
final class JournalFixture implements AutoCloseable {
    static final long SEED = Long.getLong("memscope.test.seed", 20261122L);

    /** One allocation as the allocator saw it (mask after the task's scopes). */
    record Alloc(int gfp, boolean underTrans) {}

    final KernelLog lockdepLog;
    final Lockdep lockdep;
    final FailPageAlloc fail = new FailPageAlloc(new KernelLog(256, false), SEED);
    final List<Alloc> allocs = new CopyOnWriteArrayList<>();
    final MemoryManager mm;
    final PageCache cache;
    final Shrinkers shrinkers;
    final Path dir;
    final JournalStore store;
    private volatile JournalStore storeRef;

    JournalFixture(JournalOptions options) {
        fail.setMinOrder(0).setIgnoreGfpWait(false).setIgnoreGfpHighmem(false);
        fail.attr().setVerbose(0);
        // Variants expected to be reported run without panic_on_warn, so the report is logged, not thrown.
        mm = MemoryManager.builder().memoryBytes(64L << 20).cpuSlots(2).panicOnWarn(options.equals(JournalOptions.safe()))
                .faultHook(this::hook).build();
        lockdep = mm.lockdep();
        lockdepLog = mm.log();
        cache = mm.pageCache();
        shrinkers = mm.shrinkers();
        try {
            dir = Files.createTempDirectory("memscope-journal");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        store = new JournalStore(cache, lockdep, shrinkers, dir, options);
        storeRef = store;
    }

    private boolean hook(int gfp, int order) {
        JournalStore s = storeRef;
        allocs.add(new Alloc(gfp, s != null && s.transLock().isHeldByCurrentThread()));
        return fail.shouldFailAllocPage(gfp, order);
    }

    /** Allocations made while jfs_trans was held that could enter filesystem reclaim. */
    long fsAllocsUnderTrans() {
        return allocs.stream().filter(a -> a.underTrans() && (a.gfp() & Gfp.FS) != 0
                && (a.gfp() & Gfp.DIRECT_RECLAIM) != 0).count();
    }

    byte[] onDisk(String name) {
        try {
            return Files.readAllBytes(dir.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            store.close();
            assertThat(cache.nrFilePages()).isZero();
            assertThat(cache.validate()).isZero();
            assertThat(mm.validate()).isZero();
        } finally {
            mm.close();
        }
    }
}
