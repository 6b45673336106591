package io.memscope.reclaim;

import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A cache's registration with reclaim: {@code struct shrinker} with the current kernel's
 * life cycle ({@code shrinker_alloc} → {@code shrinker_register} → {@code shrinker_free},
 * mm/shrinker.c, v6.7+).
 *
 * <p>Reclaim calls the cache's {@link ShrinkerCallbacks} from {@code shrink_slab} with a scan
 * target that grows with pressure (see {@link Shrinkers#doShrinkSlab}); work a call could not
 * do — because the shrinker returned {@link #SHRINK_STOP}, or the target was below one batch —
 * is kept as <em>deferred work</em> ({@code nr_deferred}, one counter per node for NUMA-aware
 * shrinkers, else one) and added to the next call's target.
 *
 * <p><b>Life cycle and invariants.</b> A shrinker is built by {@link Shrinkers#alloc}, becomes
 * visible to reclaim on {@link #register()}, and is removed by {@link #free()}, which waits
 * until every callback already running has returned (the kernel's refcount plus
 * {@code wait_for_completion(&shrinker->done)}), so the cache can be torn down right after.
 * Reclaim holds a reference ({@link #tryGet()}) for the duration of each call; the registration
 * itself holds one. Calling {@code free()} from inside the shrinker's own callback would wait
 * for itself and is refused with {@link ShrinkerException}.
 */
public final class Shrinker {
    /** {@code SHRINK_STOP} ({@code ~0UL}): scanObjects cannot make progress in this context. */
    public static final long SHRINK_STOP = -1L;
    /** {@code SHRINK_EMPTY} ({@code ~0UL - 1}): countObjects has no objects at all. */
    public static final long SHRINK_EMPTY = -2L;
    /** {@code SHRINK_BATCH}: the default batch when {@code batch} is 0. */
    public static final int SHRINK_BATCH = 128;
    /** {@code DEFAULT_SEEKS}: the cost of recreating an object, relative to a page. */
    public static final int DEFAULT_SEEKS = 2;

    /** {@code SHRINKER_NUMA_AWARE}: called once per node with that node's id; deferred work per node. */
    public static final int NUMA_AWARE = 1 << 2;
    /** {@code SHRINKER_MEMCG_AWARE}: accepted for fidelity; memscope has no memory cgroups yet, so it acts like a global shrinker. */
    public static final int MEMCG_AWARE = 1 << 3;
    /** {@code SHRINKER_NONSLAB}: the cache's objects are not slab objects. */
    public static final int NONSLAB = 1 << 4;

    private static final int STATE_ALLOCATED = 0;
    private static final int STATE_REGISTERED = 1;
    private static final int STATE_FREED = 2;

    private final Shrinkers owner;
    private final String name;
    private final int flags;
    private final ShrinkerCallbacks callbacks;
    private final int seeks;
    private final int batch;
    private final AtomicLongArray nrDeferred;
    /** 1 for the registration + 1 per running call; 0 once freed and drained. */
    private final AtomicInteger refcount = new AtomicInteger();
    private final CountDownLatch done = new CountDownLatch(1);
    private final AtomicInteger state = new AtomicInteger(STATE_ALLOCATED);
    private final ThreadLocal<Integer> inCallback = ThreadLocal.withInitial(() -> 0);

    Shrinker(Shrinkers owner, String name, int flags, ShrinkerCallbacks callbacks, int seeks, int batch, int nodes) {
        this.owner = owner;
        this.name = Objects.requireNonNull(name, "name");
        this.flags = flags;
        this.callbacks = Objects.requireNonNull(callbacks, "callbacks");
        this.seeks = seeks;
        this.batch = batch;
        this.nrDeferred = new AtomicLongArray((flags & NUMA_AWARE) != 0 ? nodes : 1);
    }

    /** The name given at allocation (as shown under /sys/kernel/debug/shrinker). */
    public String name() {
        return name;
    }

    /** The SHRINKER_* flags. */
    public int flags() {
        return flags;
    }

    /** {@code seeks}: 0 means objects are free to recreate and are trimmed aggressively. */
    public int seeks() {
        return seeks;
    }

    /** {@code batch}: objects per scanObjects call; 0 means {@link #SHRINK_BATCH}. */
    public int batch() {
        return batch;
    }

    /** True when NUMA-aware. */
    public boolean isNumaAware() {
        return (flags & NUMA_AWARE) != 0;
    }

    /** True between {@link #register()} and {@link #free()}. */
    public boolean isRegistered() {
        return state.get() == STATE_REGISTERED;
    }

    /** The deferred work carried for {@code nid} (node 0 for shrinkers that are not NUMA-aware). */
    public long nrDeferred(int nid) {
        return nrDeferred.get(deferredIndex(nid));
    }

    ShrinkerCallbacks callbacks() {
        return callbacks;
    }

    int deferredIndex(int nid) {
        return isNumaAware() ? nid : 0;
    }

    /** {@code xchg_nr_deferred}: takes all deferred work for the node, leaving 0. */
    long xchgNrDeferred(int nid) {
        return nrDeferred.getAndSet(deferredIndex(nid), 0);
    }

    /** {@code add_nr_deferred}: gives unused work back, tolerating concurrent callers. */
    long addNrDeferred(int nid, long nr) {
        return nrDeferred.addAndGet(deferredIndex(nid), nr);
    }

    /**
     * {@code shrinker_register()}: makes the shrinker visible to reclaim.
     *
     * @throws ShrinkerException when already registered or freed
     */
    public Shrinker register() {
        if (!state.compareAndSet(STATE_ALLOCATED, STATE_REGISTERED)) {
            throw new ShrinkerException("shrinker " + name + ": register expected state allocated, found "
                    + stateName(state.get()));
        }
        refcount.set(1);
        owner.add(this);
        return this;
    }

    /**
     * {@code shrinker_free()}: unregisters, then waits until every running callback has
     * returned. May sleep. Freeing a shrinker that was never registered just discards it.
     *
     * @throws ShrinkerException when called from inside this shrinker's own callback, or twice
     */
    public void free() {
        if (inCallback.get() > 0) {
            throw new ShrinkerException("shrinker " + name
                    + ": free() called from its own callback would wait for itself forever");
        }
        int s = state.getAndSet(STATE_FREED);
        if (s == STATE_FREED) {
            throw new ShrinkerException("shrinker " + name + ": free expected state registered or allocated, found freed");
        }
        if (s == STATE_ALLOCATED) {
            return;
        }
        owner.remove(this);
        put();
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code shrinker_try_get()}: a reference for one call, or false when the shrinker is going away. */
    boolean tryGet() {
        while (true) {
            int r = refcount.get();
            if (r == 0) {
                return false;
            }
            if (refcount.compareAndSet(r, r + 1)) {
                return true;
            }
        }
    }

    /** {@code shrinker_put()}: drops a reference; the last one completes {@code done}. */
    void put() {
        if (refcount.decrementAndGet() == 0) {
            done.countDown();
        }
    }

    void enterCallback() {
        inCallback.set(inCallback.get() + 1);
    }

    void exitCallback() {
        int n = inCallback.get() - 1;
        if (n == 0) {
            inCallback.remove();
        } else {
            inCallback.set(n);
        }
    }

    private static String stateName(int s) {
        return switch (s) {
            case STATE_ALLOCATED -> "allocated";
            case STATE_REGISTERED -> "registered";
            default -> "freed";
        };
    }

    @Override
    public String toString() {
        return "shrinker " + name;
    }
}
