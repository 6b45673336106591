package io.memscope.locking;

import io.memscope.gfp.Gfp;
import io.memscope.locking.HeldLocks.HeldLock;
import io.memscope.sched.Memalloc;
import io.memscope.sched.Task;

/**
 * The {@code fs_reclaim} pseudo-lock of {@code mm/page_alloc.c} ({@code __fs_reclaim_map},
 * {@code fs_reclaim_acquire()}, {@code fs_reclaim_release()}, {@code __need_reclaim()}) and
 * {@code might_alloc()} of {@code include/linux/sched/mm.h}.
 *
 * <p><b>Why.</b> A deadlock between a lock and memory reclaim only happens under memory pressure,
 * so tests rarely see it. Modelling reclaim as a lock makes it an ordinary lockdep cycle:
 * <ul>
 *   <li><em>allocation side</em> — every allocation that could enter filesystem reclaim calls
 *       {@link #mightAlloc(int)}, which acquires and releases {@code fs_reclaim}, recording
 *       "locks held now → fs_reclaim";</li>
 *   <li><em>reclaim side</em> — direct reclaim and kswapd hold {@code fs_reclaim} (a
 *       {@link Section}) while they call shrinkers and writeback, recording
 *       "fs_reclaim → locks those callbacks take".</li>
 * </ul>
 * A lock taken in both roles closes a cycle, reported on the first allocation with memory
 * plentiful, and the report ends with advice on where {@code memallocNofsSave} belongs.
 *
 * <p><b>Rules.</b> The mask first passes through {@code current_gfp_context()}; then
 * {@code __need_reclaim()} is false without {@code __GFP_DIRECT_RECLAIM}, for {@code PF_MEMALLOC}
 * tasks, and with {@code __GFP_NOLOCKDEP}; the map is taken only when {@code __GFP_FS} remains.
 * With lockdep off every method is one branch (plus the atomic-sleep check in mightAlloc when that
 * is on).
 */
public final class FsReclaim {
    private final Lockdep dep;
    private final LockdepMap map;

    FsReclaim(Lockdep dep) {
        this.dep = dep;
        this.map = dep.newMap("fs_reclaim", LockType.PSEUDO, new LockClassKey("fs_reclaim"));
    }

    /** {@code __need_reclaim()} for a mask already passed through the task's scopes. */
    public static boolean needReclaim(int gfp, int pflags) {
        if ((gfp & Gfp.DIRECT_RECLAIM) == 0) {
            return false; // no reclaim without __GFP_DIRECT_RECLAIM
        }
        if ((pflags & Task.PF_MEMALLOC) != 0) {
            return false; // this task already is reclaim
        }
        return (gfp & Gfp.NOLOCKDEP) == 0; // the caller opted out of tracking
    }

    /** True when {@code fs_reclaim_acquire(gfp)} by the calling task takes the map. */
    public static boolean takesMap(int gfp) {
        int pflags = Task.current().flags();
        int g = Memalloc.gfpContext(pflags, gfp);
        return needReclaim(g, pflags) && (g & Gfp.FS) != 0;
    }

    /** True when lockdep is on for this machine; when off, {@link #acquire}/{@link #release} never do anything. */
    public boolean enabled() {
        return dep.on;
    }

    /** {@code fs_reclaim_acquire(gfp)}: after scopes, takes fs_reclaim when reclaim may enter the filesystem. */
    public void acquire(int gfp) {
        if (dep.on && takesMap(gfp)) {
            dep.lockAcquire(map, 0, false, "allocation gfp_mask=" + LockdepReports.gfp(gfp));
        }
    }

    /** {@code fs_reclaim_release(gfp)}: mirrors {@link #acquire(int)} (same mask, same scopes). */
    public void release(int gfp) {
        if (dep.on && takesMap(gfp)) {
            dep.lockRelease(map, true);
        }
    }

    /**
     * {@code might_alloc(gfp)}: records that the caller may allocate with {@code gfp} here —
     * fs_reclaim acquire + release, then {@code might_sleep_if(gfpflags_allow_blocking(gfp))}.
     * The page allocator calls this on every allocation. Never sleeps, never fails.
     */
    public void mightAlloc(int gfp) {
        if (dep.on) {
            acquire(gfp);
            release(gfp);
        }
        if ((gfp & Gfp.DIRECT_RECLAIM) != 0) {
            dep.mightSleep();
        }
    }

    /**
     * The reclaim side for direct reclaim ({@code fs_reclaim_acquire(sc->gfp_mask)} around
     * {@code try_to_free_pages}): holds fs_reclaim, when the scoped mask has {@code __GFP_FS}, until
     * the section is closed. {@code context} names who reclaims ("direct reclaim"); change it with
     * {@link Section#context(String)} before each shrinker or writeback call.
     */
    public Section enter(int gfp, String context) {
        if (!dep.on || !takesMap(gfp)) {
            return Section.NONE;
        }
        return new Section(dep, map, dep.lockAcquire(map, 0, false, context));
    }

    /**
     * {@code __fs_reclaim_acquire()}: unconditionally holds fs_reclaim (kswapd across
     * {@code balance_pgdat}, node reclaim) until the section is closed.
     */
    public Section enterUnconditional(String context) {
        if (!dep.on) {
            return Section.NONE;
        }
        return new Section(dep, map, dep.lockAcquire(map, 0, false, context));
    }

    /**
     * Primes lockdep with "reclaim takes these locks", as drivers do at init with
     * {@code fs_reclaim_acquire(GFP_KERNEL); might_lock(L); fs_reclaim_release(GFP_KERNEL)}
     * (e.g. {@code dma_resv_lockdep()}): the dependency fs_reclaim → L is recorded now, named after
     * {@code context} ("shrinker sb-journal"), so the first allocation that may enter filesystem
     * reclaim while L is held is reported — no memory pressure, and no reclaim pass, needed.
     * A no-op with lockdep off. Never sleeps.
     */
    public void prime(String context, LockdepMap... locks) {
        if (!dep.on) {
            return;
        }
        try (Section s = enterUnconditional(context)) {
            for (LockdepMap l : locks) {
                dep.mightLock(l);
            }
        }
    }

    /** The fs_reclaim lock class (null while lockdep is off). */
    LockClass lockClass() {
        return map.lockClass;
    }

    /** The fs_reclaim map, for {@code might_lock}-style priming and assertions. */
    public LockdepMap lockdepMap() {
        return map;
    }

    /** A held fs_reclaim on the reclaim side; close it on the same thread, in LIFO order. */
    public static final class Section implements AutoCloseable {
        static final Section NONE = new Section(null, null, null);
        private final Lockdep dep;
        private final LockdepMap map;
        private final HeldLock held;
        private boolean closed;

        private Section(Lockdep dep, LockdepMap map, HeldLock held) {
            this.dep = dep;
            this.map = map;
            this.held = held;
        }

        /**
         * Names the reclaim work now running under fs_reclaim ("shrinker inode_cache",
         * "writeback of file X"); dependencies recorded from now on carry this name, and cycle
         * reports print it. Returns this section.
         */
        public Section context(String name) {
            if (held != null) {
                held.note = name;
            }
            return this;
        }

        /** True when fs_reclaim is really held (lockdep on and the mask allowed it). */
        public boolean holds() {
            return held != null && !closed;
        }

        /** {@code fs_reclaim_release()}. Idempotent. */
        @Override
        public void close() {
            if (held != null && !closed) {
                closed = true;
                dep.lockRelease(map, true);
            }
        }
    }
}
