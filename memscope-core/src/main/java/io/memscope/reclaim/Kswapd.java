package io.memscope.reclaim;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.ZoneType;
import io.memscope.sched.Jiffies;
import io.memscope.sched.Task;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One node's background reclaim thread: {@code kswapd()}, {@code kswapd_try_to_sleep()} and
 * {@code wakeup_kswapd()} of {@code mm/vmscan.c}.
 *
 * <p>Allocations that find a zone below its low watermark wake kswapd (if their mask has
 * {@code __GFP_KSWAPD_RECLAIM}), raising the order and highest zone it must balance for. kswapd
 * then reclaims ({@link KswapdNode#balance}) until the node is balanced at the high watermark,
 * so that most allocations never have to reclaim directly. It runs as a real platform thread
 * named {@code kswapd<nid>} with {@code PF_MEMALLOC|PF_KSWAPD}: its own allocations use the
 * reserves and never recurse into reclaim, and it is exempt from the direct-reclaim throttles.
 *
 * <p><b>Sleeping</b>, as the kernel does it: when balanced, kswapd first naps for {@code HZ/10};
 * if woken during the nap the sleep was premature ({@code kswapd_low_wmark_hit_quickly}) and it
 * goes back to work with the larger of the old and new requests; if the node is still balanced
 * after the nap it sleeps until the next wakeup. If it was not balanced when it tried to sleep,
 * {@code kswapd_high_wmark_hit_quickly} counts that.
 *
 * <p><b>Wakeups are never lost.</b> The waker records the request (order, zone index) in volatile
 * fields before it reads {@code sleeping}; kswapd publishes {@code sleeping} before it re-checks
 * the node under the lock. Either the waker sees kswapd asleep and signals under the lock, or
 * kswapd's own check runs after the request is visible. (The kernel relies on the same ordering
 * with {@code prepare_to_wait} and a lockless {@code waitqueue_active}.)
 */
public final class Kswapd implements AutoCloseable {
    private static final int MAX_NR_ZONES = ZoneType.COUNT;

    private final KswapdNode node;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition kswapdWait = lock.newCondition();
    /** {@code pgdat->kswapd_order}. */
    private volatile int kswapdOrder;
    /** {@code pgdat->kswapd_highest_zoneidx}; MAX_NR_ZONES means "no request". */
    private volatile int kswapdHighestZoneidx = MAX_NR_ZONES;
    /** {@code waitqueue_active(&pgdat->kswapd_wait)}. */
    private volatile boolean sleeping;
    private volatile boolean stop;
    private final AtomicLong wakeups = new AtomicLong();
    private final AtomicLong runs = new AtomicLong();
    private final AtomicLong lowWmarkHitQuickly = new AtomicLong();
    private final AtomicLong highWmarkHitQuickly = new AtomicLong();
    private volatile Consumer<String> trace;
    private final long napNanos;
    private final Thread thread;

    /** Starts {@code kswapd<nid>} for the node, napping {@code HZ/10} before a full sleep. */
    public Kswapd(KswapdNode node) {
        this(node, Jiffies.toNanos(Jiffies.HZ / 10));
    }

    /** Starts {@code kswapd<nid>} with a nap of {@code napNanos} (tests use long naps to make timing certain). */
    public Kswapd(KswapdNode node, long napNanos) {
        this.node = Objects.requireNonNull(node);
        this.napNanos = napNanos;
        this.thread = Thread.ofPlatform().daemon().name("kswapd" + node.nid()).start(this::run);
    }

    /** Sends {@code mm_vmscan_wakeup_kswapd}, {@code _kswapd_wake} and {@code _kswapd_sleep} lines to {@code sink}. */
    public void setTrace(Consumer<String> sink) {
        this.trace = sink;
    }

    /** The kswapd thread. */
    public Thread thread() {
        return thread;
    }

    /** Wakeups delivered to a sleeping kswapd (the {@code mm_vmscan_wakeup_kswapd} events). */
    public long wakeups() {
        return wakeups.get();
    }

    /** {@code balance_pgdat} runs ({@code mm_vmscan_kswapd_wake} events). */
    public long runs() {
        return runs.get();
    }

    /** vmstat {@code kswapd_low_wmark_hit_quickly}. */
    public long lowWmarkHitQuickly() {
        return lowWmarkHitQuickly.get();
    }

    /** vmstat {@code kswapd_high_wmark_hit_quickly}. */
    public long highWmarkHitQuickly() {
        return highWmarkHitQuickly.get();
    }

    /** True while kswapd sleeps on its wait queue. */
    public boolean isSleeping() {
        return sleeping;
    }

    /**
     * {@code wakeup_kswapd()}: records a request to balance for {@code order} up to
     * {@code highestZoneIdx}, and wakes kswapd if it sleeps and the node needs it. Called from
     * the allocator's slow path ({@code wake_all_kswapds}); never sleeps.
     */
    public void wakeup(int gfpMask, int order, int highestZoneIdx) {
        int curr = kswapdHighestZoneidx;
        if (curr == MAX_NR_ZONES || curr < highestZoneIdx) {
            kswapdHighestZoneidx = highestZoneIdx;
        }
        if (kswapdOrder < order) {
            kswapdOrder = order;
        }
        if (!sleeping) {
            return; // kswapd is running; it re-reads the request when it tries to sleep
        }
        if (node.hopeless() || (node.balanced(order, highestZoneIdx) && !node.watermarkBoosted(highestZoneIdx))) {
            return; // leave it to direct reclaim (or to compaction, which memscope does not run)
        }
        Consumer<String> t = trace;
        if (t != null) {
            t.accept(String.format("mm_vmscan_wakeup_kswapd: nid=%d order=%d gfp_flags=%s", node.nid(), order,
                    ReclaimFormat.gfp(gfpMask)));
        }
        lock.lock();
        try {
            wakeups.incrementAndGet();
            kswapdWait.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        Task.current().becomeKernelThread(Task.PF_MEMALLOC | Task.PF_KSWAPD);
        kswapdOrder = 0;
        kswapdHighestZoneidx = MAX_NR_ZONES;
        int highestZoneidx = MAX_NR_ZONES - 1;
        int allocOrder;
        int reclaimOrder;
        while (!stop) {
            allocOrder = reclaimOrder = kswapdOrder;
            highestZoneidx = requestedZoneidx(highestZoneidx);
            while (true) {
                trySleep(allocOrder, reclaimOrder, highestZoneidx);
                if (stop) {
                    return;
                }
                allocOrder = kswapdOrder;
                highestZoneidx = requestedZoneidx(highestZoneidx);
                kswapdOrder = 0;
                kswapdHighestZoneidx = MAX_NR_ZONES;
                Consumer<String> t = trace;
                if (t != null) {
                    t.accept(String.format("mm_vmscan_kswapd_wake: nid=%d order=%d", node.nid(), allocOrder));
                }
                runs.incrementAndGet();
                try {
                    reclaimOrder = node.balance(allocOrder, highestZoneidx);
                } catch (RuntimeException e) {
                    // A failing reclaim pass must not kill kswapd; the node's report already went to the log.
                    reclaimOrder = allocOrder;
                }
                if (reclaimOrder >= allocOrder) {
                    break; // back to the outer loop: read a fresh request
                }
                // Balanced only at a lower order: sleep again without taking a new request.
            }
        }
    }

    /** {@code kswapd_highest_zoneidx()}: the pending request's zone index, or {@code prev} when none. */
    private int requestedZoneidx(int prev) {
        int curr = kswapdHighestZoneidx;
        return curr == MAX_NR_ZONES ? prev : curr;
    }

    /** {@code prepare_kswapd_sleep()}: wakes throttled direct reclaimers, then true if kswapd may sleep. */
    private boolean prepareSleep(int order, int highestZoneidx) {
        node.wakePfmemallocWaiters();
        return node.hopeless() || node.balanced(order, highestZoneidx);
    }

    private void trySleep(int allocOrder, int reclaimOrder, int highestZoneidx) {
        if (stop) {
            return;
        }
        long remaining = 0;
        lock.lock();
        try {
            sleeping = true;
            if (prepareSleep(reclaimOrder, highestZoneidx)) {
                remaining = awaitNanos(napNanos);
                if (remaining > 0) {
                    // Woken during the nap: keep the larger of this and the new request.
                    kswapdHighestZoneidx = requestedZoneidx(highestZoneidx);
                    if (kswapdOrder < reclaimOrder) {
                        kswapdOrder = reclaimOrder;
                    }
                }
            }
            if (remaining == 0 && !stop && prepareSleep(reclaimOrder, highestZoneidx)) {
                Consumer<String> t = trace;
                if (t != null) {
                    t.accept(String.format("mm_vmscan_kswapd_sleep: nid=%d", node.nid()));
                }
                awaitNanos(Long.MAX_VALUE); // schedule(): until woken
            } else if (remaining > 0) {
                lowWmarkHitQuickly.incrementAndGet();
            } else {
                highWmarkHitQuickly.incrementAndGet();
            }
        } finally {
            sleeping = false;
            lock.unlock();
        }
    }

    /** Waits on kswapd_wait (lock held); returns the time left, 0 on timeout or stop. */
    private long awaitNanos(long nanos) {
        if (stop) {
            return 0;
        }
        try {
            long left = kswapdWait.awaitNanos(nanos);
            return stop ? 0 : Math.max(left, 0);
        } catch (InterruptedException e) {
            return 0; // kthread_stop() interrupts: treated as the end of the sleep
        }
    }

    /** {@code kthread_stop()}: ends the thread and waits for it. */
    @Override
    public void close() {
        stop = true;
        lock.lock();
        try {
            kswapdWait.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The mask kswapd reclaims with, whatever woke it. */
    public static final int RECLAIM_GFP = Gfp.KERNEL;
}
