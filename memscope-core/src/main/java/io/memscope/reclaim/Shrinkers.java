package io.memscope.reclaim;

import io.memscope.debug.KernelLog;
import io.memscope.debug.KernelPanicException;
import io.memscope.gfp.Gfp;
import io.memscope.sched.CondResched;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * One machine's shrinker list and the slab-shrinking half of reclaim: {@code shrinker_list},
 * {@code shrink_slab()} and {@code do_shrink_slab()} of {@code mm/shrinker.c}.
 *
 * <p>Reclaim asks every registered shrinker to free objects in proportion to pressure: at
 * priority {@code p} a shrinker with {@code freeable} objects is asked to scan
 * {@code (freeable >> p) * 4 / seeks} of them plus its deferred work {@code >> p}, capped at
 * twice {@code freeable}, in calls of {@code batch} objects. What is not scanned is deferred to
 * the next call. A context without {@code __GFP_FS} still counts a filesystem cache but the
 * cache's scan returns {@link Shrinker#SHRINK_STOP}, so its work piles up as deferred work
 * until a caller that may enter the filesystem (kswapd, with {@code GFP_KERNEL}) does it.
 *
 * <p>The list is walked without a lock (a copy-on-write snapshot, the counterpart of the
 * kernel's RCU walk) while each call holds a reference on its shrinker, so
 * {@link Shrinker#free()} can wait for running calls without blocking reclaim.
 *
 * <p>A callback that throws is contained: the failure is reported to the kernel log (a warning,
 * so {@code panicOnWarn} turns it into a test failure), counted in {@link #callbackErrors()},
 * and treated as {@code SHRINK_STOP} for that call; reclaim goes on with the next shrinker.
 */
public final class Shrinkers {
    private final int nodes;
    private final KernelLog log;
    private final LongConsumer slabsScanned;
    private final List<Shrinker> list = new CopyOnWriteArrayList<>();
    private final AtomicLong callbackErrors = new AtomicLong();
    private volatile Consumer<String> trace;

    /**
     * @param nodes        number of nodes (size of NUMA-aware deferred arrays)
     * @param log          the machine's kernel log
     * @param slabsScanned receives the {@code slabs_scanned} vmstat events
     */
    public Shrinkers(int nodes, KernelLog log, LongConsumer slabsScanned) {
        if (nodes < 1) {
            throw new IllegalArgumentException("nodes must be >= 1, was " + nodes);
        }
        this.nodes = nodes;
        this.log = Objects.requireNonNull(log);
        this.slabsScanned = Objects.requireNonNull(slabsScanned);
    }

    /** Sends the {@code mm_shrink_slab_start}/{@code _end} trace lines to {@code sink} (null: off). */
    public void setTrace(Consumer<String> sink) {
        this.trace = sink;
    }

    /**
     * {@code shrinker_alloc()}: builds a shrinker that is not yet visible to reclaim; call
     * {@link Shrinker#register()} when the cache is ready.
     *
     * @param flags {@link Shrinker#NUMA_AWARE}, {@link Shrinker#MEMCG_AWARE}, {@link Shrinker#NONSLAB}
     * @param seeks cost to recreate an object ({@link Shrinker#DEFAULT_SEEKS}); 0 = trim aggressively
     * @param batch objects per scan call; 0 = {@link Shrinker#SHRINK_BATCH}
     */
    public Shrinker alloc(String name, int flags, int seeks, int batch, ShrinkerCallbacks callbacks) {
        int known = Shrinker.NUMA_AWARE | Shrinker.MEMCG_AWARE | Shrinker.NONSLAB;
        if ((flags & ~known) != 0) {
            throw new IllegalArgumentException("shrinker " + name + ": unknown flags 0x"
                    + Integer.toHexString(flags & ~known) + " (expected a combination of NUMA_AWARE, MEMCG_AWARE, NONSLAB)");
        }
        if (seeks < 0 || batch < 0) {
            throw new IllegalArgumentException("shrinker " + name + ": seeks and batch must be >= 0, were "
                    + seeks + " and " + batch);
        }
        return new Shrinker(this, name, flags, callbacks, seeks, batch, nodes);
    }

    /** {@code shrinker_alloc} + {@code shrinker_register} with default seeks and batch. */
    public Shrinker register(String name, ShrinkerCallbacks callbacks) {
        return alloc(name, 0, Shrinker.DEFAULT_SEEKS, 0, callbacks).register();
    }

    /** The registered shrinkers, in registration order. */
    public List<Shrinker> registered() {
        return List.copyOf(list);
    }

    /** Callback exceptions contained so far. */
    public long callbackErrors() {
        return callbackErrors.get();
    }

    void add(Shrinker s) {
        list.add(s);
    }

    void remove(Shrinker s) {
        list.remove(s);
    }

    /**
     * {@code shrink_slab()}: asks every registered shrinker to free objects at this priority.
     * NUMA-unaware shrinkers are called with node 0. Runs in the reclaiming thread, which must
     * already be in a reclaim context (PF_MEMALLOC); may sleep if the callbacks do.
     *
     * @return objects freed
     */
    public long shrinkSlab(int gfpMask, int nid, int priority) {
        return shrinkSlab(gfpMask, nid, priority, null);
    }

    /**
     * {@link #shrinkSlab(int, int, int)} that also adds the pages the callbacks reported through
     * {@link ShrinkControl#addReclaimedPages} to {@code reclaimedPages[0]} (the reclaim state that
     * vmscan adds to {@code sc->nr_reclaimed}); {@code reclaimedPages} may be null.
     */
    public long shrinkSlab(int gfpMask, int nid, int priority, long[] reclaimedPages) {
        long freed = 0;
        ShrinkControl sc = new ShrinkControl();
        for (Shrinker s : list) {
            if (!s.tryGet()) {
                continue;
            }
            try {
                sc.reset(gfpMask, s.isNumaAware() ? nid : 0);
                long ret = doShrinkSlab(sc, s, priority);
                if (ret == Shrinker.SHRINK_EMPTY) {
                    ret = 0;
                }
                freed += ret;
            } finally {
                s.put();
            }
        }
        if (reclaimedPages != null) {
            reclaimedPages[0] += sc.reclaimedPages();
        }
        return freed;
    }

    /**
     * {@code drop_slab()} ({@code echo 2 > /proc/sys/vm/drop_caches}): for each node, shrinks at
     * priority 0 with {@code GFP_KERNEL} in rounds, until a round frees no more than
     * {@code 1 << round} objects (the kernel's {@code (freed >> shift++) > 1} stop rule).
     *
     * @return objects freed in all rounds
     */
    public long dropSlab() {
        long total = 0;
        for (int nid = 0; nid < nodes; nid++) {
            long freed;
            int shift = 0;
            do {
                freed = shrinkSlab(Gfp.KERNEL, nid, 0);
                total += freed;
            } while ((freed >> shift++) > 1);
        }
        return total;
    }

    /**
     * {@code do_shrink_slab()}: one shrinker, one node, one priority. Counts, computes the scan
     * target from pressure and deferred work, scans in batches, and defers what is left.
     *
     * @return objects freed, or the count's 0 / {@link Shrinker#SHRINK_EMPTY} when it had nothing
     */
    long doShrinkSlab(ShrinkControl sc, Shrinker shrinker, int priority) {
        long freeable = call(shrinker, sc, true);
        if (freeable == 0 || freeable == Shrinker.SHRINK_EMPTY) {
            return freeable;
        }
        if (freeable < 0) {
            // A count other than SHRINK_EMPTY above Long.MAX_VALUE is nonsense; treat it as "skip".
            return 0;
        }
        long batchSize = shrinker.batch() != 0 ? shrinker.batch() : Shrinker.SHRINK_BATCH;
        long nr = shrinker.xchgNrDeferred(sc.nid());

        long delta;
        if (shrinker.seeks() != 0) {
            delta = (freeable >> priority) * 4 / shrinker.seeks();
        } else {
            // Objects that cost no I/O to recreate are trimmed hard under pressure.
            delta = freeable / 2;
        }
        long totalScan = (nr >> priority) + delta;
        totalScan = Math.min(totalScan, 2 * freeable);
        Consumer<String> t = trace;
        if (t != null) {
            t.accept(String.format("mm_shrink_slab_start: %s %016x: nid: %d objects to shrink %d gfp_flags %s"
                    + " cache items %d delta %d total_scan %d priority %d",
                    shrinker.name(), System.identityHashCode(shrinker), sc.nid(), nr,
                    ReclaimFormat.gfp(sc.gfpMask()), freeable, delta, totalScan, priority));
        }

        long freed = 0;
        long scanned = 0;
        long lastRet = 0;
        // Scan at least a batch per call, unless the target exceeds everything the cache holds:
        // then we are tight on memory and scan it all even in small pieces.
        while (totalScan >= batchSize || totalScan >= freeable) {
            long nrToScan = Math.min(batchSize, totalScan);
            sc.setNrToScan(nrToScan);
            long ret = call(shrinker, sc, false);
            lastRet = ret;
            if (ret == Shrinker.SHRINK_STOP) {
                break;
            }
            freed += ret;
            long did = sc.nrScanned();
            slabsScanned.accept(did);
            totalScan -= did;
            scanned += did;
            CondResched.condResched();
        }

        long nextDeferred = Math.max(nr + delta - scanned, 0);
        nextDeferred = Math.min(nextDeferred, 2 * freeable);
        long newNr = shrinker.addNrDeferred(sc.nid(), nextDeferred);
        if (t != null) {
            t.accept(String.format("mm_shrink_slab_end: %s %016x: nid: %d unused scan count %d new scan count %d"
                    + " total_scan %d last shrinker return val %d",
                    shrinker.name(), System.identityHashCode(shrinker), sc.nid(), nr, newNr, totalScan,
                    (int) lastRet));
        }
        return freed;
    }

    /** Runs one callback with the shrinker marked busy on this thread; contains exceptions. */
    private long call(Shrinker s, ShrinkControl sc, boolean count) {
        s.enterCallback();
        try {
            return count ? s.callbacks().countObjects(sc) : s.callbacks().scanObjects(sc);
        } catch (KernelPanicException | Error e) {
            throw e;
        } catch (RuntimeException e) {
            callbackErrors.incrementAndGet();
            log.warn("WARNING: shrinker " + s.name() + ": " + (count ? "count_objects" : "scan_objects")
                    + " threw " + e + "\nshrinker treated as SHRINK_STOP for this call");
            return count ? 0 : Shrinker.SHRINK_STOP;
        } finally {
            s.exitCallback();
        }
    }
}
