package io.memscope.mempool;

import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A memory pool: a reserve of preallocated elements that guarantees forward progress to
 * allocations that must not fail, even under extreme memory pressure. memscope's
 * {@code mempool_t} ({@code mm/mempool.c}, {@code include/linux/mempool.h}).
 *
 * <p><b>Elements are {@code long} handles.</b> memscope's allocators hand out {@code long}
 * handles (pages, kmalloc objects, vmalloc areas), so the pool stores them in a primitive
 * {@code long[]}: no boxing, no Java object per element, and the alloc and free paths allocate
 * nothing (see {@code MempoolBenchmark}). {@link #NULL} (0) plays the kernel's {@code NULL}; a
 * backing allocator must never hand out 0 as a valid element. Helpers for pages, slab caches
 * and kmalloc are thin adapters: an {@link AllocFn} that calls the allocator with the given GFP
 * mask and returns 0 on failure, and the matching {@link FreeFn}.
 *
 * <p><b>How it works.</b> {@link #mempoolAlloc} first asks the backing allocator, with flags
 * that keep it from dipping into the emergency reserves, retrying or warning; on the first
 * pass it may not sleep or start I/O either. Only when that fails does it take an element from
 * the reserve (LIFO). When the reserve is empty too, a caller that may sleep waits for an
 * element to be returned (or for {@code waitNanos}, after which the allocator is tried again)
 * and loops: <em>a sleeping {@code mempoolAlloc} never fails</em>. {@link #mempoolFree}
 * refills the reserve first and only frees to the backing allocator when it is full. Forward
 * progress therefore relies on every user returning its elements, and on no user holding more
 * than {@code minNr} at once while it waits for more.
 *
 * <p><b>Invariants</b>, under {@code lock}: {@code 0 <= currNr <= max(1, minNr) <=
 * elements.length}; {@code elements[0..currNr)} are the reserve. {@code outstanding} is the
 * number of elements handed out by this pool and not yet returned; {@link #destroy} requires it
 * to be 0.
 *
 * <p><b>Context.</b> Alloc and free may be called from any thread; a blocking mask from an
 * atomic context is reported (the kernel's {@code might_alloc}). {@link #create},
 * {@link #mempoolResize} and {@link #destroy} may sleep (through the backing allocator).
 *
 * <p><b>Memory-ordering names</b> (JCTools style): {@code lo*} loads opaque ({@code READ_ONCE}),
 * {@code so*} stores with release; plain fields are only touched under {@code lock}.
 */
public final class LongMempool {
    /** The "no element" handle, the kernel's {@code NULL}. */
    public static final long NULL = 0L;

    /** {@code mempool_alloc_t}: allocates one element with the given GFP mask, or returns {@link #NULL}. */
    @FunctionalInterface
    public interface AllocFn {
        long alloc(int gfp);
    }

    /** {@code mempool_free_t}: gives one element back to the backing allocator. */
    @FunctionalInterface
    public interface FreeFn {
        void free(long element);
    }

    private static final VarHandle CURR_NR;
    private static final VarHandle MIN_NR;
    private static final VarHandle OUTSTANDING;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            CURR_NR = l.findVarHandle(LongMempool.class, "currNr", int.class);
            MIN_NR = l.findVarHandle(LongMempool.class, "minNr", int.class);
            OUTSTANDING = l.findVarHandle(LongMempool.class, "outstanding", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final MempoolConfig config;
    private final KernelLog log;
    private final AllocFn allocFn;
    private final FreeFn freeFn;
    private final MempoolChecks checks;
    /** {@code pool->lock}; also the wait queue's lock, so a waiter cannot miss a wake-up. */
    private final ReentrantLock lock = new ReentrantLock();
    /** {@code pool->wait}. */
    private final Condition wait = lock.newCondition();

    private long[] elements; // under lock
    private int waiters; // under lock: threads parked on wait (the kernel's wq_has_sleeper)
    private int currNr; // written under lock (soCurrNr), read without it in mempoolFree (loCurrNr)
    private int minNr; // written under lock (soMinNr), read without it in mempoolFree (loMinNr)
    @SuppressWarnings("unused") private volatile long outstanding; // atomic via OUTSTANDING
    private volatile boolean destroyed;

    private LongMempool(MempoolConfig config, int minNr, AllocFn allocFn, FreeFn freeFn) {
        this.config = config;
        this.log = config.log();
        this.allocFn = allocFn;
        this.freeFn = freeFn;
        this.checks = new MempoolChecks(config.log());
        this.minNr = minNr;
        // Storage for at least one element: a zero-minimum pool still keeps one (mempool_init_node).
        this.elements = new long[Math.max(1, minNr)];
    }

    // ------------------------------------------------------------------ create / destroy

    /**
     * {@code mempool_create()}: a pool of {@code minNr} elements, preallocated with
     * {@code GFP_KERNEL} (one element when {@code minNr} is 0, as the current kernel does).
     * May sleep. If any preallocation fails, every element obtained so far is freed and null is
     * returned, as the kernel returns {@code NULL}.
     *
     * @throws IllegalArgumentException if {@code minNr < 0}
     */
    public static LongMempool create(MempoolConfig config, int minNr, AllocFn allocFn, FreeFn freeFn) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(allocFn, "allocFn");
        Objects.requireNonNull(freeFn, "freeFn");
        if (minNr < 0) {
            throw new IllegalArgumentException("mempool min_nr must be >= 0, was " + minNr);
        }
        LongMempool pool = new LongMempool(config, minNr, allocFn, freeFn);
        pool.checks.mightAlloc(Gfp.KERNEL);
        // Not yet published: no other thread can see the pool, so the lock is uncontended.
        pool.lock.lock();
        try {
            while (pool.currNr < Math.max(1, minNr)) {
                long element = allocFn.alloc(Gfp.KERNEL);
                if (element == NULL) {
                    pool.freeReserve();
                    return null;
                }
                pool.addElement(element);
            }
        } finally {
            pool.lock.unlock();
        }
        return pool;
    }

    /**
     * {@code mempool_destroy()}: frees every reserved element to the backing allocator and
     * retires the pool. Sleeps only if the free function does. The caller must guarantee that
     * no alloc, free or resize runs concurrently. Unlike the kernel (which trusts the caller),
     * memscope checks that every element came back: after freeing the reserve it throws
     * {@link MempoolLeakException} naming how many are missing. An element freed after destroy
     * goes straight to the backing allocator, so a late free loses nothing.
     *
     * @throws MempoolDestroyedException when the pool was already destroyed
     * @throws MempoolLeakException when elements are still outstanding
     */
    public void destroy() {
        lock.lock();
        try {
            if (destroyed) {
                throw new MempoolDestroyedException(config.name(), "mempool_destroy");
            }
            destroyed = true;
        } finally {
            lock.unlock();
        }
        freeReserve();
        long out = outstanding();
        if (out != 0) {
            throw new MempoolLeakException(config.name(), out);
        }
    }

    /** {@code mempool_exit()}'s loop: drains the reserve to the backing allocator. */
    private void freeReserve() {
        for (;;) {
            long element;
            lock.lock();
            try {
                if (currNr == 0) {
                    return;
                }
                element = removeElement();
            } finally {
                lock.unlock();
            }
            freeFn.free(element);
        }
    }

    // ------------------------------------------------------------------ alloc

    /**
     * {@code mempool_alloc()}: allocates an element, from the backing allocator if it can and
     * from the reserve otherwise.
     *
     * <p>May sleep when {@code gfp} has {@code __GFP_DIRECT_RECLAIM} (in the backing allocator,
     * or waiting up to {@code waitNanos} per round for an element to come back); then it
     * <em>never</em> returns {@link #NULL}. Without {@code __GFP_DIRECT_RECLAIM} it never sleeps
     * and returns {@link #NULL} when both the allocator and the reserve are empty.
     * {@code __GFP_ZERO} is not supported (warned once: reserved elements are not zeroed). The
     * thread's interrupt status is kept but does not cut the wait short (the kernel waits
     * uninterruptibly).
     *
     * @throws MempoolDestroyedException after {@link #destroy}
     */
    public long mempoolAlloc(int gfp) {
        if (destroyed) {
            throw new MempoolDestroyedException(config.name(), "mempool_alloc");
        }
        if ((gfp & Gfp.ZERO) != 0) {
            log.warnOnce("mempool_alloc:__GFP_ZERO",
                    "WARNING: mm/mempool.c: mempool_alloc: __GFP_ZERO is not supported (pool " + config.name() + ")");
        }
        // mempool_adjust_gfp: never dip into the emergency reserves, never loop in the page
        // allocator, and stay quiet: failing is fine, the reserve is there for that.
        int full = gfp | Gfp.NOMEMALLOC | Gfp.NORETRY | Gfp.NOWARN;
        // The first pass neither sleeps nor starts I/O: the reserve is cheaper than reclaim.
        int gfpTemp = full & ~(Gfp.DIRECT_RECLAIM | Gfp.IO);
        checks.mightAlloc(full);

        boolean interrupted = false;
        try {
            for (;;) {
                long element = checks.injectFailure(config.failMempoolAlloc()) ? NULL : allocFn.alloc(gfpTemp);
                if (element != NULL) {
                    OUTSTANDING.getAndAdd(this, 1L);
                    return element;
                }
                element = allocFromPool(gfpTemp);
                if (element != NULL) {
                    return element;
                }
                if (Thread.interrupted()) {
                    interrupted = true; // keep it for the caller, but do not let it spin the wait
                }
                if (gfpTemp != full) {
                    gfpTemp = full; // second pass with every flag the caller allowed, no sleep yet
                    continue;
                }
                if ((full & Gfp.DIRECT_RECLAIM) == 0) {
                    return NULL; // must not sleep: the only way mempool_alloc fails
                }
                // allocFromPool already slept up to waitNanos: retry the allocator, memory
                // pressure may have eased even if no element came back.
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * {@code mempool_alloc_preallocated()}: takes an element from the reserve only; never calls
     * the backing allocator, never sleeps. Returns {@link #NULL} when the reserve is empty.
     */
    public long mempoolAllocPreallocated() {
        if (destroyed) {
            throw new MempoolDestroyedException(config.name(), "mempool_alloc_preallocated");
        }
        return allocFromPool(Gfp.NOWAIT);
    }

    /**
     * {@code mempool_alloc_from_pool()} for one element: takes the top of the reserve, or, when
     * it is empty and {@code gfp} allows direct reclaim, waits once for up to {@code waitNanos}
     * (woken early by a free that refills the reserve) and returns {@link #NULL}.
     */
    private long allocFromPool(int gfp) {
        long element;
        lock.lock();
        try {
            if (currNr == 0) {
                if ((gfp & Gfp.DIRECT_RECLAIM) != 0) {
                    sleepOnPool();
                }
                return NULL;
            }
            element = removeElement();
            OUTSTANDING.getAndAdd(this, 1L);
        } finally {
            lock.unlock();
        }
        publishRemoval();
        return element;
    }

    /**
     * The kernel's {@code smp_wmb()} after taking elements from the reserve, paired with the
     * fence in {@link #mempoolFree}. Our store of {@code currNr} (the decrement) must be ordered
     * before any later store by which this thread hands the element to someone else, even a
     * racy one. Otherwise the other thread could free the element while still seeing the old,
     * higher {@code currNr}, decide the reserve is full, and give the element to the backing
     * allocator while the reserve stays one short — and a waiter could sleep the full period.
     * (The lock's release already orders the store for lock-takers; this covers the lockless
     * reader.)
     */
    private static void publishRemoval() {
        VarHandle.releaseFence();
    }

    /**
     * Parks the caller on {@code pool->wait} for up to {@code waitNanos}; called and returning
     * with {@code lock} held. {@code await} releases the lock and enqueues the waiter in one
     * step, so a free that refills the reserve after our {@code currNr == 0} check necessarily
     * sees {@code waiters > 0} and signals us: no lost wake-up (the kernel gets the same from
     * {@code prepare_to_wait} under {@code pool->lock}).
     */
    private void sleepOnPool() {
        waiters++;
        try {
            wait.awaitNanos(config.waitNanos());
        } catch (InterruptedException e) {
            // TASK_UNINTERRUPTIBLE: an interrupt ends this round early only; the caller keeps
            // looping (and restores the status when it returns).
            Thread.currentThread().interrupt();
        } finally {
            waiters--;
        }
    }

    // ------------------------------------------------------------------ free

    /**
     * {@code mempool_free()}: returns an element. {@link #NULL} is ignored. The element refills
     * the reserve when it is below {@code minNr} (or when a zero-minimum pool is empty), waking
     * the waiters; otherwise it goes to the backing allocator's free function. Sleeps only if
     * the free function does; never fails.
     *
     * @throws ForeignElementException when more elements are freed than this pool handed out
     */
    public void mempoolFree(long element) {
        if (element == NULL) {
            return;
        }
        takeBack(1);
        if (destroyed || !refill(element)) {
            freeFn.free(element);
        }
    }

    /**
     * The lockless fast check of {@code mempool_free_bulk()} for one element: true when the
     * element went into the reserve.
     */
    private boolean refill(long element) {
        // The kernel's smp_rmb(), paired with publishRemoval(). Our caller has just read the
        // element (perhaps from a plain field another thread filled without any barrier, e.g.
        // "while (p == 0) spin; mempoolFree(p)"). The fence orders that read before the read of
        // currNr below, so the currNr we see is never older than the allocation of this element.
        VarHandle.acquireFence();
        // Why that is enough without the lock: any allocation that took currNr below minNr is
        // then visible to us as currNr < minNr, unless frees have already brought it back to
        // minNr (and the elements taken after that carry the same guarantee). The test may
        // give false positives (re-checked under the lock) but never misses "exactly one
        // short", and waiters exist only when currNr is 0, so some free always wakes them.
        int curr = loCurrNr();
        int min = loMinNr();
        if (curr >= min && !(min == 0 && curr == 0)) {
            return false;
        }
        lock.lock();
        try {
            boolean added = false;
            if (currNr < minNr) {
                addElement(element);
                added = true;
            } else if (minNr == 0 && currNr == 0) {
                // A zero-minimum pool: curr < min is never true, so without this an empty pool
                // would never get an element back and its waiters would only wake by timeout.
                addElement(element);
                added = true;
            }
            if (added && waiters > 0) {
                // wake_up() on a non-exclusive wait queue wakes every waiter; the losers find the
                // reserve empty again and go back to sleep.
                wait.signalAll();
            }
            return added;
        } finally {
            lock.unlock();
        }
    }

    /** Accounts for {@code n} elements coming back; more than were handed out is a misuse. */
    private void takeBack(long n) {
        for (;;) {
            long out = outstanding();
            if (out < n) {
                throw new ForeignElementException(config.name(), out, n);
            }
            if (OUTSTANDING.compareAndSet(this, out, out - n)) {
                return;
            }
        }
    }

    // ------------------------------------------------------------------ bulk

    /**
     * {@code mempool_alloc_bulk()}: fills {@code elems[0..count)} with elements, always with
     * {@code GFP_KERNEL}, so it may sleep and never fails. It tries the backing allocator for
     * each element first, and takes the missing ones from the reserve all at once (never part
     * of them), waiting when the reserve holds fewer. {@code count} must not exceed
     * {@code minNr} (warned once, as the kernel's VM_WARN_ON_ONCE: such a call can wait forever).
     */
    public void mempoolAllocBulk(long[] elems, int count) {
        if (destroyed) {
            throw new MempoolDestroyedException(config.name(), "mempool_alloc_bulk");
        }
        Objects.checkFromIndexSize(0, count, elems.length);
        if (count > loMinNr()) {
            log.warnOnce("mempool_alloc_bulk:count>min_nr", "WARNING: mm/mempool.c: mempool_alloc_bulk: count "
                    + count + " exceeds min_nr " + loMinNr() + " (pool " + config.name() + ")");
        }
        int full = Gfp.KERNEL | Gfp.NOMEMALLOC | Gfp.NORETRY | Gfp.NOWARN;
        int gfpTemp = full & ~(Gfp.DIRECT_RECLAIM | Gfp.IO);
        checks.mightAlloc(full);
        int allocated = 0;
        // One injection fails the whole batch, to exercise the "several elements missing" path.
        boolean usePool = checks.injectFailure(config.failMempoolAllocBulk());
        boolean interrupted = false;
        try {
            for (;;) {
                if (!usePool) {
                    while (allocated < count) {
                        long e = allocFn.alloc(gfpTemp);
                        if (e == NULL) {
                            break;
                        }
                        elems[allocated++] = e;
                        OUTSTANDING.getAndAdd(this, 1L);
                    }
                    if (allocated == count) {
                        return;
                    }
                }
                usePool = false;
                allocated = allocBulkFromPool(elems, count, allocated, gfpTemp);
                if (allocated == count) {
                    return;
                }
                if (Thread.interrupted()) {
                    interrupted = true;
                }
                gfpTemp = full;
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** {@code mempool_alloc_from_pool()}: all of the missing elements or none; may wait once. */
    private int allocBulkFromPool(long[] elems, int count, int allocated, int gfp) {
        lock.lock();
        try {
            if (currNr < count - allocated) {
                if ((gfp & Gfp.DIRECT_RECLAIM) != 0) {
                    sleepOnPool();
                }
                return allocated;
            }
            OUTSTANDING.getAndAdd(this, (long) (count - allocated));
            while (allocated < count) {
                elems[allocated++] = removeElement();
            }
        } finally {
            lock.unlock();
        }
        publishRemoval();
        return allocated;
    }

    /**
     * {@code mempool_free_bulk()}: moves elements from the start of {@code elems[0..count)}
     * into the reserve while it needs refilling, sets their slots to {@link #NULL}, wakes the
     * waiters, and returns how many it took. The rest stay in {@code elems}: the caller frees
     * them to the backing allocator itself (all {@code count} are no longer this pool's).
     */
    public int mempoolFreeBulk(long[] elems, int count) {
        Objects.checkFromIndexSize(0, count, elems.length);
        takeBack(count);
        if (destroyed) {
            return 0;
        }
        int freed = 0;
        while (freed < count && refill(elems[freed])) {
            elems[freed++] = NULL;
        }
        return freed;
    }

    // ------------------------------------------------------------------ resize

    /**
     * {@code mempool_resize()}: changes {@code minNr}. Shrinking frees surplus reserve elements
     * to the backing allocator; growing allocates with {@code GFP_KERNEL} until the reserve is
     * full or the allocator fails (later frees refill the rest). May sleep. Alloc and free may
     * run concurrently; destroy may not.
     *
     * @throws IllegalArgumentException when {@code newMinNr <= 0} (the kernel's BUG_ON)
     */
    public void mempoolResize(int newMinNr) {
        if (newMinNr <= 0) {
            throw new IllegalArgumentException("mempool_resize: new_min_nr must be > 0, was " + newMinNr);
        }
        if (destroyed) {
            throw new MempoolDestroyedException(config.name(), "mempool_resize");
        }
        checks.mightAlloc(Gfp.KERNEL); // might_sleep()
        lock.lock();
        try {
            if (newMinNr <= minNr) {
                while (newMinNr < currNr) {
                    long element = removeElement();
                    lock.unlock(); // the free function may sleep
                    try {
                        freeFn.free(element);
                    } finally {
                        lock.lock();
                    }
                }
                soMinNr(newMinNr);
                return;
            }
            long[] grown = new long[newMinNr];
            System.arraycopy(elements, 0, grown, 0, currNr);
            elements = grown;
            soMinNr(newMinNr);
            while (currNr < minNr) {
                lock.unlock(); // the allocator may sleep
                long element;
                try {
                    element = allocFn.alloc(Gfp.KERNEL);
                } finally {
                    lock.lock();
                }
                if (element == NULL) {
                    return;
                }
                if (currNr < minNr) {
                    addElement(element);
                } else {
                    lock.unlock(); // raced with frees that filled the reserve
                    try {
                        freeFn.free(element);
                    } finally {
                        lock.lock();
                    }
                    return;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ helpers

    /** {@code add_element()}: push onto the reserve. Caller holds {@code lock}. */
    private void addElement(long element) {
        if (minNr != 0 && currNr >= minNr) {
            throw new IllegalStateException("mempool " + config.name() + ": add_element with reserve full: expected curr_nr < "
                    + minNr + ", found " + currNr);
        }
        elements[currNr] = element;
        soCurrNr(currNr + 1);
    }

    /** {@code remove_element()}: pop the most recently added element (LIFO). Caller holds {@code lock}. */
    private long removeElement() {
        if (currNr <= 0) {
            throw new IllegalStateException("mempool " + config.name() + ": remove_element from empty reserve");
        }
        int n = currNr - 1;
        soCurrNr(n);
        long element = elements[n];
        elements[n] = NULL;
        return element;
    }

    private int loCurrNr() {
        return (int) CURR_NR.getOpaque(this);
    }

    private void soCurrNr(int v) {
        CURR_NR.setRelease(this, v);
    }

    private int loMinNr() {
        return (int) MIN_NR.getOpaque(this);
    }

    private void soMinNr(int v) {
        MIN_NR.setRelease(this, v);
    }

    // ------------------------------------------------------------------ observers

    /** {@code pool->min_nr}. */
    public int minNr() {
        return loMinNr();
    }

    /** {@code pool->curr_nr}: elements in the reserve now (a snapshot). */
    public int currNr() {
        return loCurrNr();
    }

    /** Elements handed out by this pool and not yet returned. */
    public long outstanding() {
        return (long) OUTSTANDING.getVolatile(this);
    }

    /** Threads currently waiting for an element (a snapshot). */
    public int waiters() {
        lock.lock();
        try {
            return waiters;
        } finally {
            lock.unlock();
        }
    }

    /** The pool's settings. */
    public MempoolConfig config() {
        return config;
    }

    @Override
    public String toString() {
        return "mempool " + config.name() + " [min_nr " + minNr() + ", curr_nr " + currNr() + ", outstanding "
                + outstanding() + "]";
    }
}
