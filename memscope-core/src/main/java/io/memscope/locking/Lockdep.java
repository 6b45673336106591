package io.memscope.locking;

import io.memscope.debug.KernelLog;
import io.memscope.debug.Ratelimit;
import io.memscope.locking.HeldLocks.HeldLock;
import io.memscope.sched.Task;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * One machine's lock validator: memscope's {@code kernel/locking/lockdep.c} together with
 * {@code CONFIG_DEBUG_ATOMIC_SLEEP}'s {@code __might_sleep()} ({@code kernel/sched/core.c}) and the
 * blocked-task bookkeeping the hung-task watchdog reads.
 *
 * <p><b>What it proves.</b> Every acquisition made while other locks of this machine are held
 * records a dependency {@code held -> new} between their {@link LockClass lock classes}; a new
 * dependency that closes a cycle is reported as "possible circular locking dependency detected"
 * before any thread actually deadlocks. It also reports recursive locking, unlock imbalance,
 * re-initialization of a held lock, and inconsistent hardirq/softirq usage, and owns the
 * {@link FsReclaim fs_reclaim} pseudo-lock that turns "allocates memory" and "runs in reclaim"
 * into ordinary dependencies.
 *
 * <p><b>Cost.</b> Locks test one final field ({@link #checking}) on every lock and unlock; with
 * lockdep and the atomic-sleep check off nothing else runs. With lockdep on, each acquisition walks
 * a few stack frames and takes the graph monitor (a debugging configuration, as in the kernel).
 *
 * <p><b>Threading.</b> The graph and class usage bits are guarded by the graph's monitor; each
 * thread's held-lock stack is its own ({@link HeldLocks}); the blocked-task table is a concurrent
 * map written only by tasks about to park. Reports are built under the monitor and printed after
 * leaving it, because printing may throw under {@code panic_on_warn}.
 *
 * <p>There is no global lockdep: a machine creates one, and locks are created against it.
 */
public final class Lockdep {
    /**
     * Configuration. {@code enabled} is {@code CONFIG_PROVE_LOCKING}; {@code debugAtomicSleep} is
     * {@code CONFIG_DEBUG_ATOMIC_SLEEP}; {@code reportOncePerChain} validates each held-lock chain
     * once ({@code lock_chains}); {@code maxClasses} is {@code MAX_LOCKDEP_KEYS}; {@code preemptRt}
     * makes {@link SpinLock} a sleeping lock; {@code clock} feeds the might_sleep rate limit.
     */
    public record Options(boolean enabled, boolean debugAtomicSleep, boolean reportOncePerChain,
            int maxClasses, boolean preemptRt, LongSupplier clock) {
        /** {@code MAX_LOCKDEP_KEYS}. */
        public static final int MAX_LOCKDEP_KEYS = 8192;

        public Options {
            if (maxClasses < 1) {
                throw new IllegalArgumentException("maxClasses must be >= 1, was " + maxClasses);
            }
            Objects.requireNonNull(clock, "clock");
        }

        /** Lockdep and the atomic-sleep check on, chains validated once, 8192 classes. */
        public static Options defaults() {
            return new Options(true, true, true, MAX_LOCKDEP_KEYS, false, System::nanoTime);
        }

        /** Everything off: locks cost one branch. */
        public static Options off() {
            return new Options(false, false, true, MAX_LOCKDEP_KEYS, false, System::nanoTime);
        }

        public Options withEnabled(boolean on) {
            return new Options(on, debugAtomicSleep, reportOncePerChain, maxClasses, preemptRt, clock);
        }

        public Options withDebugAtomicSleep(boolean on) {
            return new Options(enabled, on, reportOncePerChain, maxClasses, preemptRt, clock);
        }

        public Options withReportOncePerChain(boolean on) {
            return new Options(enabled, debugAtomicSleep, on, maxClasses, preemptRt, clock);
        }

        public Options withMaxClasses(int max) {
            return new Options(enabled, debugAtomicSleep, reportOncePerChain, max, preemptRt, clock);
        }

        public Options withPreemptRt(boolean rt) {
            return new Options(enabled, debugAtomicSleep, reportOncePerChain, maxClasses, rt, clock);
        }

        public Options withClock(LongSupplier c) {
            return new Options(enabled, debugAtomicSleep, reportOncePerChain, maxClasses, preemptRt, c);
        }
    }

    /** A task blocked in one of this machine's sleeping locks (read by the hung-task watchdog). */
    static final class Waiter {
        final Thread thread;
        final BlockingLock lock;
        final long sinceNanos;
        final boolean uninterruptible;
        final HeldLocks held;
        volatile boolean aborted;

        Waiter(Thread thread, BlockingLock lock, long sinceNanos, boolean uninterruptible, HeldLocks held) {
            this.thread = thread;
            this.lock = lock;
            this.sinceNanos = sinceNanos;
            this.uninterruptible = uninterruptible;
            this.held = held;
        }
    }

    private final Options options;
    /** lockdep proper is on and has not turned itself off. */
    final boolean on;
    /** Locks must call into this object at all (lockdep or the atomic-sleep check on). */
    final boolean checking;
    final boolean preemptRt;
    private volatile boolean debugLocks = true;
    private final KernelLog log;
    private final DependencyGraph graph = new DependencyGraph();
    private final ThreadLocal<HeldLocks> held = ThreadLocal.withInitial(() -> new HeldLocks(Thread.currentThread()));
    private final ConcurrentHashMap<Thread, HeldLocks> holders = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Thread, Waiter> waiters = new ConcurrentHashMap<>();
    /**
     * The acquisition site first seen for each lock chain (held classes + the new one). Walking the
     * Java stack costs about a microsecond, so — like the kernel, which saves a stack trace only when
     * a chain is new — a known chain reuses the site recorded when it was first validated.
     */
    private final ConcurrentHashMap<Long, String> chainSites = new ConcurrentHashMap<>();
    private final Ratelimit sleepRatelimit;
    private final AtomicLong reports = new AtomicLong();
    private final FsReclaim fsReclaim;

    /** A validator reporting to {@code log} (whose {@code panicOnWarn} turns reports into exceptions). */
    public Lockdep(Options options, KernelLog log) {
        this.options = Objects.requireNonNull(options);
        this.log = Objects.requireNonNull(log);
        this.on = options.enabled();
        this.checking = options.enabled() || options.debugAtomicSleep();
        this.preemptRt = options.preemptRt();
        // __might_resched prints at most once per second (prev_jiffy + HZ).
        this.sleepRatelimit = new Ratelimit("might_sleep", TimeUnit.SECONDS.toNanos(1), 1, options.clock());
        this.fsReclaim = new FsReclaim(this);
    }

    /** A validator that checks nothing, for locks that need a machine but no checking. */
    public static Lockdep disabled() {
        return new Lockdep(Options.off(), new KernelLog());
    }

    public Options options() {
        return options;
    }

    public KernelLog log() {
        return log;
    }

    /** True while lockdep proves locking ({@code debug_locks}); false when off or after it turned itself off. */
    public boolean debugLocks() {
        return on && debugLocks;
    }

    /** Number of lockdep and might_sleep reports printed. */
    public long reportCount() {
        return reports.get();
    }

    /** Registered lock classes. */
    public int classCount() {
        synchronized (graph) {
            return graph.classCount();
        }
    }

    /** Recorded dependencies ({@code nr_list_entries}). */
    public int dependencyCount() {
        synchronized (graph) {
            return graph.edgeCount();
        }
    }

    /** The {@code fs_reclaim} annotation of this machine. */
    public FsReclaim fsReclaim() {
        return fsReclaim;
    }

    // ---------------------------------------------------------------- maps and classes

    /**
     * A map for a user's own lock (a {@code ReentrantLock}, a {@code synchronized} block): its
     * class is {@code name} plus the calling source line, like {@code lockdep_init_map()} with a
     * static key at that line.
     */
    public LockdepMap newMap(String name) {
        return newMap(name, LockType.PSEUDO, null);
    }

    /** A map whose class is given by an explicit key (shared between creation sites). */
    public LockdepMap newMap(String name, LockClassKey key) {
        return newMap(name, LockType.PSEUDO, Objects.requireNonNull(key));
    }

    private record SiteKey(String name, String site) {}

    LockdepMap newMap(String name, LockType type, Object key) {
        Objects.requireNonNull(name, "name");
        if (!on || !debugLocks) {
            return new LockdepMap(this, null, name);
        }
        String site = Sites.caller();
        Object k = key != null ? key : new SiteKey(name, site);
        LockClass c;
        synchronized (graph) {
            c = graph.register(k, key instanceof LockClassKey lk ? lk.name() : name, site, type, options.maxClasses());
        }
        if (c == null) {
            turnOff("BUG: MAX_LOCKDEP_KEYS too low!");
        }
        return new LockdepMap(this, c, name);
    }

    /** {@code print_lockdep_off()} + {@code debug_locks_off()}: stop validating, keep locking. */
    private void turnOff(String bug) {
        if (debugLocks) {
            debugLocks = false;
            log.printk(KernelLog.Level.ERR, List.of(bug, "turning off the locking correctness validator.",
                    "CPU: 0 PID: " + Thread.currentThread().threadId() + " Comm: "
                            + LockdepReports.comm(Thread.currentThread())));
        }
    }

    // ---------------------------------------------------------------- annotation API

    /** {@code lock_acquire()} exclusive: records that the caller now holds {@code map}. */
    public void acquire(LockdepMap map) {
        lockAcquire(map, 0, false, null);
    }

    /** {@code lock_acquire_shared()}: a non-recursive read acquisition ({@code down_read}). */
    public void acquireRead(LockdepMap map) {
        lockAcquire(map, 1, false, null);
    }

    /** {@code lock_acquire_shared_recursive()}: a recursive read acquisition ({@code read_lock}). */
    public void acquireReadRecursive(LockdepMap map) {
        lockAcquire(map, 2, false, null);
    }

    /** Records a successful trylock: no dependency is checked for it (it never waits). */
    public void acquireTrylock(LockdepMap map) {
        lockAcquire(map, 0, true, null);
    }

    /** {@code lock_release()}: reports "bad unlock balance" when the caller does not hold {@code map}. */
    public void release(LockdepMap map) {
        lockRelease(map, true);
    }

    /** {@code might_lock()}: records the dependencies of taking {@code map} here without taking it. */
    public void mightLock(LockdepMap map) {
        if (lockAcquire(map, 0, false, null) != null) {
            lockRelease(map, false);
        }
    }

    /** {@code lock_is_held()} for the calling task. */
    public boolean isHeld(LockdepMap map) {
        return on && map.lockClass != null && held.get().find(map) >= 0;
    }

    // ---------------------------------------------------------------- core

    /** {@code __lock_acquire()}; returns the held-lock record, or null when not tracked. */
    HeldLock lockAcquire(LockdepMap map, int read, boolean trylock, String note) {
        if (!on || !debugLocks || map.lockClass == null) {
            return null;
        }
        if (map.lockdep != this) {
            throw new IllegalArgumentException("lock " + map.name() + " belongs to another machine's lockdep");
        }
        Task task = Task.current();
        HeldLocks hl = held.get();
        int irq = irqContext(task);
        long chain = hl.chainKey(map.lockClass, read) * 31 + irq;
        String site = chainSites.get(chain);
        if (site == null) {
            site = Sites.caller();
            chainSites.putIfAbsent(chain, site);
        }
        HeldLock h = new HeldLock(map, read, trylock, site, note, irq);
        List<String> report = markUsage(task, hl, h);
        if (report == null && !trylock) {
            report = validateChain(hl, h);
        }
        if (!hl.push(h)) {
            turnOff("BUG: MAX_LOCK_DEPTH too low!");
            return null;
        }
        if (hl.depth() == 1) {
            holders.put(hl.thread, hl);
        }
        try {
            emit(report);
        } catch (RuntimeException panic) {
            // panic_on_warn: the acquisition does not happen, so it must not stay recorded.
            lockRelease(map, false);
            throw panic;
        }
        return h;
    }

    /** {@code __lock_release()}; {@code report} false for silent rollbacks of failed waits. */
    void lockRelease(LockdepMap map, boolean report) {
        if (!on || !debugLocks || map.lockClass == null) {
            return;
        }
        HeldLocks hl = held.get();
        int i = hl.find(map);
        if (i < 0) {
            if (report) {
                emit(LockdepReports.unlockImbalance(hl.thread, map, Sites.caller(), hl.snapshot(), Sites.trace(6)));
            }
            return;
        }
        hl.remove(i);
        if (hl.depth() == 0) {
            holders.remove(hl.thread, hl);
        }
    }

    /** {@code debug_check_no_locks_freed()} for one lock being re-initialized. */
    void checkNotHeldOnInit(LockdepMap map) {
        if (!on || !debugLocks || map.lockClass == null) {
            return;
        }
        HeldLocks hl = held.get();
        int i = hl.find(map);
        if (i >= 0) {
            emit(LockdepReports.heldLockFreed(hl.thread, hl.get(i), hl.snapshot(), Sites.trace(6)));
        }
    }

    private static int irqContext(Task t) {
        return t.inHardirq() ? 2 : t.inServingSoftirq() ? 1 : 0;
    }

    /** {@code validate_chain()}: {@code check_deadlock()} then {@code check_prevs_add()}. */
    private List<String> validateChain(HeldLocks hl, HeldLock next) {
        List<HeldLock> stack = hl.snapshot();
        LockClass nc = next.lockClass();
        List<String> trace = null;
        synchronized (graph) {
            long key = hl.chainKey(nc, next.read);
            if (!graph.addChain(key) && options.reportOncePerChain()) {
                return null; // this chain was validated before
            }
            for (HeldLock prev : stack) {
                if (prev.lockClass() == nc) {
                    if (next.read == 2 && prev.read != 0) {
                        continue; // read-after-read recursion of one class is allowed
                    }
                    return LockdepReports.recursive(hl.thread, next, prev, stack, Sites.trace(6));
                }
            }
            for (int i = stack.size() - 1; i >= 0; i--) {
                HeldLock prev = stack.get(i);
                if (prev.irqContext != next.irqContext) {
                    break; // dependencies never cross into another irq context
                }
                int dep = DependencyGraph.depBit(prev.read, next.read);
                List<DependencyGraph.Edge> path = graph.findStrongPath(nc, next.read, prev.lockClass(), prev.read);
                if (path != null) {
                    if (trace == null) {
                        trace = Sites.trace(6);
                    }
                    return LockdepReports.circular(hl.thread, next, prev, path, trace, stack, fsReclaim.lockClass());
                }
                DependencyGraph.Edge e = graph.findEdge(prev.lockClass(), nc);
                if (e != null) {
                    e.dep |= dep;
                } else {
                    if (trace == null) {
                        trace = Sites.trace(6);
                    }
                    graph.addEdge(prev.lockClass(), nc, dep, trace, prev.site, prev.note, next.note);
                }
                if (!prev.trylock) {
                    break; // older held locks already lead here through prev
                }
            }
        }
        return null;
    }

    /** {@code mark_usage()}: records irq usage and reports {@code inconsistent lock state}. */
    private List<String> markUsage(Task t, HeldLocks hl, HeldLock h) {
        int r = h.read != 0 ? 1 : 0;
        int pc = t.preemptCount();
        boolean softirqsEnabled = (pc & Task.SOFTIRQ_MASK) == 0;
        synchronized (graph) {
            List<String> rep = null;
            if (!h.trylock) {
                if (t.inHardirq()) {
                    rep = mark(t, hl, h, LockClass.USED_IN_HARDIRQ + r);
                }
                if (rep == null && t.inServingSoftirq()) {
                    rep = mark(t, hl, h, LockClass.USED_IN_SOFTIRQ + r);
                }
            }
            if (rep == null && !t.irqsDisabled()) {
                rep = mark(t, hl, h, LockClass.ENABLED_HARDIRQ + r);
                if (rep == null && softirqsEnabled) {
                    rep = mark(t, hl, h, LockClass.ENABLED_SOFTIRQ + r);
                }
            }
            return rep;
        }
    }

    /** {@code mark_lock()} + {@code mark_lock_irq()}'s direct state checks. */
    private List<String> mark(Task t, HeldLocks hl, HeldLock h, int bit) {
        LockClass c = h.lockClass();
        if ((c.usageMask & (1 << bit)) != 0) {
            return null;
        }
        int excl = (bit & ~3) | ((bit & 2) ^ 2); // flip direction, strip read
        int bad = -1;
        if ((c.usageMask & (1 << excl)) != 0) {
            bad = excl;
        } else if ((bit & 1) == 0 && (c.usageMask & (1 << (excl + 1))) != 0) {
            bad = excl + 1; // a write use conflicts with the read use too
        }
        c.usageMask |= 1 << bit;
        c.usageSites[bit] = h.site;
        if (bad < 0) {
            return null;
        }
        List<HeldLock> stack = hl.snapshot();
        stack.add(h);
        return LockdepReports.usageBug(hl.thread, t, h, bad, bit, stack, Sites.trace(6));
    }

    private void emit(List<String> report) {
        if (report != null) {
            reports.incrementAndGet();
            log.warn(String.join("\n", report));
        }
    }

    // ---------------------------------------------------------------- might_sleep

    /**
     * {@code might_sleep()}: when the atomic-sleep check is on and the calling task is atomic
     * (preemption count non-zero, in an interrupt, or interrupts disabled), prints
     * "BUG: sleeping function called from invalid context" with the kernel's follow-on lines and
     * the held locks, at most once per second per machine. Never sleeps itself.
     */
    public void mightSleep() {
        if (options.debugAtomicSleep()) {
            mightSleep(Task.current());
        }
    }

    void mightSleep(Task t) {
        int pc = t.preemptCount();
        boolean irqsOff = t.irqsDisabled();
        if (pc == 0 && !irqsOff) {
            return;
        }
        if (!sleepRatelimit.allow()) {
            return;
        }
        List<String> out = new ArrayList<>();
        out.add("BUG: sleeping function called from invalid context at " + Sites.callerFileLine());
        out.add("in_atomic(): " + (pc != 0 ? 1 : 0) + ", irqs_disabled(): " + (irqsOff ? 1 : 0) + ", non_block: 0, pid: "
                + t.pid() + ", name: " + t.comm());
        out.add("preempt_count: " + Integer.toHexString(pc) + ", expected: 0");
        out.add("RCU nest depth: 0, expected: 0");
        if (on && debugLocks) {
            LockdepReports.heldLocks(out, t.thread(), held.get().snapshot());
        }
        out.add("Call Trace:");
        for (String f : Sites.trace(6)) {
            out.add(" " + f);
        }
        emit(out);
    }

    // ---------------------------------------------------------------- blocked tasks

    /** Called by a sleeping lock just before it parks; pairs with {@link #blockEnd}. */
    Waiter blockStart(BlockingLock lock, boolean uninterruptible) {
        Thread me = Thread.currentThread();
        Waiter w = new Waiter(me, lock, System.nanoTime(), uninterruptible, on ? held.get() : null);
        waiters.put(me, w);
        return w;
    }

    void blockEnd(Waiter w) {
        waiters.remove(w.thread, w);
    }

    Collection<Waiter> waiters() {
        return waiters.values();
    }

    /** Held locks of {@code t} as reports print them; empty when lockdep is off or it holds none. */
    List<HeldLock> heldLocksOf(Thread t) {
        HeldLocks hl = holders.get(t);
        return hl == null ? List.of() : hl.snapshot();
    }

    /** Every task that holds a lock of this machine (for {@code debug_show_all_locks}). */
    Collection<HeldLocks> holders() {
        return holders.values();
    }

    /**
     * Wakes every task blocked in this machine's sleeping locks; each wait ends with
     * {@link WaitAbortedException} without acquiring. The way out of a real deadlock when a test
     * or a machine shutdown must reclaim its threads. Returns how many waits were aborted.
     */
    public int abortAllWaiters() {
        int n = 0;
        for (Waiter w : waiters.values()) {
            w.aborted = true;
            w.thread.interrupt();
            n++;
        }
        return n;
    }

    /** The held locks of the calling task, as lockdep prints them. */
    public List<String> heldLocksReport() {
        List<String> out = new ArrayList<>();
        LockdepReports.heldLocks(out, Thread.currentThread(), on ? held.get().snapshot() : List.of());
        return out;
    }
}
