package io.memscope.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memscope.gfp.Gfp;
import io.memscope.locking.FsReclaim;
import io.memscope.pagecache.PageCacheNoMemoryException;
import io.memscope.sched.Memalloc;
import io.memscope.sched.MemallocScope;
import io.memscope.sched.Task;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The reference client: data path, journal, the sb-journal shrinker's gate, the two variants, D2 sweeps. */
class JournalStoreTest {

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void writeFsyncReadAndTheJournal() {
        try (JournalFixture fx = new JournalFixture(JournalOptions.safe())) {
            JournalFile f = fx.store.open("a.dat");
            byte[] data = random(3 * 4096 + 77, JournalFixture.SEED);
            fx.store.write(f, 0, data);
            assertThat(fx.store.runningBuffers()).isEqualTo(1);
            fx.store.fsync(f);
            assertThat(fx.onDisk("a.dat")).isEqualTo(data);
            assertThat(fx.store.runningBuffers()).isZero();
            String journal = new String(fx.onDisk("journal.log"), StandardCharsets.UTF_8);
            assertThat(journal).contains("W a.dat 0 " + data.length + "\n").contains("B a.dat 0\n").endsWith("C 1\n");
            byte[] back = new byte[data.length];
            assertThat(fx.store.read(f, 0, back)).isEqualTo(data.length);
            assertThat(back).isEqualTo(data);
            fx.store.close(f);
        }
    }

    @Test
    void shrinkerDoesNoWorkWithoutGfpFs_deferredWorkGrows() {
        try (JournalFixture fx = new JournalFixture(JournalOptions.safe())) {
            for (int i = 0; i < 5; i++) {
                fx.store.close(fx.store.open("f" + i));
            }
            assertThat(fx.store.cachedInodes()).isEqualTo(5);
            long freed;
            try (MemallocScope reclaim = Memalloc.noreclaimScope()) {
                freed = fx.shrinkers.shrinkSlab(Gfp.NOFS, 0, 0);
                assertThat(freed).isZero();
                long deferred = fx.store.shrinker().nrDeferred(0);
                assertThat(deferred).as("GFP_NOFS work is deferred").isPositive();
                try (MemallocScope nofs = Memalloc.nofsScope()) {
                    freed = fx.shrinkers.shrinkSlab(Memalloc.currentGfpContext(Gfp.KERNEL), 0, 0);
                }
                assertThat(freed).as("GFP_KERNEL inside a NOFS scope is GFP_NOFS").isZero();
                assertThat(fx.store.shrinker().nrDeferred(0)).as("still deferred (capped at 2 x freeable)")
                        .isGreaterThanOrEqualTo(deferred);
                assertThat(fx.store.cachedInodes()).isEqualTo(5);
                freed = fx.shrinkers.shrinkSlab(Gfp.KERNEL, 0, 0);
            }
            assertThat(freed).as("kswapd-like GFP_KERNEL does the work").isEqualTo(5);
            assertThat(fx.store.cachedInodes()).isZero();
        }
    }

    /** kswapd's pass: holds fs_reclaim and runs the shrinkers with GFP_KERNEL (records fs_reclaim → jfs_trans). */
    private static void kswapdPass(JournalFixture fx) throws InterruptedException {
        Thread t = Thread.ofPlatform().name("kswapd0").start(() -> {
            Task.current().becomeKernelThread(Task.PF_MEMALLOC | Task.PF_KSWAPD);
            try (FsReclaim.Section s = fx.lockdep.fsReclaim().enterUnconditional("kswapd0")) {
                s.context("shrinker sb-journal");
                fx.shrinkers.shrinkSlab(Gfp.KERNEL, 0, 0);
            }
        });
        t.join();
    }

    @Test
    void unsafeVariantAllocatesWithFsUnderTheLockAndLockdepReportsIt() throws InterruptedException {
        try (JournalFixture fx = new JournalFixture(JournalOptions.unsafe())) {
            fx.store.close(fx.store.open("idle"));
            kswapdPass(fx);
            JournalFile f = fx.store.open("hot");
            fx.store.write(f, 0, random(4096, 1));
            assertThat(fx.fsAllocsUnderTrans()).as("GFP_KERNEL under jfs_trans").isPositive();
            assertThat(fx.lockdep.reportCount()).isPositive();
            assertThat(fx.lockdepLog.dmesg()).contains("possible circular locking dependency detected")
                    .contains("jfs_trans").contains("fs_reclaim");
            fx.store.close(f);
        }
    }

