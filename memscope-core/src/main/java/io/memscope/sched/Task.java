package io.memscope.sched;

import java.util.Objects;

/**
 * The calling thread's allocation context: memscope's counterpart of {@code struct task_struct}
 * as far as memory allocation cares ({@code include/linux/sched.h}).
 *
 * <p>Each Java thread, platform or virtual, has exactly one {@code Task}, found with
 * {@link #current()}. It holds what the kernel reads from {@code current} when it allocates:
 * <ul>
 *   <li>the {@code PF_*} flags ({@link #PF_MEMALLOC}, {@link #PF_MEMALLOC_NOFS},
 *       {@link #PF_MEMALLOC_NOIO}, {@link #PF_MEMALLOC_PIN}, {@link #PF_KSWAPD}, ...), which the
 *       scope API of {@link Memalloc} sets and clears;</li>
 *   <li>the preemption count, laid out as the kernel's {@code preempt_count}
 *       ({@code include/linux/preempt.h}): bits 0–7 preemption-disable depth (spinlocks),
 *       8–15 softirq, 16–19 hardirq, 20–23 NMI; plus the interrupts-disabled depth and the
 *       raw-spinlock depth that PREEMPT_RT rules need;</li>
 *   <li>the cpuset's allowed nodes ({@code mems_allowed}) for {@code __GFP_HARDWALL}, the
 *       per-task fault-injection counter ({@code fail_nth}), and whether the task belongs to an
 *       OOM victim.</li>
 * </ul>
 *
 * <p><b>Threading.</b> Only the owning thread changes its flags and counters (as only
 * {@code current} changes its own {@code task_struct->flags}); the fields are plain so the
 * allocation fast path pays nothing for them. Other threads (the hung-task watchdog, reports)
 * read them through the {@code *Racy} accessors, which may see a slightly stale value, exactly as
 * the kernel's watchdog does. The OOM-victim mark is set by another thread (the OOM killer) and
 * is volatile.
 *
 * <p>There is no global state besides this per-thread object: machines are independent, and a
 * thread that uses two machines carries one context into both, as a kernel thread would.
 */
public final class Task {
    // ---- PF_* flags (include/linux/sched.h), kernel values ----
    /** {@code PF_EXITING}: the task is exiting. */
    public static final int PF_EXITING = 0x00000004;
    /** {@code PF_WQ_WORKER}: a workqueue worker. */
    public static final int PF_WQ_WORKER = 0x00000020;
    /** {@code PF_DUMPCORE}: dumping core; the OOM killer is skipped for it. */
    public static final int PF_DUMPCORE = 0x00000200;
    /** {@code PF_MEMALLOC}: in reclaim or otherwise entitled to all reserves; never recurses into reclaim. */
    public static final int PF_MEMALLOC = 0x00000800;
    /** {@code PF_KCOMPACTD}: the compaction daemon. */
    public static final int PF_KCOMPACTD = 0x00010000;
    /** {@code PF_KSWAPD}: the background reclaim thread ({@code current_is_kswapd()}). */
    public static final int PF_KSWAPD = 0x00020000;
    /** {@code PF_MEMALLOC_NOFS}: every allocation implicitly clears {@code __GFP_FS}. */
    public static final int PF_MEMALLOC_NOFS = 0x00040000;
    /** {@code PF_MEMALLOC_NOIO}: every allocation implicitly clears {@code __GFP_IO} and {@code __GFP_FS}. */
    public static final int PF_MEMALLOC_NOIO = 0x00080000;
    /** {@code PF_KTHREAD}: a kernel thread (never throttled in direct reclaim). */
    public static final int PF_KTHREAD = 0x00200000;
    /** {@code PF_MEMALLOC_PIN}: every allocation implicitly clears {@code __GFP_MOVABLE} (no ZONE_MOVABLE, no CMA). */
    public static final int PF_MEMALLOC_PIN = 0x10000000;

    /** The three scope flags that {@code current_gfp_context()} reads. */
    public static final int PF_MEMALLOC_SCOPE_MASK = PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO | PF_MEMALLOC_PIN;

    // ---- preempt_count layout (include/linux/preempt.h) ----
    public static final int PREEMPT_MASK = 0x000000ff;
    public static final int SOFTIRQ_MASK = 0x0000ff00;
    public static final int HARDIRQ_MASK = 0x000f0000;
    public static final int NMI_MASK = 0x00f00000;
    public static final int PREEMPT_OFFSET = 1;
    public static final int SOFTIRQ_OFFSET = 1 << 8;
    /** {@code SOFTIRQ_DISABLE_OFFSET}: local_bh_disable() adds twice SOFTIRQ_OFFSET. */
    public static final int SOFTIRQ_DISABLE_OFFSET = 2 * SOFTIRQ_OFFSET;
    public static final int HARDIRQ_OFFSET = 1 << 16;
    public static final int NMI_OFFSET = 1 << 20;

