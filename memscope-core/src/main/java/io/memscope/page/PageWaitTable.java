package io.memscope.page;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Sleeping on a page's flag bits: the hashed {@code folio_wait_table} of {@code mm/filemap.c}
 * behind {@code folio_lock()}, {@code folio_unlock()}, {@code folio_wait_bit()} and
 * {@code folio_wait_writeback()}.
 *
 * <p>A page's {@code PG_locked} bit is its lock: {@link #trylockPage} sets it atomically;
 * {@link #lockPage} sleeps until it can. Threads waiting for any bit of any page sleep on one of
 * {@value #BUCKETS} hashed wait queues, so waiting costs nothing per page.
 *
 * <p><b>No lost wake-up.</b> A waiter announces itself (increments its bucket's waiter count,
 * a volatile write) and only then re-checks the bit under the bucket lock; a waker clears the bit
 * (a fully ordered RMW) and only then reads the waiter count. With both orders sequentially
 * consistent, either the waiter sees the bit clear, or the waker sees the waiter and signals under
 * the lock — which the waiter holds from its check until it is inside {@code await}. The waiter
 * count also keeps the common unlock without waiters to one atomic and one volatile read, the job
 * the kernel's {@code PG_waiters} bit does.
 */
public final class PageWaitTable {
    /** {@code PAGE_WAIT_TABLE_SIZE}. */
    public static final int BUCKETS = 256;

    private final PageTable pt;
    private final ReentrantLock[] locks = new ReentrantLock[BUCKETS];
    private final Condition[] queues = new Condition[BUCKETS];
    private final AtomicIntegerArray waiters = new AtomicIntegerArray(BUCKETS);

    public PageWaitTable(PageTable pt) {
        this.pt = pt;
        for (int i = 0; i < BUCKETS; i++) {
            locks[i] = new ReentrantLock();
            queues[i] = locks[i].newCondition();
        }
    }

    private static int bucket(int pfn) {
        int h = pfn * 0x9E3779B9;
        return h >>> 24;
    }

    /** {@code folio_trylock()}: true when the caller now holds the page lock. Never sleeps. */
    public boolean trylockPage(int pfn) {
        return !pt.testAndSetPageFlag(pfn, PageTableDescriptor.FLAG_LOCKED);
    }

    /** {@code folio_lock()}: takes the page lock, sleeping while another thread holds it. May sleep. */
    public void lockPage(int pfn) {
        if (!trylockPage(pfn)) {
            sleepOn(pfn, PageTableDescriptor.FLAG_LOCKED, true);
        }
    }

    /** {@code folio_unlock()}: releases the page lock (release semantics) and wakes waiters. */
    public void unlockPage(int pfn) {
        clearBitAndWake(pfn, PageTableDescriptor.FLAG_LOCKED);
    }

    /**
     * Clears {@code flag} and wakes everyone waiting on this page's bucket
     * ({@code folio_end_writeback}'s {@code folio_wake_bit}, {@code folio_unlock}).
     */
    public void clearBitAndWake(int pfn, int flag) {
        pt.clearPageFlagRelease(pfn, flag);
        wake(pfn);
    }

    /** Wakes the waiters of {@code pfn}'s bucket after the caller changed a bit itself. */
    public void wake(int pfn) {
        int b = bucket(pfn);
        // Full fence between the bit change above and the waiter-count read below (Dekker).
        java.lang.invoke.VarHandle.fullFence();
        if (waiters.get(b) == 0) {
            return;
        }
        ReentrantLock l = locks[b];
        l.lock();
        try {
            queues[b].signalAll();
        } finally {
            l.unlock();
        }
    }

    /** {@code folio_wait_bit()}: sleeps until {@code flag} is clear on {@code pfn}. May sleep. */
    public void waitOnPageBit(int pfn, int flag) {
        if (pt.testPageFlag(pfn, flag)) {
            sleepOn(pfn, flag, false);
        }
    }

    /**
     * {@code folio_wait_bit_common()}: sleeps on {@code pfn}'s bucket until {@code flag} is clear,
     * and — when {@code take} — until this thread has set it again (the lock case). The waiter
     * count goes up before the bit is re-checked under the bucket lock (see the class comment).
     */
    private void sleepOn(int pfn, int flag, boolean take) {
        int b = bucket(pfn);
        waiters.incrementAndGet(b);
        ReentrantLock l = locks[b];
        l.lock();
        try {
            while (take ? pt.testAndSetPageFlag(pfn, flag) : pt.testPageFlag(pfn, flag)) {
                queues[b].awaitUninterruptibly();
            }
        } finally {
            l.unlock();
            waiters.decrementAndGet(b);
        }
    }

    /** {@code folio_wait_writeback()}. */
    public void waitOnPageWriteback(int pfn) {
        waitOnPageBit(pfn, PageTableDescriptor.FLAG_WRITEBACK);
    }

    /** Threads currently waiting on any page (for tests and the watchdog). */
    public int waiters() {
        int n = 0;
        for (int i = 0; i < BUCKETS; i++) {
            n += waiters.get(i);
        }
        return n;
    }
}
