package io.memscope.cli.scenario;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.locking.Mutex;
import io.memscope.reclaim.ShrinkControl;
import io.memscope.reclaim.Shrinker;
import io.memscope.reclaim.ShrinkerCallbacks;

/**
 * The file system's inode-cache shrinker of the fs_reclaim scenarios (seeds/002): evicting inodes
 * runs transactions, so its scan takes the transaction lock — unless reclaim came without
 * {@code __GFP_FS}, when it stops ({@code super_cache_scan}'s deadlock avoidance). Registering it
 * primes lockdep with "reclaim takes the transaction lock", as the kernel primes {@code fs_reclaim}.
 */
final class FsShrinker {
    private FsShrinker() {}

    /** Registers the {@code sb-journal} shrinker that takes {@code trans} and primes lockdep with it. */
    static Shrinker register(MemoryManager mm, Mutex trans) {
        Shrinker inodes = mm.shrinkers().register("sb-journal", new ShrinkerCallbacks() {
            @Override
            public long countObjects(ShrinkControl sc) {
                return 128;
            }

            @Override
            public long scanObjects(ShrinkControl sc) {
                if ((sc.gfpMask() & Gfp.FS) == 0) {
                    return Shrinker.SHRINK_STOP; // super_cache_scan: deadlock avoidance
                }
                trans.lock(); // evicting inodes runs transactions
                try {
                    return 0;
                } finally {
                    trans.unlock();
                }
            }
        });
        mm.lockdep().fsReclaim().prime("shrinker sb-journal", trans.lockdepMap());
        return inodes;
    }
}