    private static final ThreadLocal<Task> CURRENT = ThreadLocal.withInitial(Task::new);

    private final Thread thread;
    private int flags;
    private int preemptCount;
    private int irqsDisabledDepth;
    private int rawLockDepth;
    private long memsAllowed = ALL_NODES;
    private int failNth;
    private volatile boolean makeItFail;
    private boolean rtTask;
    private volatile Object oomVictimOf;
    /** When this task's current slice began: its creation or its last yield in {@link CondResched}. */
    private long sliceStart = System.nanoTime();

    /** The open allocation scopes (see {@link Memalloc}); owned by this task's thread. */
    final ScopeStack scopes = new ScopeStack();
    /** memscope extension scopes: GFP bits added to / removed from every allocation (see {@link Memalloc#gfpScope}). */
    int gfpScopeSet;
    int gfpScopeClear;

    /** The value of {@link #memsAllowed()} when the cpuset allows every node. */
    public static final long ALL_NODES = -1L;

    private Task() {
        this.thread = Thread.currentThread();
    }

    /**
     * Tasks by {@code threadId & (BY_TID.length - 1)}: a direct-mapped cache in front of
     * {@link #CURRENT}. {@code ThreadLocal.get()} is a chain of seven dependent loads (thread, map,
     * table, length, entry, referent, value) and the page allocator's fast path pays it on every
     * allocation and every free; a hit here is three (thread, id, entry) plus a check that runs in
     * parallel.
     *
     * <p>Races are benign: entries are written with plain stores by the thread the task belongs
     * to, and a reader uses an entry only if its {@link #thread}, a final field, is the reader's own
     * thread — final-field semantics make that field correct in any reference a reader can see, and
     * a task it owns was written by itself. Two live threads whose ids collide evict each other and
     * fall back to the ThreadLocal. The table keeps at most its length of finished threads' tasks
     * reachable until they are evicted.
     */
    private static final Task[] BY_TID = new Task[4096];

    /** The calling thread's task ({@code current}). Never null; created on first use. */
    public static Task current() {
        Thread t = Thread.currentThread();
        Task k = BY_TID[(int) t.threadId() & (BY_TID.length - 1)];
        if (k != null && k.thread == t) {
            return k;
        }
        return currentSlow(t);
    }

    private static Task currentSlow(Thread t) {
        Task k = CURRENT.get();
        BY_TID[(int) t.threadId() & (BY_TID.length - 1)] = k;
        return k;
    }

    /** The thread this task belongs to. */
    public Thread thread() {
        return thread;
    }

    /** The task's name as the kernel prints {@code current->comm}: the thread's name, or {@code vthread-<id>} when it has none. */
    public String comm() {
        String n = thread.getName();
        if (n == null || n.isEmpty()) {
            return (thread.isVirtual() ? "vthread-" : "thread-") + thread.threadId();
        }
        return n;
    }

    /** The task's id as the kernel prints a pid: the thread id. */
    public long pid() {
        return thread.threadId();
    }

    /** True when the caller is this task's own thread. */
    public boolean isCurrent() {
        return Thread.currentThread() == thread;
    }

    // ---- flags ----

    /** {@code current->flags}. */
    public int flags() {
        return flags;
    }

    /** Flags as seen from another thread (may be stale). */
    public int flagsRacy() {
        return flags;
    }

    /** True when every bit of {@code pf} is set. */
    public boolean hasFlags(int pf) {
        return (flags & pf) == pf;
    }

    /**
     * Sets PF bits. Only the scope API and the kernel-thread setup (kswapd, reclaim) should call
     * this; users open scopes through {@link Memalloc}.
     */
    void setFlagBits(int pf) {
        flags |= pf;
    }

    /** Clears PF bits (see {@link #setFlagBits}). */
    void clearFlagBits(int pf) {
        flags &= ~pf;
    }

    /**
     * Marks this thread as a kernel thread of the given kind ({@link #PF_KTHREAD},
     * {@link #PF_KSWAPD}, {@link #PF_MEMALLOC} ...) for the rest of its life, as
     * {@code kthread_run} and {@code kswapd()} do. Must be called on the thread itself.
     */
    public void becomeKernelThread(int pf) {
        requireCurrent("becomeKernelThread");
        flags |= pf | PF_KTHREAD;
    }

