package io.memscope.cli.scenario;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.locking.Mutex;
import io.memscope.page.PageHandle;
import io.memscope.reclaim.Shrinker;
import io.memscope.sched.Memalloc;
import io.memscope.sched.MemallocScope;
import java.util.ArrayList;
import java.util.List;

/**
 * seeds/002, the XFS shape: "Go look at the XFS shrinkers that will lock inodes, dquots, buffers,
 * etc, run transactions". A file system holds its transaction lock while it allocates; its
 * inode-cache shrinker takes the same lock. If the allocation enters direct reclaim, reclaim calls
 * the shrinker, which waits for the lock its own caller holds.
 *
 * <p>Unsafe: {@code GFP_KERNEL} under the transaction lock. lockdep reports the cycle
 * {@code jfs_trans → fs_reclaim → jfs_trans} on the first such allocation, with memory plentiful:
 * the shrinker's registration primed "reclaim takes jfs_trans" the way the kernel primes
 * {@code fs_reclaim} dependencies. Safe: the scope opens where the transaction lock is taken
 * (seeds/003), so every allocation inside runs as {@code GFP_NOFS} — no report.
 */
final class TransactionLockShrinker implements Scenario {
    @Override
    public String name() {
        return "xfs-transaction";
    }

    @Override
    public String story() {
        return "a transaction lock held across a GFP_KERNEL allocation; the inode shrinker takes it (seeds/002)";
    }

    @Override
    public Result run(Variant variant) {
        List<String> out = new ArrayList<>();
        try (MemoryManager mm = MemoryManager.builder().memoryBytes(64L << 20).lockdep(true).panicOnWarn(false)
                .build()) {
            Mutex trans = new Mutex(mm.lockdep(), "jfs_trans");
            Shrinker inodes = FsShrinker.register(mm, trans);

            long buffer;
            trans.lock();
            try {
                if (variant == Variant.UNSAFE) {
                    buffer = mm.allocPages(Gfp.KERNEL, 0); // the transaction's log buffer
                } else {
                    // Reclaim context: the sb-journal shrinker takes jfs_trans to evict inodes, so
                    // nothing allocated while we hold it may recurse into filesystem reclaim.
                    try (MemallocScope nofs = Memalloc.nofsScope()) {
                        buffer = mm.allocPages(Gfp.KERNEL, 0);
                    }
                }
            } finally {
                trans.unlock();
            }
            if (buffer != PageHandle.NULL) {
                mm.freePages(buffer, 0);
            }
            inodes.free();
            List<String> log = mm.log().lines();
            boolean cycle = log.stream().anyMatch(l -> l.contains("possible circular locking dependency detected"));
            out.addAll(log);
            if (variant == Variant.UNSAFE) {
                return new Result(cycle && log.stream().anyMatch(l -> l.contains("jfs_trans")), out);
            }
            out.add("clean: the NOFS scope at the transaction lock kept reclaim out of the file system;"
                    + " lockdep reports: " + mm.lockdep().reportCount());
            return new Result(!cycle && mm.lockdep().reportCount() == 0, out);
        }
    }
}
