package io.memscope.cli.scenario;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.locking.Mutex;
import io.memscope.reclaim.Shrinker;
import io.memscope.vmalloc.VmArea;
import java.util.ArrayList;
import java.util.List;

/**
 * seeds/003, "What about __vmalloc(GFP_NOFS)": vmalloc allocates its page tables with a hard-coded
 * {@code GFP_KERNEL}, so a file system that calls {@code __vmalloc(size, GFP_NOFS)} under its
 * transaction lock can still recurse into its own shrinker through reclaim.
 *
 * <p>Unsafe: a machine with {@code legacyVmallocGfp} (vmalloc before Linux 5.17) — lockdep reports
 * {@code jfs_trans → fs_reclaim → jfs_trans} on the first vmalloc, with memory plentiful, because
 * the page-table allocation inside it still carries {@code __GFP_FS}. Safe: the current kernel's
 * vmalloc turns the caller's {@code GFP_NOFS} into a {@code memalloc_nofs_save} scope around the
 * mapping ({@code memalloc_apply_gfp_scope}), so the same call is clean — which is exactly the cure
 * the seed asks for, applied inside vmalloc.
 */
final class VmallocNofs implements Scenario {
    @Override
    public String name() {
        return "vmalloc-nofs";
    }

    @Override
    public String story() {
        return "__vmalloc(GFP_NOFS) under a lock the fs shrinker takes; page tables use GFP_KERNEL inside (seeds/003)";
    }

    @Override
    public Result run(Variant variant) {
        List<String> out = new ArrayList<>();
        try (MemoryManager mm = MemoryManager.builder().memoryBytes(64L << 20).lockdep(true).panicOnWarn(false)
                .legacyVmallocGfp(variant == Variant.UNSAFE).build()) {
            Mutex trans = new Mutex(mm.lockdep(), "jfs_trans");
            Shrinker inodes = FsShrinker.register(mm, trans);

            VmArea log;
            trans.lock();
            try {
                // The journal's log buffer: too big for kmalloc, so the file system asks vmalloc,
                // and passes GFP_NOFS because it holds the transaction lock.
                log = mm.vmalloc().vmallocGfp(256 << 10, Gfp.NOFS);
            } finally {
                trans.unlock();
            }
            if (log != null) {
                mm.vmalloc().vfree(log);
            }
            inodes.free();
            List<String> lines = mm.log().lines();
            boolean cycle = lines.stream().anyMatch(l -> l.contains("possible circular locking dependency detected"));
            out.addAll(lines);
            if (variant == Variant.UNSAFE) {
                return new Result(cycle && lines.stream().anyMatch(l -> l.contains("jfs_trans")), out);
            }
            out.add("clean: vmalloc opened a NOFS scope for its page tables (memalloc_apply_gfp_scope, Linux 5.17+);"
                    + " lockdep reports: " + mm.lockdep().reportCount());
            return new Result(!cycle && mm.lockdep().reportCount() == 0, out);
        }
    }
}