    /** {@code current_is_kswapd()}. */
    public boolean isKswapd() {
        return (flags & PF_KSWAPD) != 0;
    }

    /** Number of allocation scopes currently open on this task (raw saves and scope objects). */
    public int openScopeDepth() {
        return scopes.depth;
    }

    /**
     * GFP bits that memscope's extension scopes add to every allocation ({@code __GFP_NOWARN},
     * {@code __GFP_ZERO}, {@code __GFP_NOLOCKDEP}, {@code __GFP_ACCOUNT}); 0 outside such scopes.
     * The kernel has no counterpart; see {@link Memalloc#gfpScope}.
     */
    public int gfpScopeSet() {
        return gfpScopeSet;
    }

    /** GFP bits that memscope's extension scopes remove from every allocation ({@code __GFP_NOWARN}). */
    public int gfpScopeClear() {
        return gfpScopeClear;
    }

    /** True when this task records where each scope was opened (see {@link Memalloc#setScopeDebug}). */
    public boolean scopeDebug() {
        return scopes.debug;
    }

    // ---- preemption and interrupt context ----

    /** {@code preempt_count()}. */
    public int preemptCount() {
        return preemptCount;
    }

    /** Adds to the preemption count ({@code preempt_count_add}); used by spinlocks and the irq simulators. */
    public void preemptCountAdd(int delta) {
        preemptCount += delta;
    }

    /** Subtracts from the preemption count ({@code preempt_count_sub}). */
    public void preemptCountSub(int delta) {
        preemptCount -= delta;
    }

    /** {@code in_atomic()}: preemption disabled or in any interrupt context. */
    public boolean inAtomic() {
        return preemptCount != 0;
    }

    /** {@code in_nmi()}. */
    public boolean inNmi() {
        return (preemptCount & NMI_MASK) != 0;
    }

    /** {@code in_hardirq()}. */
    public boolean inHardirq() {
        return (preemptCount & HARDIRQ_MASK) != 0;
    }

    /** {@code in_serving_softirq()}. */
    public boolean inServingSoftirq() {
        return (preemptCount & SOFTIRQ_MASK & SOFTIRQ_OFFSET) != 0;
    }