    @Test
    void safeVariantNeverAllocatesWithFsUnderTheLock_noReport() throws InterruptedException {
        try (JournalFixture fx = new JournalFixture(JournalOptions.safe())) {
            fx.store.close(fx.store.open("idle"));
            kswapdPass(fx);
            JournalFile f = fx.store.open("hot");
            fx.store.write(f, 0, random(3 * 4096, 2));
            fx.store.fsync(f);
            assertThat(fx.allocs.stream().anyMatch(JournalFixture.Alloc::underTrans)).isTrue();
            assertThat(fx.fsAllocsUnderTrans()).isZero();
            assertThat(fx.lockdep.reportCount()).isZero();
            fx.store.close(f);
        }
    }

    @Test
    void writepagesWithoutItsScopeIsReported_withItIsNot() throws InterruptedException {
        for (boolean scoped : new boolean[] {false, true}) {
            try (JournalFixture fx = new JournalFixture(new JournalOptions(true, scoped))) {
                fx.store.close(fx.store.open("idle"));
                kswapdPass(fx);
                JournalFile f = fx.store.open("wb");
                f.mapping().performWrite(0, random(2 * 4096, 3), 0, 2 * 4096); // dirty pages, no transaction
                fx.store.fsync(f); // writepages: jfs_trans + pages under writeback + a journal buffer
                assertThat(fx.lockdep.reportCount()).as("scopedWriteback=%s", scoped).isEqualTo(scoped ? 0 : 1);
                fx.store.close(f);
            }
        }
    }

    @Test
    void failNthSweep_write_D2() {
        try (JournalFixture fx = new JournalFixture(JournalOptions.safe())) {
            JournalFile f = fx.store.open("d2");
            byte[] data = random(4096, 4);
            Task t = Task.current();
            t.setFailNth(1);
            assertThatThrownBy(() -> fx.store.write(f, 0, data)).isInstanceOf(JournalNoMemoryException.class);
            t.setFailNth(0);
            assertThat(fx.store.runningBuffers()).isZero();
            assertThat(f.mapping().nrpages()).isZero();
            assertThat(fx.mm.validate()).isZero();
            t.setFailNth(2);
            assertThatThrownBy(() -> fx.store.write(f, 0, data)).isInstanceOf(PageCacheNoMemoryException.class);
            t.setFailNth(0);
            assertThat(f.mapping().nrpages()).isZero();
            assertThat(fx.cache.validate()).isZero();
            t.setFailNth(3);
            fx.store.write(f, 0, data);
            t.setFailNth(0);
            fx.store.fsync(f);
            assertThat(fx.onDisk("d2")).isEqualTo(data);
            fx.store.close(f);
        }
    }

    @Test
    void failNthSweep_writeback_D2() {
        try (JournalFixture fx = new JournalFixture(JournalOptions.safe())) {
            JournalFile f = fx.store.open("d2wb");
            byte[] data = random(3 * 4096, 5);
            fx.store.write(f, 0, data);
            Task t = Task.current();
            // WB_SYNC_NONE: the log-buffer allocation fails, the page is redirtied, nothing is lost.
            t.setFailNth(1);
            assertThat(f.mapping().filemapFlush()).isZero();
            t.setFailNth(0);
            assertThat(fx.cache.nrDirty()).isEqualTo(3);
            assertThat(fx.cache.nrWriteback()).isZero();
            assertThat(fx.cache.validate()).isZero();
            // WB_SYNC_ALL: fail the 1st, 2nd, ... allocation; do_writepages retries -ENOMEM.
            for (int n = 1; n <= 3; n++) {
                long injected = fx.fail.attr().injectedCount();
                fx.store.write(f, 0, data);
                t.setFailNth(n);
                fx.store.fsync(f);
                t.setFailNth(0);
                assertThat(fx.onDisk("d2wb")).isEqualTo(data);
                assertThat(fx.cache.nrDirty()).isZero();
                assertThat(fx.cache.validate()).isZero();
                assertThat(fx.mm.validate()).isZero();
                if (fx.fail.attr().injectedCount() == injected) {
                    break; // succeeded without injection: the sweep is complete
                }
            }
            fx.store.close(f);
        }
    }
}
