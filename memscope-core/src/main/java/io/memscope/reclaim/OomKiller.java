package io.memscope.reclaim;

import io.memscope.debug.KernelLog;
import io.memscope.debug.Ratelimit;
import io.memscope.gfp.Gfp;
import io.memscope.sched.Task;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The OOM killer of one machine: {@code out_of_memory()}, {@code select_bad_process()},
 * {@code oom_badness()}, {@code oom_kill_process()} and the OOM reaper of {@code mm/oom_kill.c}.
 *
 * <p>When the page allocator has reclaimed all it can and a request must still not fail, it
 * enters {@link #outOfMemory} (from {@code __alloc_pages_may_oom}, holding the
 * {@code oom_lock}). The killer then, in the kernel's order:
 * <ol>
 *   <li>asks the OOM notifiers to free memory — if one did, that is progress;</li>
 *   <li>if the allocating task itself belongs to a killed victim, lets it die (it gets the
 *       ALLOC_OOM reserve) — progress;</li>
 *   <li>without {@code __GFP_FS} kills nothing and reports progress: "the OOM killer does not
 *       compensate for IO-less reclaim", so a small {@code GFP_NOFS} request keeps retrying
 *       instead of killing or failing;</li>
 *   <li>selects the registered victim with the highest badness; while an earlier victim is
 *       still dying (not yet reaped) it aborts and reports progress instead of killing a
 *       second one;</li>
 *   <li>kills it: prints the report, marks its tasks as OOM victims, runs its kill action, and
 *       queues it for the reaper, which waits for its footprint to fall and then lets the next
 *       OOM pass over it ({@code MMF_OOM_SKIP}).</li>
 * </ol>
 * With no killable victim the kernel panics ("System is deadlocked on memory"). A library must
 * not stop the JVM, so memscope prints the kernel's lines and returns false: the allocation
 * then fails (or, for {@code __GFP_NOFAIL}, keeps retrying). {@link #setPanicOnNoVictim}
 * restores the kernel's behaviour by throwing {@link OomPanicException}.
 *
 * <p>Thread-safe; {@code outOfMemory} is serialised by its own lock (the {@code oom_lock}).
 */
public final class OomKiller implements AutoCloseable {
    /** {@code OOM_SCORE_ADJ_MIN}: never kill. */
    public static final int OOM_SCORE_ADJ_MIN = -1000;
    /** {@code OOM_SCORE_ADJ_MAX}. */
    public static final int OOM_SCORE_ADJ_MAX = 1000;
    /** {@code MAX_OOM_REAP_RETRIES}. */
    static final int MAX_OOM_REAP_RETRIES = 10;

    private final KernelLog log;
    private final LongSupplier totalPages;
    private final Supplier<List<String>> showMem;
    private final List<Registration> victims = new CopyOnWriteArrayList<>();
    private final List<LongSupplier> notifiers = new CopyOnWriteArrayList<>();
    private final ReentrantLock oomLock = new ReentrantLock();
    private final Ratelimit oomRs;
    private final AtomicLong oomKills = new AtomicLong();
    private final AtomicLong nextPid = new AtomicLong(1000);
    private final LinkedBlockingQueue<Registration> reapQueue = new LinkedBlockingQueue<>();
    private final long reapRetryNanos;
    private volatile boolean panicOnNoVictim;
    private volatile boolean closed;
    private Thread reaper;

    /**
     * @param log        the machine's kernel log
     * @param totalPages {@code totalram_pages() + total_swap_pages}, for badness normalisation
     * @param showMem    the machine's {@code show_mem()} lines for the report
     * @param reapRetryMillis the reaper's wait between checks (the kernel's HZ/10 = 100 ms)
     */
    public OomKiller(KernelLog log, LongSupplier totalPages, Supplier<List<String>> showMem, long reapRetryMillis) {
        this.log = Objects.requireNonNull(log);
        this.totalPages = Objects.requireNonNull(totalPages);
        this.showMem = Objects.requireNonNull(showMem);
        this.reapRetryNanos = TimeUnit.MILLISECONDS.toNanos(reapRetryMillis);
        // oom_rs: DEFAULT_RATELIMIT_INTERVAL (5 s), DEFAULT_RATELIMIT_BURST (10).
        this.oomRs = new Ratelimit("oom_kill_process", TimeUnit.SECONDS.toNanos(5), 10, System::nanoTime);
    }

    /** With true, "no killable processes" throws {@link OomPanicException} as the kernel panics. */
    public void setPanicOnNoVictim(boolean on) {
        this.panicOnNoVictim = on;
    }

    /** Number of kills so far (the {@code oom_kill} vmstat event). */
    public long oomKills() {
        return oomKills.get();
    }

    /**
     * Registers a killable unit. The calling code attaches the threads that allocate on the
     * unit's behalf with {@link Registration#attachCurrentThread()}; those threads get the
     * OOM-victim reserve ({@code ALLOC_OOM}) once it is killed, and their allocations may fail.
     */
    public Registration register(OomVictim victim) {
        int adj = victim.oomScoreAdj();
        if (adj < OOM_SCORE_ADJ_MIN || adj > OOM_SCORE_ADJ_MAX) {
            throw new IllegalArgumentException("oom_score_adj of " + victim.name() + " must be in [-1000, 1000], was " + adj);
        }
        Registration r = new Registration(victim, nextPid.getAndIncrement());
        victims.add(r);
        return r;
    }

    /** {@code register_oom_notifier}: a callback that frees memory before anything is killed; returns pages freed. */
    public void registerNotifier(LongSupplier notifier) {
        notifiers.add(Objects.requireNonNull(notifier));
    }

    /**
     * {@code oom_badness()}: pages held plus {@code adj * (totalpages / 1000)} (integer division
     * first, as the kernel does), or {@code Long.MIN_VALUE} for an unkillable or already-reaped
     * victim.
     */
    public static long oomBadness(OomVictim v, boolean oomSkip, long totalPages) {
        long adj = v.oomScoreAdj();
        if (adj == OOM_SCORE_ADJ_MIN || oomSkip) {
            return Long.MIN_VALUE;
        }
        long points = v.rssAnonPages() + v.rssFilePages() + v.rssShmemPages() + v.swapEntries()
                + v.pgtablesBytes() / 4096;
        adj *= totalPages / 1000;
        return points + adj;
    }

    /**
     * {@code out_of_memory()}: tries to free memory by killing. Called by the page allocator
     * from {@code __alloc_pages_may_oom}. May sleep briefly (it takes the oom lock).
     *
     * @return true when progress was made or may be made by retrying (a notifier freed memory,
     *         the caller is itself dying, the context has no {@code __GFP_FS}, a victim is
     *         still dying, or one was killed now); false when nothing could be done
     */
    public boolean outOfMemory(int gfpMask, int order) {
        oomLock.lock();
        try {
            return outOfMemoryLocked(gfpMask, order);
        } finally {
            oomLock.unlock();
        }
    }

    /**
     * {@code mutex_trylock(&oom_lock)} as the allocator uses it: returns null when another task
     * is already handling an OOM (the caller then counts progress and sleeps a jiffy).
     */
    public Boolean tryOutOfMemory(int gfpMask, int order) {
        if (!oomLock.tryLock()) {
            return null;
        }
        try {
            return outOfMemoryLocked(gfpMask, order);
        } finally {
            oomLock.unlock();
        }
    }

    private boolean outOfMemoryLocked(int gfpMask, int order) {
        if (closed) {
            return false;
        }
        long freed = 0;
        for (LongSupplier n : notifiers) {
            freed += n.getAsLong();
        }
        if (freed > 0) {
            return true;
        }
        Task current = Task.current();
        if (current.oomVictimOf() instanceof Registration r && r.killed && !r.oomSkip) {
            // task_will_free_mem(current): already dying; let it use the reserves and exit. Once
            // the reaper has passed over it (MMF_OOM_SKIP) its memory will not come back by
            // waiting, so, as in the kernel, it selects another victim like anyone else.
            queueReaper(r);
            return true;
        }
        if ((gfpMask & Gfp.FS) == 0) {
            // The OOM killer does not compensate for IO-less reclaim.
            return true;
        }
        long total = totalPages.getAsLong();
        Registration chosen = null;
        long chosenPoints = Long.MIN_VALUE;
        for (Registration r : victims) {
            if (r.exited) {
                continue;
            }
            if (r.killed) {
                if (!r.oomSkip) {
                    return true; // an earlier victim is still dying: abort, report progress
                }
                continue;
            }
            long points = oomBadness(r.victim, r.oomSkip, total);
            if (points == Long.MIN_VALUE || points < chosenPoints) {
                continue;
            }
            chosen = r;
            chosenPoints = points;
        }
        if (chosen == null) {
            List<String> report = header(current, gfpMask, order);
            report.add("Out of memory and no killable processes...");
            log.printk(KernelLog.Level.WARNING, report);
            if (panicOnNoVictim) {
                log.printk(KernelLog.Level.EMERG, "Kernel panic - not syncing: System is deadlocked on memory");
                throw new OomPanicException("System is deadlocked on memory");
            }
            return false;
        }
        killProcess(current, chosen, gfpMask, order, "Out of memory");
        return true;
    }

    private void killProcess(Task current, Registration victim, int gfpMask, int order, String message) {
        if (oomRs.allow()) {
            List<String> report = header(current, gfpMask, order);
            report.add(String.format("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
                    + "global_oom,task_memcg=/,task=%s,pid=%d,uid=0", victim.victim.name(), victim.pid));
            log.printk(KernelLog.Level.WARNING, report);
        }
        victim.killed = true;
        for (Task t : victim.tasks) {
            t.setOomVictimOf(victim);
        }
        oomKills.incrementAndGet();
        OomVictim v = victim.victim;
        log.printk(KernelLog.Level.ERR, String.format("%s: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB,"
                + " file-rss:%dkB, shmem-rss:%dkB, UID:%d pgtables:%dkB oom_score_adj:%d",
                message, victim.pid, v.name(), v.totalVmPages() * 4, v.rssAnonPages() * 4,
                v.rssFilePages() * 4, v.rssShmemPages() * 4, 0, v.pgtablesBytes() >> 10, v.oomScoreAdj()));
        try {
            v.kill();
        } catch (RuntimeException e) {
            log.printk(KernelLog.Level.ERR, "oom_kill_process: kill action of " + v.name() + " threw " + e);
        }
        queueReaper(victim);
    }

    /** {@code dump_header()} + {@code dump_tasks()}: the lines every OOM report starts with. */
    private List<String> header(Task current, int gfpMask, int order) {
        List<String> out = new ArrayList<>();
        Object mine = current.oomVictimOf();
        int adj = mine instanceof Registration r ? r.victim.oomScoreAdj() : 0;
        out.add(String.format("%s invoked oom-killer: gfp_mask=%s, order=%d, oom_score_adj=%d",
                current.comm(), ReclaimFormat.gfpReport(gfpMask), order, adj));
        out.addAll(showMem.get());
        out.add("Tasks state (memory values in pages):");
        out.add("[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name");
        for (Registration r : victims) {
            if (r.exited) {
                continue;
            }
            OomVictim v = r.victim;
            long rss = v.rssAnonPages() + v.rssFilePages() + v.rssShmemPages();
            out.add(String.format("[%7d] %5d %5d %8d %8d %8d %8d %9d %8d %8d         %5d %s",
                    r.pid, 0, r.pid, v.totalVmPages(), rss, v.rssAnonPages(), v.rssFilePages(),
                    v.rssShmemPages(), v.pgtablesBytes(), v.swapEntries(), v.oomScoreAdj(), v.name()));
        }
        return out;
    }

    private synchronized void queueReaper(Registration r) {
        if (r.queuedForReap || closed) {
            return;
        }
        r.queuedForReap = true;
        if (reaper == null) {
            reaper = Thread.ofPlatform().daemon().name("oom_reaper").start(this::reaperLoop);
        }
        reapQueue.add(r);
    }

    /**
     * {@code oom_reaper()}: for each killed victim, waits (up to MAX_OOM_REAP_RETRIES checks)
     * for its memory to come back, then sets {@code MMF_OOM_SKIP} so the next OOM may select
     * another victim.
     */
    private void reaperLoop() {
        Task.current().becomeKernelThread(0);
        try {
            while (!closed) {
                Registration r = reapQueue.poll(100, TimeUnit.MILLISECONDS);
                if (r == null) {
                    continue;
                }
                reap(r);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void reap(Registration r) throws InterruptedException {
        OomVictim v = r.victim;
        for (int attempt = 0; attempt < MAX_OOM_REAP_RETRIES && !closed; attempt++) {
            if (r.exited || v.rssAnonPages() + v.rssFilePages() + v.rssShmemPages() == 0) {
                log.printk(KernelLog.Level.INFO, String.format("oom_reaper: reaped process %d (%s), now anon-rss:%dkB,"
                        + " file-rss:%dkB, shmem-rss:%dkB", r.pid, v.name(), v.rssAnonPages() * 4,
                        v.rssFilePages() * 4, v.rssShmemPages() * 4));
                r.oomSkip = true;
                return;
            }
            TimeUnit.NANOSECONDS.sleep(reapRetryNanos);
        }
        log.printk(KernelLog.Level.INFO, String.format("oom_reaper: unable to reap pid:%d (%s)", r.pid, v.name()));
        r.oomSkip = true;
    }

    /** Stops the reaper. Victims stay registered but are never killed again. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            closed = true;
            t = reaper;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A registered victim: its pid, its tasks, and its kill state. */
    public final class Registration implements AutoCloseable {
        private final OomVictim victim;
        private final long pid;
        private final List<Task> tasks = new CopyOnWriteArrayList<>();
        private volatile boolean killed;
        private volatile boolean oomSkip;
        private volatile boolean exited;
        private boolean queuedForReap;

        private Registration(OomVictim victim, long pid) {
            this.victim = Objects.requireNonNull(victim);
            this.pid = pid;
        }

        /** The pid printed in reports. */
        public long pid() {
            return pid;
        }

        /** The victim. */
        public OomVictim victim() {
            return victim;
        }

        /** True once the OOM killer has killed it ({@code tsk_is_oom_victim}). */
        public boolean isKilled() {
            return killed;
        }

        /** True once the reaper has passed over it ({@code MMF_OOM_SKIP}). */
        public boolean isReaped() {
            return oomSkip;
        }

        /** Binds the calling thread to this unit: it is marked an OOM victim when the unit is killed. */
        public void attachCurrentThread() {
            Task t = Task.current();
            tasks.add(t);
            if (killed) {
                t.setOomVictimOf(this);
            }
        }

        /** Unbinds the calling thread (clears its victim mark). */
        public void detachCurrentThread() {
            Task t = Task.current();
            tasks.remove(t);
            if (t.oomVictimOf() == this) {
                t.setOomVictimOf(null);
            }
        }

        /** The unit has exited: unregisters it; its tasks lose the victim mark. */
        @Override
        public void close() {
            exited = true;
            victims.remove(this);
            for (Task t : tasks) {
                if (t.oomVictimOf() == this) {
                    t.setOomVictimOf(null);
                }
            }
            tasks.clear();
        }

        @Override
        public String toString() {
            return "oom victim " + pid + " (" + victim.name() + ")";
        }
    }
}
