package io.memscope.reclaim;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.locking.HungTaskDetector;
import io.memscope.locking.Mutex;
import io.memscope.page.PageHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * RELIABILITY C4: with lockdep off, the seeds/002 XFS shape under real memory pressure is a real
 * deadlock — the committing task holds the transaction lock, allocates with GFP_KERNEL, enters
 * direct reclaim, and the inode shrinker waits for the transaction lock its own caller holds —
 * and the hung-task watchdog reports it within timeout + check interval, naming the blocked task,
 * the lock's owner and the lock.
 */
class ReclaimDeadlockWatchdogTest {
    @Test
    void theUnsafeTransactionUnderPressureHangsAndTheWatchdogNamesIt() throws Exception {
        try (MemoryManager mm = MemoryManager.builder().memoryBytes(16L << 20).cpuSlots(1).lockdep(false)
                .panicOnWarn(false).build()) {
            Mutex trans = new Mutex(mm.lockdep(), "jfs_trans");
            AtomicLong scans = new AtomicLong();
            Shrinker inodes = mm.shrinkers().register("sb-journal", new ShrinkerCallbacks() {
                @Override public long countObjects(ShrinkControl sc) { return 128; }
                @Override public long scanObjects(ShrinkControl sc) {
                    if ((sc.gfpMask() & Gfp.FS) == 0) {
                        return Shrinker.SHRINK_STOP;
                    }
                    scans.incrementAndGet();
                    trans.lock(); // evicting an inode runs a transaction
                    trans.unlock();
                    return 0;
                }
            });
            // Pin every page the allocator will give without reclaim: memory is now exhausted.
            List<Long> pinned = new ArrayList<>();
            for (long h; (h = mm.allocPages(ReclaimTestMachine.GFP_PIN, 0)) != PageHandle.NULL; ) {
                pinned.add(h);
            }
            try (HungTaskDetector watchdog = new HungTaskDetector(mm.lockdep(), Duration.ofMillis(300),
                    Duration.ofMillis(50), 10).start()) {
                CountDownLatch done = new CountDownLatch(1);
                long[] got = new long[1];
                Thread commit = Thread.ofPlatform().daemon().name("jfs-commit").start(() -> {
                    trans.lock();
                    try {
                        got[0] = mm.allocPages(Gfp.KERNEL, 0); // the transaction's log buffer
                    } finally {
                        trans.unlock();
                        done.countDown();
                    }
                });
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                // kswapd, running the same shrinker, may block on jfs_trans too and be reported first;
                // wait until the committing task's own report is out as well.
                String blocked = "INFO: task jfs-commit:" + commit.threadId() + " blocked for more than";
                while (!(mm.log().dmesg().contains("INFO: deadlock:") && mm.log().dmesg().contains(blocked))
                        && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                String dmesg = mm.log().dmesg();
                assertThat(done.getCount()).as("the commit is stuck").isEqualTo(1);
                assertThat(scans.get()).as("direct reclaim called the shrinker").isPositive();
                assertThat(dmesg).contains("INFO: task jfs-commit:" + commit.threadId() + " blocked for more than",
                        "is blocked on a mutex likely owned by task jfs-commit:" + commit.threadId(),
                        "waiting for lock (jfs_trans)",
                        "INFO: deadlock: task jfs-commit:" + commit.threadId() + " waits for (jfs_trans) owned by task"
                                + " jfs-commit:" + commit.threadId()
                                + ": the task waits for a lock it holds itself and can never proceed.");
                assertThat(mm.lockdep().reportCount()).as("lockdep is off: only the watchdog speaks").isZero();

                // Break the deadlock cleanly: give memory back, then abort the stuck waits until the
                // commit finishes (each reclaim priority calls the shrinker again, which blocks again).
                for (long h : pinned) {
                    mm.freePages(h, 0);
                }
                pinned.clear();
                while (!done.await(10, TimeUnit.MILLISECONDS)) {
                    mm.lockdep().abortAllWaiters();
                }
                commit.join(10_000);
                assertThat(got[0]).as("the allocation completed once memory came back").isNotEqualTo(PageHandle.NULL);
                mm.freePages(got[0], 0);
                inodes.free();
            } finally {
                for (long h : pinned) {
                    mm.freePages(h, 0);
                }
                mm.lockdep().abortAllWaiters(); // never leave a stuck task behind a failed assertion
            }
        }
    }
}
