package io.memscope.pagecache;

import io.memscope.sched.Jiffies;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Keeps writers from dirtying memory faster than it can be written back:
 * {@code balance_dirty_pages_ratelimited()} and {@code balance_dirty_pages()} of
 * {@code mm/page-writeback.c}.
 *
 * <p>After dirtying pages a writer calls {@link #balanceDirtyPagesRatelimited}; every
 * {@value #RATELIMIT_PAGES} pages it dirtied (every {@value #EXCEEDED_RATELIMIT} while the limit is
 * exceeded, the kernel's {@code nr_dirtied_pause} and {@code dirty_exceeded} shortcut) it checks
 * the machine's dirty pages ({@code NR_FILE_DIRTY + NR_WRITEBACK}) against {@link DirtyLimits}:
 * <ul>
 *   <li>above {@code bg_thresh}: wakes the device's flusher for background writeback;</li>
 *   <li>at or below the freerun ceiling {@code (thresh + bg_thresh) / 2}: returns at once;</li>
 *   <li>above it: sleeps one bounded pause; and while above {@code thresh} keeps pausing until
 *       writeback brings the count down (the kernel loops the same way, killably).</li>
 * </ul>
 *
 * <p><b>Simplification of the kernel's rate math.</b> The kernel sizes each pause from the
 * device's estimated write bandwidth, a "balanced dirty ratelimit" and a position ratio that
 * falls off as a cubic around the set point, aiming at a smooth per-task dirtying rate. memscope
 * keeps the shape but not the estimator: the pause grows linearly with how far the dirty count is
 * between the freerun ceiling and {@code thresh}, from one jiffy to {@link #MAX_PAUSE_JIFFIES}
 * ({@code MAX_PAUSE}, {@code HZ/5}), and a sleeping writer is woken early when a page finishes
 * writeback (the kernel sleeps the full pause). Thresholds come from the global domain only (no
 * per-device share, no memcg domain).
 *
 * <p>Callers must hold no lock that write-back needs (a file system calls this after ending its
 * transaction, as {@code generic_perform_write} runs outside the journal), or the flusher and the
 * writer wait on each other. Thread-safe.
 */
public final class DirtyThrottle {
    /** {@code nr_dirtied_pause} of a new task: {@code 128 >> (PAGE_SHIFT - 10)} pages. */
    public static final int RATELIMIT_PAGES = 32;
    /** The ratelimit while the limit is exceeded: {@code 32 >> (PAGE_SHIFT - 10)} pages. */
    public static final int EXCEEDED_RATELIMIT = 8;
    /** {@code MAX_PAUSE}: the longest single pause, {@code HZ/5} jiffies (200 ms). */
    public static final long MAX_PAUSE_JIFFIES = Jiffies.HZ / 5;

    private final PageCache cache;
    /** {@code current->nr_dirtied}: pages the thread dirtied since its last check. */
    private final ThreadLocal<int[]> nrDirtied = ThreadLocal.withInitial(() -> new int[1]);
    private volatile boolean dirtyExceeded;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition progress = lock.newCondition();
    private final AtomicInteger sleepers = new AtomicInteger();
    private final AtomicLong pauses = new AtomicLong();
    private final AtomicLong backgroundWakeups = new AtomicLong();

    DirtyThrottle(PageCache cache) {
        this.cache = cache;
    }

    void pageDirtied() {
        nrDirtied.get()[0]++;
    }

    void pageUndirtied() {
        nrDirtied.get()[0]--;
    }

    /** Pauses taken by writers so far. */
    public long pauses() {
        return pauses.get();
    }

    /** Writers sleeping in a pause right now. */
    public int throttled() {
        return sleepers.get();
    }

    /** Times a writer woke a flusher for background writeback. */
    public long backgroundWakeups() {
        return backgroundWakeups.get();
    }

    /** {@code wb->dirty_exceeded}: the last check found dirty pages above {@code thresh}. */
    public boolean dirtyExceeded() {
        return dirtyExceeded;
    }

    /**
     * {@code balance_dirty_pages_ratelimited()}: cheap unless this thread dirtied enough pages
     * since its last check; then {@link #balanceDirtyPages}. May sleep.
     */
    public void balanceDirtyPagesRatelimited(AddressSpace mapping) {
        if (!mapping.canWriteback()) {
            return;
        }
        int[] n = nrDirtied.get();
        int ratelimit = dirtyExceeded ? EXCEEDED_RATELIMIT : RATELIMIT_PAGES;
        if (n[0] < ratelimit) {
            return;
        }
        n[0] = 0;
        balanceDirtyPages(mapping);
    }

    /**
     * {@code balance_dirty_pages()}: wakes background writeback above {@code bg_thresh}, and
     * pauses the caller above the freerun ceiling — once when below {@code thresh}, repeatedly
     * while above it. May sleep (bounded pauses of at most {@link #MAX_PAUSE_JIFFIES} each).
     */
    public void balanceDirtyPages(AddressSpace mapping) {
        if (!mapping.canWriteback()) {
            return;
        }
        while (true) {
            DirtyLimits limits = cache.dirtyLimits();
            long reclaimable = cache.nrDirty();
            long dirty = reclaimable + cache.nrWriteback();
            if (reclaimable > limits.bgThresh()) {
                backgroundWakeups.incrementAndGet();
                mapping.bdi().startBackgroundWriteback();
            }
            long freerun = limits.freerunCeiling();
            if (dirty <= freerun) {
                dirtyExceeded = false;
                return;
            }
            boolean exceeded = dirty > limits.thresh();
            dirtyExceeded = exceeded;
            if (!pause(pauseJiffies(dirty, freerun, limits.thresh())) || !exceeded) {
                return;
            }
        }
    }

    /** Linear in the position between the freerun ceiling and the limit, clamped to [1, MAX_PAUSE]. */
    static long pauseJiffies(long dirty, long freerun, long thresh) {
        long span = Math.max(1, thresh - freerun);
        long j = (MAX_PAUSE_JIFFIES * (dirty - freerun) + span - 1) / span;
        return Math.clamp(j, 1, MAX_PAUSE_JIFFIES);
    }

    /** Sleeps one pause; false when the thread was interrupted (a "fatal signal": stop throttling it). */
    private boolean pause(long jiffies) {
        pauses.incrementAndGet();
        lock.lock();
        try {
            // Counted under the lock: writebackProgress() that sees the count signals under the same
            // lock, which awaitNanos releases only once we wait. A completion that read the count
            // just before costs at most this one bounded pause.
            sleepers.incrementAndGet();
            progress.awaitNanos(Jiffies.toNanos(jiffies));
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            sleepers.decrementAndGet();
            lock.unlock();
        }
    }

    /** A page finished writeback: ends the pauses of sleeping writers so they re-check. */
    void writebackProgress() {
        if (sleepers.get() == 0) {
            return;
        }
        lock.lock();
        try {
            progress.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
