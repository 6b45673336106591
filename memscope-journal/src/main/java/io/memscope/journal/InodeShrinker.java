package io.memscope.journal;

import io.memscope.gfp.Gfp;
import io.memscope.reclaim.ShrinkControl;
import io.memscope.reclaim.Shrinker;
import io.memscope.reclaim.ShrinkerCallbacks;

/**
 * The {@code sb-journal} shrinker: frees unused inodes of a {@link JournalStore}, the counterpart
 * of {@code super_cache_count()}/{@code super_cache_scan()} ({@code fs/super.c}) with an XFS-style
 * scan that runs a transaction.
 *
 * <p>{@link #countObjects} never takes {@code jfs_trans} and does not look at {@code __GFP_FS}
 * (neither does {@code super_cache_count}). {@link #scanObjects} returns {@code SHRINK_STOP}
 * without {@code __GFP_FS} — "Deadlock avoidance. We may hold various FS locks, and we don't want
 * to recurse into the FS that called us" — so the work is deferred to a caller that may enter the
 * file system (kswapd); otherwise it takes {@code jfs_trans} (blocking) and evicts clean unused
 * inodes, oldest first.
 */
final class InodeShrinker implements ShrinkerCallbacks {
    private final JournalStore store;

    InodeShrinker(JournalStore store) {
        this.store = store;
    }

    @Override
    public long countObjects(ShrinkControl sc) {
        long n = store.countUnused();
        return n == 0 ? Shrinker.SHRINK_EMPTY : n;
    }

    @Override
    public long scanObjects(ShrinkControl sc) {
        if ((sc.gfpMask() & Gfp.FS) == 0) {
            return Shrinker.SHRINK_STOP;
        }
        try (JournalStore.Transaction t = store.beginTransaction()) {
            return store.pruneInodes(sc.nrToScan());
        }
    }
}