    /** {@code in_interrupt()}: NMI, hardirq, or softirq (serving or disabled). */
    public boolean inInterrupt() {
        return (preemptCount & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_MASK)) != 0;
    }

    /** {@code in_task()}: not in NMI, hardirq, or serving a softirq. */
    public boolean inTask() {
        return (preemptCount & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_OFFSET)) == 0;
    }

    /**
     * Plain process context with no cpuset: preemption and interrupts enabled, no raw spinlock
     * held, every node allowed. The allocator's fast lane is for such tasks only; anything else
     * (atomic context, NMI, PREEMPT_RT refusals, cpuset restrictions) takes the general path.
     */
    public boolean plainProcessContext() {
        return (preemptCount | irqsDisabledDepth | rawLockDepth) == 0 && memsAllowed == ALL_NODES;
    }

    /** {@code irqs_disabled()}. */
    public boolean irqsDisabled() {
        return irqsDisabledDepth != 0;
    }

    /** {@code local_irq_disable()} (nesting depth counted). */
    public void localIrqDisable() {
        irqsDisabledDepth++;
    }

    /** {@code local_irq_enable()}. */
    public void localIrqEnable() {
        if (irqsDisabledDepth == 0) {
            throw new IllegalStateException("local_irq_enable with interrupts already enabled on " + comm());
        }
        irqsDisabledDepth--;
    }

    /**
     * The body of {@link CondResched#condResched()} for this (current, virtual) task:
     * {@code should_resched(0)} — preemptible and the slice used — then yield and start a new slice.
     */
    boolean reschedIfSliceUsed(long now) {
        if ((preemptCount | irqsDisabledDepth | rawLockDepth) != 0 || now - sliceStart < CondResched.SLICE_NANOS) {
            return false;
        }
        // Not Thread.yield(): see CondResched for why a timed park is the yield that works. A park
        // returns at once while the interrupt status is set, so clear it around the park and set it
        // again: an interrupted thread that keeps working must still give its carrier away.
        boolean interrupted = Thread.interrupted();
        if (interrupted) {
            // Setting the status again (below) also unparks the thread, so the previous call left a
            // permit behind: this park takes it, the next one yields.
            java.util.concurrent.locks.LockSupport.parkNanos(1L);
        }
        java.util.concurrent.locks.LockSupport.parkNanos(1L);
        if (interrupted) {
            thread.interrupt();
        }
        sliceStart = System.nanoTime();
        return true;
    }

    /** Number of raw spinlocks held (stay atomic even on PREEMPT_RT). */
    public int rawLockDepth() {
        return rawLockDepth;
    }

    /** Called by raw spinlocks on acquire. */
    public void rawLockEnter() {
        rawLockDepth++;
    }

    /** Called by raw spinlocks on release. */
    public void rawLockExit() {
        rawLockDepth--;
    }

    /** Preemption count as seen from another thread (may be stale). */
    public int preemptCountRacy() {
        return preemptCount;
    }

    // ---- placement, fault injection, OOM ----

    /** The cpuset's allowed nodes ({@code mems_allowed}) as a bit set; {@link #ALL_NODES} by default. */
    public long memsAllowed() {
        return memsAllowed;
    }

    /** Sets the allowed nodes (the cpuset counterpart honoured by {@code __GFP_HARDWALL}). */
    public void setMemsAllowed(long nodeMask) {
        requireCurrent("setMemsAllowed");
        if (nodeMask == 0) {
            throw new IllegalArgumentException("mems_allowed must name at least one node");
        }
        this.memsAllowed = nodeMask;
    }

    /** {@code current->fail_nth}: when positive, the nth fault-injection check from now fails. */
    public int failNth() {
        return failNth;
    }

    /** Sets {@code fail_nth} (as writing {@code /proc/self/fail-nth}); 0 turns it off. */
    public void setFailNth(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("fail-nth must be >= 0, was " + n);
        }
        this.failNth = n;
    }

    /**
     * {@code task->make_it_fail} ({@code /proc/<pid>/make-it-fail}): when a fault attribute has
     * its task filter on, only tasks with this mark can have failures injected.
     */
    public boolean makeItFail() {
        return makeItFail;
    }

    /** Sets {@code make_it_fail}. Any thread may set it, as any writer of /proc/pid/make-it-fail can. */
    public void setMakeItFail(boolean on) {
        this.makeItFail = on;
    }

    /** {@code rt_or_dl_task(current)}: a real-time task gets ALLOC_MIN_RESERVE for blocking allocations. */
    public boolean isRtTask() {
        return rtTask;
    }

    /** Marks this task real-time (SCHED_FIFO/RR or deadline counterpart). */
    public void setRtTask(boolean rt) {
        this.rtTask = rt;
    }

    // ---- the "CPU" this task runs on, per machine ----
    private Object pcpOwner;
    private int pcpSlot;

    /**
     * The per-CPU slot this task last used on the machine {@code owner}, or -1 if it has not used
     * that machine yet. memscope's counterpart of {@code smp_processor_id()}: a task keeps its
     * slot until it finds it busy and moves, as a task migrates between CPUs. Correctness never
     * depends on it (slots have their own locks); it only keeps threads from sharing a slot.
     */
    public int pcpSlot(Object owner) {
        return pcpOwner == owner ? pcpSlot : -1;
    }

    /** Records the slot this task now uses on {@code owner} (only the task's own thread calls this). */
    public void setPcpSlot(Object owner, int slot) {
        this.pcpOwner = owner;
        this.pcpSlot = slot;
    }

    /**
     * The OOM victim this task belongs to, or null ({@code tsk_is_oom_victim}). Set by the OOM
     * killer from another thread.
     */
    public Object oomVictimOf() {
        return oomVictimOf;
    }

    /** True when this task belongs to an OOM victim. */
    public boolean isOomVictim() {
        return oomVictimOf != null;
    }

    /** Marks (or, with null, unmarks) this task as belonging to an OOM victim. Any thread may call it. */
    public void setOomVictimOf(Object victim) {
        this.oomVictimOf = victim;
    }

    void requireCurrent(String what) {
        if (Thread.currentThread() != thread) {
            throw new WrongTaskException(what, this, current());
        }
    }

    @Override
    public String toString() {
        return comm() + "/" + pid();
    }

    /** Thrown when one thread tries to change another thread's task-private state. */
    public static final class WrongTaskException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        WrongTaskException(String what, Task owner, Task caller) {
            super(what + " must run on the task's own thread: expected " + Objects.toString(owner)
                    + ", called from " + Objects.toString(caller));
        }
    }
}
