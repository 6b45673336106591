package io.memscope.pagecache;

import io.memscope.debug.KernelLog;
import io.memscope.sched.Task;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The flusher of one backing device: {@code struct bdi_writeback} with its worker
 * ({@code wb_workfn} → {@code wb_do_writeback}) of {@code fs/fs-writeback.c}.
 *
 * <p>Current kernels never let page reclaim write dirty file pages itself; reclaim marks them
 * for immediate reclaim and wakes the flushers ({@code wakeup_flusher_threads(WB_REASON_VMSCAN)}),
 * and the flushers write them in file order from a thread that holds no caller's locks. The dirty
 * thresholds wake them too (background writeback above {@code bg_thresh}), and so does time
 * (periodic "kupdate" writeback of data older than {@code dirty_expire_centisecs}).
 *
 * <p>One real platform thread per device, named {@code kworker/flush-<name>}. It runs, in the
 * kernel's order: queued work items (each with a completion the submitter may wait on), a
 * "start all" request, the periodic flush, then background writeback while the device is over
 * its background threshold. Dirty inodes are written oldest-dirtied first, at most
 * {@link #MAX_WRITEBACK_PAGES} pages per inode per pass.
 *
 * <p>Thread-safe. Inodes enter the dirty list through {@link #markInodeDirty} (called when an
 * address space gets its first dirty page) and leave it when a pass finds them clean.
 */
public final class BdiWriteback implements AutoCloseable {
    /** {@code MAX_WRITEBACK_PAGES}: pages written per inode before moving to the next one. */
    public static final long MAX_WRITEBACK_PAGES = 1024;

    /** A unit of queued writeback: {@code struct wb_writeback_work}. */
    public static final class Work {
        final long nrPages;
        final WritebackControl.SyncMode syncMode;
        final WbReason reason;
        final CountDownLatch done = new CountDownLatch(1);
        volatile long written;

        Work(long nrPages, WritebackControl.SyncMode syncMode, WbReason reason) {
            this.nrPages = nrPages;
            this.syncMode = syncMode;
            this.reason = reason;
        }

        /** Waits for the work to finish ({@code wb_wait_for_completion}). */
        public long await() throws InterruptedException {
            done.await();
            return written;
        }

        /** Waits at most {@code timeout}; returns false if still running. */
        public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
            return done.await(timeout, unit);
        }

        /** Pages written by this work item. */
        public long written() {
            return written;
        }
    }

    private final String name;
    private final KernelLog log;
    private final BooleanSupplier overBgThresh;
    private final long dirtyExpireNanos;
    private final long writebackIntervalNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    /** b_dirty: inode → time it was first dirtied (insertion order = oldest first). */
    private final LinkedHashMap<WritebackTarget, Long> dirty = new LinkedHashMap<>();
    private final ArrayDeque<Work> workList = new ArrayDeque<>();
    private final AtomicLong pagesWritten = new AtomicLong();
    private final AtomicLong wakeups = new AtomicLong();
    private WbReason startAllReason;
    private boolean closed;
    private final Thread thread;
    private final LongSupplier clock;

    /**
     * Starts the flusher thread.
     *
     * @param name              device name, used in the thread name
     * @param overBgThresh      {@code wb_over_bg_thresh()}: dirty pages above the background threshold
     * @param dirtyExpireMillis {@code dirty_expire_centisecs} × 10 (kernel default 30 000)
     * @param writebackIntervalMillis {@code dirty_writeback_centisecs} × 10 (kernel default 5 000)
     */
    public BdiWriteback(String name, KernelLog log, BooleanSupplier overBgThresh, long dirtyExpireMillis,
            long writebackIntervalMillis) {
        this.name = Objects.requireNonNull(name);
        this.log = Objects.requireNonNull(log);
        this.overBgThresh = Objects.requireNonNull(overBgThresh);
        this.dirtyExpireNanos = TimeUnit.MILLISECONDS.toNanos(dirtyExpireMillis);
        this.writebackIntervalNanos = TimeUnit.MILLISECONDS.toNanos(writebackIntervalMillis);
        this.clock = System::nanoTime;
        this.thread = Thread.ofPlatform().daemon().name("kworker/flush-" + name).start(this::workfn);
    }

    /** The device name. */
    public String name() {
        return name;
    }

    /** The flusher thread (for tests and the watchdog). */
    public Thread thread() {
        return thread;
    }

    /** Pages written by this flusher since start. */
    public long pagesWritten() {
        return pagesWritten.get();
    }

    /** Times the flusher was woken by a request. */
    public long wakeups() {
        return wakeups.get();
    }

    /** {@code __mark_inode_dirty()}: puts the inode on the dirty list if it is not there yet. */
    public void markInodeDirty(WritebackTarget inode) {
        lock.lock();
        try {
            dirty.putIfAbsent(inode, clock.getAsLong());
        } finally {
            lock.unlock();
        }
    }

    /** Removes an inode from the dirty list (it is being evicted). */
    public void forgetInode(WritebackTarget inode) {
        lock.lock();
        try {
            dirty.remove(inode);
        } finally {
            lock.unlock();
        }
    }

    /** Inodes on the dirty list. */
    public int nrDirtyInodes() {
        lock.lock();
        try {
            return dirty.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code wakeup_flusher_threads()} / {@code wb_start_writeback()}: asks the flusher to write
     * all dirty pages; returns at once. Repeated requests before the flusher runs coalesce.
     */
    public void wakeup(WbReason reason) {
        lock.lock();
        try {
            if (startAllReason == null) {
                startAllReason = reason;
            }
            wakeups.incrementAndGet();
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** {@code wb_start_background_writeback()}: wakes the flusher to check the background threshold. */
    public void startBackgroundWriteback() {
        lock.lock();
        try {
            wakeups.incrementAndGet();
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code wb_queue_work()}: queues {@code nrPages} of writeback and returns the work item, on
     * which the caller may wait (as {@code writeback_inodes_sb} and {@code sync_inodes_sb} do).
     */
    public Work queueWork(long nrPages, WritebackControl.SyncMode syncMode, WbReason reason) {
        Work w = new Work(nrPages, syncMode, reason);
        lock.lock();
        try {
            if (closed) {
                w.done.countDown();
                return w;
            }
            workList.add(w);
            wake.signalAll();
        } finally {
            lock.unlock();
        }
        return w;
    }

    private void workfn() {
        // Flushers are kernel worker threads: never throttled by reclaim, never OOM victims.
        Task.current().becomeKernelThread(Task.PF_WQ_WORKER);
        long lastOldFlush = clock.getAsLong();
        while (true) {
            Work work;
            WbReason startAll;
            lock.lock();
            try {
                while (!closed && workList.isEmpty() && startAllReason == null && !overBgThreshSafe()
                        && clock.getAsLong() - lastOldFlush < writebackIntervalNanos) {
                    try {
                        wake.awaitNanos(Math.max(1, writebackIntervalNanos - (clock.getAsLong() - lastOldFlush)));
                    } catch (InterruptedException e) {
                        if (closed) {
                            break;
                        }
                    }
                }
                if (closed) {
                    for (Work w : workList) {
                        w.done.countDown();
                    }
                    workList.clear();
                    return;
                }
                work = workList.poll();
                startAll = startAllReason;
                if (work == null) {
                    startAllReason = null;
                }
            } finally {
                lock.unlock();
            }
            try {
                if (work != null) {
                    work.written = writeback(work.nrPages, work.syncMode, work.reason, false, false, 0);
                    work.done.countDown();
                    continue;
                }
                if (startAll != null) {
                    writeback(Long.MAX_VALUE, WritebackControl.SyncMode.NONE, startAll, false, false, 0);
                }
                long now = clock.getAsLong();
                if (now - lastOldFlush >= writebackIntervalNanos) {
                    lastOldFlush = now;
                    writeback(Long.MAX_VALUE, WritebackControl.SyncMode.NONE, WbReason.PERIODIC, true, false,
                            now - dirtyExpireNanos);
                }
                if (overBgThreshSafe()) {
                    writeback(Long.MAX_VALUE, WritebackControl.SyncMode.NONE, WbReason.BACKGROUND, false, true, 0);
                }
            } catch (RuntimeException e) {
                if (work != null) {
                    work.done.countDown();
                }
                log.printk(KernelLog.Level.ERR, "kworker/flush-" + name + ": writeback failed: " + e);
            }
        }
    }

    private boolean overBgThreshSafe() {
        try {
            return overBgThresh.getAsBoolean();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * {@code wb_writeback()}: writes dirty inodes oldest first, at most MAX_WRITEBACK_PAGES per
     * inode per pass, until {@code nrPages} are written, nothing is left, or (for background
     * work) the device drops below its background threshold.
     *
     * @param olderThan for kupdate work: only inodes first dirtied before this time
     */
    private long writeback(long nrPages, WritebackControl.SyncMode mode, WbReason reason, boolean kupdate,
            boolean background, long olderThan) {
        long total = 0;
        while (total < nrPages) {
            if (background && total > 0 && !overBgThreshSafe()) {
                break;
            }
            List<WritebackTarget> io = new ArrayList<>();
            lock.lock();
            try {
                // queue_io(): move eligible inodes from b_dirty to b_io.
                for (Map.Entry<WritebackTarget, Long> e : dirty.entrySet()) {
                    if (!kupdate || e.getValue() <= olderThan) {
                        io.add(e.getKey());
                    }
                }
            } finally {
                lock.unlock();
            }
            if (io.isEmpty()) {
                break;
            }
            long pass = 0;
            for (WritebackTarget inode : io) {
                long budget = Math.min(MAX_WRITEBACK_PAGES, nrPages - total - pass);
                if (budget <= 0) {
                    break;
                }
                WritebackControl wbc = WritebackControl.of(mode, budget).reason(reason)
                        .forKupdate(kupdate).forBackground(background).rangeCyclic(true);
                long n = inode.writepages(wbc);
                pass += n;
                if (inode.nrDirtyPages() == 0) {
                    lock.lock();
                    try {
                        dirty.remove(inode);
                    } finally {
                        lock.unlock();
                    }
                }
            }
            total += pass;
            pagesWritten.addAndGet(pass);
            if (pass == 0) {
                break; // nothing could be written now (all busy or refused)
            }
        }
        return total;
    }

    /** Stops the flusher; queued work is completed without being done. Waits for the thread. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
        // No interrupt: an interrupt during FileChannel I/O would close the client's channel.
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
