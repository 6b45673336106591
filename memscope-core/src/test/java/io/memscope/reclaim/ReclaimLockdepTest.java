package io.memscope.reclaim;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.locking.Mutex;
import io.memscope.page.PageHandle;
import io.memscope.sched.Memalloc;
import org.junit.jupiter.api.Test;

/**
 * The fs_reclaim deadlock predicted end to end (KERNEL.md T65/T66, seeds/002): a shrinker takes
 * lock L under reclaim (fs_reclaim → L), and a task allocates with GFP_KERNEL while holding L
 * (L → fs_reclaim). No memory pressure is needed: one reclaim pass and one allocation.
 */
class ReclaimLockdepTest {

    private static ReclaimTestMachine machine() {
        return new ReclaimTestMachine(MemoryManager.builder().memoryBytes(64L << 20).cpuSlots(1).panicOnWarn(false)
                .lockdep(true));
    }

    private static Mutex shrinkerTakingL(ReclaimTestMachine m) {
        Mutex l = new Mutex(m.mm.lockdep(), "xfs_ilock");
        m.mm.shrinkers().register("xfs-inodes", DirectReclaimTest.callbacks(sc -> {
            l.lock();
            try {
                return 0;
            } finally {
                l.unlock();
            }
        }));
        return l;
    }

    @Test
    void gfpKernelAllocationUnderALockTheShrinkerTakesIsReported() {
        try (ReclaimTestMachine m = machine()) {
            Mutex l = shrinkerTakingL(m);
            m.tryToFreePages(Gfp.KERNEL); // records fs_reclaim -> xfs_ilock
            l.lock();
            try {
                long h = m.mm.allocPages(Gfp.KERNEL, 0); // records xfs_ilock -> fs_reclaim: cycle
                assertThat(h).isNotEqualTo(PageHandle.NULL);
                m.mm.freePages(h);
            } finally {
                l.unlock();
            }
            String dmesg = m.mm.log().dmesg();
            assertThat(dmesg).contains("WARNING: possible circular locking dependency detected")
                    .contains("fs_reclaim").contains("xfs_ilock");
        }
    }

    @Test
    void theSameAllocationInsideANofsScopeIsNotReported() {
        try (ReclaimTestMachine m = machine()) {
            Mutex l = shrinkerTakingL(m);
            m.tryToFreePages(Gfp.KERNEL);
            l.lock();
            int cookie = Memalloc.memallocNofsSave();
            try {
                long h = m.mm.allocPages(Gfp.KERNEL, 0);
                m.mm.freePages(h);
                h = m.mm.allocPages(Gfp.NOFS, 0);
                m.mm.freePages(h);
            } finally {
                Memalloc.memallocNofsRestore(cookie);
                l.unlock();
            }
            assertThat(m.mm.log().dmesg()).doesNotContain("possible circular locking dependency");
            assertThat(m.mm.lockdep().reportCount()).isZero();
        }
    }
}
