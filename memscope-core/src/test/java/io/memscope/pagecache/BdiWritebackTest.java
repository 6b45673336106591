package io.memscope.pagecache;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.debug.KernelLog;
import io.memscope.sched.Task;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** fs/fs-writeback.c flusher behaviour: queued work, start-all wakeups, background writeback, per-inode budget. */
class BdiWritebackTest {
    private final KernelLog log = new KernelLog(64, false);
    private final AtomicBoolean overBg = new AtomicBoolean();
    private BdiWriteback wb;

    @AfterEach
    void close() {
        if (wb != null) {
            wb.close();
        }
    }

    /** An inode with {@code dirty} pages that records each writepages call. */
    static class Inode implements WritebackTarget {
        final String name;
        final AtomicLong dirty;
        final List<String> calls = new CopyOnWriteArrayList<>();

        Inode(String name, long dirty) {
            this.name = name;
            this.dirty = new AtomicLong(dirty);
        }

        @Override public String name() { return name; }
        @Override public long nrDirtyPages() { return dirty.get(); }
        @Override public long writepages(WritebackControl wbc) {
            int pf = Task.current().flags();
            calls.add(Thread.currentThread().getName() + " " + wbc.syncMode() + " " + wbc.nrToWrite() + " "
                    + wbc.reason().traceName() + ((pf & Task.PF_KTHREAD) != 0 ? " kthread" : ""));
            long n = Math.min(wbc.nrToWrite(), dirty.get());
            dirty.addAndGet(-n);
            wbc.wrote(n);
            return n;
        }
    }

    @Test
    void queuedWorkIsDoneByTheFlusherThreadOldestInodeFirstInBudgetedPasses() throws Exception {
        wb = new BdiWriteback("test", log, overBg::get, 30_000, 60_000);
        Inode a = new Inode("a", 2500);
        Inode b = new Inode("b", 10);
        wb.markInodeDirty(a);
        wb.markInodeDirty(b);
        BdiWriteback.Work w = wb.queueWork(Long.MAX_VALUE, WritebackControl.SyncMode.ALL, WbReason.SYNC);
        assertThat(w.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(w.written()).isEqualTo(2510);
        assertThat(a.dirty).hasValue(0);
        assertThat(a.calls).containsExactly(
                "kworker/flush-test ALL 1024 sync kthread",
                "kworker/flush-test ALL 1024 sync kthread",
                "kworker/flush-test ALL 1024 sync kthread");
        assertThat(b.calls).hasSize(1);
        assertThat(wb.nrDirtyInodes()).isZero();
        assertThat(wb.pagesWritten()).isEqualTo(2510);
    }

    @Test
    void wakeupWritesEverythingWithTheGivenReason() throws Exception {
        wb = new BdiWriteback("vm", log, overBg::get, 30_000, 60_000);
        Inode a = new Inode("a", 40);
        wb.markInodeDirty(a);
        wb.wakeup(WbReason.VMSCAN);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (a.dirty.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        assertThat(a.dirty).hasValue(0);
        assertThat(a.calls.get(0)).isEqualTo("kworker/flush-vm NONE 1024 vmscan kthread");
    }

    @Test
    void backgroundWritebackRunsWhileOverTheBackgroundThreshold() throws Exception {
        wb = new BdiWriteback("bg", log, overBg::get, 30_000, 60_000);
        Inode a = new Inode("a", 5000) {
            @Override public long writepages(WritebackControl wbc) {
                long n = super.writepages(wbc);
                if (dirty.get() <= 2000) {
                    overBg.set(false); // dropped below bg_thresh
                }
                return n;
            }
        };
        wb.markInodeDirty(a);
        overBg.set(true);
        wb.startBackgroundWriteback();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (overBg.get() && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        Thread.sleep(50);
        assertThat(a.calls).allMatch(c -> c.contains(" background"));
        assertThat(a.dirty.get()).as("stops once under the background threshold").isBetween(1L, 2000L);
    }

    @Test
    void periodicFlushWritesOnlyExpiredInodes() throws Exception {
        wb = new BdiWriteback("kupdate", log, overBg::get, 0, 20);
        Inode a = new Inode("a", 3);
        wb.markInodeDirty(a);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (a.dirty.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        assertThat(a.calls.get(0)).contains("periodic");
    }

    @Test
    void closeCompletesQueuedWork() throws Exception {
        wb = new BdiWriteback("closing", log, overBg::get, 30_000, 60_000);
        wb.close();
        BdiWriteback.Work w = wb.queueWork(10, WritebackControl.SyncMode.NONE, WbReason.SYNC);
        assertThat(w.await(1, TimeUnit.SECONDS)).isTrue();
        assertThat(w.written()).isZero();
        assertThat(wb.thread().isAlive()).isFalse();
        wb = null;
    }
}
