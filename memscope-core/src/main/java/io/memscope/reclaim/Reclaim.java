package io.memscope.reclaim;

import io.memscope.debug.KernelLog;
import io.memscope.locking.Lockdep;
import io.memscope.page.DirectReclaimer;
import io.memscope.page.KswapdWaker;
import io.memscope.page.PageAllocator;
import io.memscope.page.PageWaitTable;
import io.memscope.page.Zone;
import io.memscope.stat.VmItem;
import io.memscope.stat.VmStat;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One machine's reclaim subsystem, assembled: the per-node {@link Lru}, {@link ReclaimThrottle}
 * and {@link Kswapd} thread, the {@link Shrinkers}, the {@link OomKiller}, the page lock table,
 * and the three hooks the page allocator calls — {@link #directReclaimer()} ({@code
 * try_to_free_pages}), {@link #kswapdWaker()} ({@code wakeup_kswapd}) and {@link #oomHook()}
 * ({@code out_of_memory}). {@code MemoryManager} builds it right after the allocator and closes it
 * before the allocator's leak check.
 *
 * <p>Kernel counterparts: the reclaim parts of {@code pg_data_t} and the {@code kswapd_run()} /
 * {@code kswapd_stop()} life cycle of {@code mm/vmscan.c}.
 *
 * <p>Life cycle: kswapd threads start in the constructor; {@link #close()} stops them and the OOM
 * reaper, and wakes every task throttled in reclaim. The page-cache side connects through
 * {@link #setFileOwner(FileOwner)}; until then LRU pages can be scanned but never freed.
 */
public final class Reclaim implements AutoCloseable {
    /**
     * Options of the reclaim subsystem.
     *
     * @param legacyReclaimWriteback reclaim calls {@link FileOwner#writePage} for dirty pages (old
     *                               kernels); false = current kernel, where only the flushers write
     * @param kswapdNapNanos         kswapd's short nap before a full sleep ({@code HZ/10})
     * @param reapRetryMillis        the OOM reaper's wait between checks ({@code HZ/10})
     */
    public record Options(boolean legacyReclaimWriteback, long kswapdNapNanos, long reapRetryMillis) {
        /** Current-kernel defaults: no reclaim writeback, HZ/10 nap, 100 ms reaper retries. */
        public static Options defaults() {
            return new Options(false, 100_000_000L, 100);
        }

        /** These options with the legacy writeback switch set to {@code on}. */
        public Options withLegacyReclaimWriteback(boolean on) {
            return new Options(on, kswapdNapNanos, reapRetryMillis);
        }
    }

    private final PageAllocator pa;
    private final Lockdep lockdep;
    private final Shrinkers shrinkers;
    private final OomKiller oomKiller;
    private final PageWaitTable waits;
    private final Vmscan vmscan;
    private final ReclaimNode[] nodes;
    private final Kswapd[] kswapds;
    private final DirectReclaim direct;
    private final Options options;
    private volatile boolean closed;

    /**
     * Builds the subsystem for {@code pa}'s nodes and starts one kswapd thread per node.
     *
     * @param lockdep the machine's lockdep ({@link Lockdep#disabled()} for none)
     */
    public Reclaim(PageAllocator pa, KernelLog log, VmStat vmstat, Lockdep lockdep, Options options) {
        this.pa = Objects.requireNonNull(pa);
        this.lockdep = Objects.requireNonNull(lockdep);
        this.options = Objects.requireNonNull(options);
        int n = pa.nodes();
        this.shrinkers = new Shrinkers(n, log, scanned -> vmstat.count(VmItem.SLABS_SCANNED, scanned));
        this.oomKiller = new OomKiller(log, pa::totalPages,
                () -> List.of(pa.reports().showMem().split("\n")), options.reapRetryMillis());
        this.waits = new PageWaitTable(pa.pageTable());
        this.vmscan = new Vmscan(pa.pageTable(), waits, vmstat, shrinkers, options.legacyReclaimWriteback());
        this.nodes = new ReclaimNode[n];
        this.kswapds = new Kswapd[n];
        for (int nid = 0; nid < n; nid++) {
            nodes[nid] = new ReclaimNode(nid, new Lru(nid, pa, vmstat), new ReclaimThrottle(nid), pa, vmscan, vmstat,
                    lockdep);
        }
        this.direct = new DirectReclaim(nodes, vmscan, lockdep);
        for (int nid = 0; nid < n; nid++) {
            kswapds[nid] = new Kswapd(nodes[nid], options.kswapdNapNanos());
            nodes[nid].setKswapd(kswapds[nid]);
        }
        vmstat.addSource(this::addCounters);
    }

    /** The options this subsystem was built with. */
    public Options options() {
        return options;
    }

    /** The shrinker registry ({@code register_shrinker}). */
    public Shrinkers shrinkers() {
        return shrinkers;
    }

    /** The OOM killer (victim registration, reports, reaper). */
    public OomKiller oomKiller() {
        return oomKiller;
    }

    /** The machine's lockdep. */
    public Lockdep lockdep() {
        return lockdep;
    }

    /** Node {@code nid}'s file LRU. */
    public Lru lru(int nid) {
        return nodes[checkNid(nid)].lru;
    }

    /** Node {@code nid}'s reclaim throttle (the page cache reports completed writeback to it). */
    public ReclaimThrottle throttle(int nid) {
        return nodes[checkNid(nid)].throttle;
    }

    /** Node {@code nid}'s kswapd. */
    public Kswapd kswapd(int nid) {
        return kswapds[checkNid(nid)];
    }

    /** {@code kswapd_failures} of node {@code nid}. */
    public int kswapdFailures(int nid) {
        return nodes[checkNid(nid)].kswapdFailures();
    }

    /** The page lock / page wait table shared by reclaim and the page cache. */
    public PageWaitTable pageWaitTable() {
        return waits;
    }

    /**
     * Connects the owner of the file pages (the page cache). May be called once, before file pages
     * are added to an LRU; reclaim frees file pages only through it.
     *
     * @throws IllegalStateException if an owner is already set
     */
    public void setFileOwner(FileOwner owner) {
        Objects.requireNonNull(owner);
        synchronized (this) {
            if (vmscan.fileOwner() != null) {
                throw new IllegalStateException("setFileOwner: expected no file owner, found " + vmscan.fileOwner());
            }
            vmscan.setFileOwner(owner);
        }
    }

    /** The allocator's direct-reclaim hook. */
    public DirectReclaimer directReclaimer() {
        return direct;
    }

    /** The allocator's kswapd wake-up hook ({@code wakeup_kswapd}); never blocks. */
    public KswapdWaker kswapdWaker() {
        return this::wakeupKswapd;
    }

    /** The allocator's OOM hook, backed by {@link #oomKiller()}. */
    public io.memscope.page.OomKiller oomHook() {
        return oomKiller::outOfMemory;
    }

    /** {@code wakeup_kswapd()}: wakes {@code zone}'s node's kswapd (ignored once closed). */
    public void wakeupKswapd(Zone zone, int gfp, int order, int highestZoneIdx) {
        if (closed || zone.managedPages() == 0) {
            return;
        }
        kswapds[zone.nid()].wakeup(gfp, order, highestZoneIdx);
    }

    /** Sends direct-reclaim, kswapd, throttle and shrinker trace lines to {@code sink} (null: off). */
    public void setTrace(Consumer<String> sink) {
        direct.setTrace(sink);
        shrinkers.setTrace(sink);
        for (int nid = 0; nid < nodes.length; nid++) {
            kswapds[nid].setTrace(sink);
            nodes[nid].throttle.setTrace(sink);
        }
    }

    /** Checks every LRU's invariants; returns the number of violations. */
    public int validate() {
        int errors = 0;
        for (ReclaimNode node : nodes) {
            errors += node.lru.validate();
        }
        return errors;
    }

    /** Stops the kswapd threads and the OOM reaper and releases throttled tasks. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Kswapd k : kswapds) {
            k.close();
        }
        for (ReclaimNode node : nodes) {
            node.wakePfmemallocWaiters();
            for (ReclaimThrottle.Reason r : ReclaimThrottle.Reason.values()) {
                node.throttle.wakeAll(r);
            }
        }
        oomKiller.close();
    }

    ReclaimNode node(int nid) {
        return nodes[checkNid(nid)];
    }

    private int checkNid(int nid) {
        if (nid < 0 || nid >= nodes.length) {
            throw new IllegalArgumentException("node must be in 0.." + (nodes.length - 1) + ", was " + nid);
        }
        return nid;
    }

    private void addCounters(long[] v) {
        for (Kswapd k : kswapds) {
            v[VmItem.KSWAPD_WAKE.ordinal()] += k.runs();
            v[VmItem.KSWAPD_LOW_WMARK_HIT_QUICKLY.ordinal()] += k.lowWmarkHitQuickly();
            v[VmItem.KSWAPD_HIGH_WMARK_HIT_QUICKLY.ordinal()] += k.highWmarkHitQuickly();
        }
        v[VmItem.OOM_KILL.ordinal()] += oomKiller.oomKills();
    }
}
