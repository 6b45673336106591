package io.memscope.journal;

/**
 * How the store protects its transaction lock from reclaim recursion — the two ways the seed
 * scenarios run it.
 *
 * @param scopedTransactions open {@code Memalloc.nofsScope()} wherever {@code jfs_trans} is taken,
 *                           so every allocation made while it is held loses {@code __GFP_FS}
 *                           (the safe variant; the unsafe one allocates with {@code GFP_KERNEL} and
 *                           the mapping's {@code __GFP_FS} mask under the lock)
 * @param scopedWriteback    run {@code ->writepages} inside {@code Memalloc.nofsScope()}
 *                           ("->writepages should be under memalloc_nofs_save", seeds/002)
 */
public record JournalOptions(boolean scopedTransactions, boolean scopedWriteback) {
    /** Both scopes: the store can never recurse into itself through reclaim. */
    public static JournalOptions safe() {
        return new JournalOptions(true, true);
    }

    /** No scopes: the XFS-shaped deadlock of seeds/002 is possible (and lockdep reports it). */
    public static JournalOptions unsafe() {
        return new JournalOptions(false, false);
    }
}
