package io.memscope.debug;

import io.memscope.sched.Task;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * One fault-injection point and its knobs: memscope's {@code struct fault_attr} with
 * {@code should_fail_ex()} and {@code fail_dump()} of {@code lib/fault-inject.c}.
 *
 * <p>A subsystem that can fail (the page allocator through {@link FailPageAlloc}, slab through
 * {@link Failslab}, mempool through its {@code fail_mempool_alloc} attribute) asks
 * {@link #shouldFailEx} before doing real work and pretends to fail when it answers true. The
 * knobs are the debugfs files of one {@code /sys/kernel/debug/<name>/} directory, with the
 * kernel's defaults ({@code FAULT_ATTR_INITIALIZER}): probability 0 (off), interval 1, times 1,
 * space 0, verbose 2, task-filter off, stacktrace-depth 32, verbose ratelimit disabled.
 *
 * <p><b>Decision order</b> (exactly that of the current kernel's {@code should_fail_ex()} in
 * {@code lib/fault-inject.c}, the version with {@code stack_checked} from "fault-injection: make
 * stacktrace filter works as expected"; the first rule that decides wins):
 * <ol>
 *   <li>in task context with a non-zero {@code fail-nth} ({@link Task#failNth()}): the
 *       stack-trace filter first; when it rejects → no, and {@code fail-nth} is left as it is.
 *       Otherwise {@code fail-nth} is decremented; reaching zero forces a failure (whatever the
 *       knobs say, go to the last step), otherwise the answer is "no" without looking at the
 *       knobs;</li>
 *   <li>probability 0 → no;</li>
 *   <li>task-filter on and the task not marked {@link Task#makeItFail()} (or not in task
 *       context) → no ({@code fail_task});</li>
 *   <li>times == 0 → no;</li>
 *   <li>the stack-trace filter rejects → no ({@code fail_stacktrace}; before space, interval
 *       and the random draw, so a rejected caller consumes none of them);</li>
 *   <li>space &gt; size → space -= size, no;</li>
 *   <li>interval &gt; 1 → count++, and no unless count % interval == 0;</li>
 *   <li>probability &lt;= a random number below 100 → no;</li>
 *   <li>otherwise (and for a fail-nth failure): fail. The report ({@code fail_dump}) is
 *       printed unless {@link #FAULT_NOWARN}, then times is decremented unless it is −1
 *       (unlimited) or already 0.</li>
 * </ol>
 *
 * <p><b>Determinism (RELIABILITY D1).</b> The random draw comes from a per-attribute SplitMix64
 * generator seeded at construction ({@link #reseed}); with one thread and a fixed seed, the
 * sequence of decisions is identical on every run. With several threads each draw is still
 * atomic, only the interleaving varies.
 *
 * <p><b>Stack-trace filter, Java form.</b> The kernel compares return addresses of the top
 * {@code stacktrace-depth} frames with {@code [require-start, require-end)} and
 * {@code [reject-start, reject-end)}. Java has no addresses, so memscope compares each frame's
 * {@code ClassName.methodName} with a required and a rejected prefix instead (same shape: a
 * reject match vetoes, a require match is needed when a require prefix is set).
 *
 * <p><b>Threading.</b> Knobs may be changed at any time from any thread (as debugfs writes
 * can); {@code times}, {@code space}, {@code count}, the generator and the injection counter
 * are updated atomically, so every injection is counted exactly once (RELIABILITY D3).
 */
public final class FaultAttr {
    /** {@code FAULT_NOWARN}: fail silently (callers pass it for {@code __GFP_NOWARN}). */
    public static final int FAULT_NOWARN = 1;
    /** {@code MAX_STACK_TRACE_DEPTH}: the most frames the stack filter looks at. */
    public static final int MAX_STACK_TRACE_DEPTH = 32;
    /** The title line of every injection report. */
    public static final String REPORT_TITLE = "FAULT_INJECTION: forcing a failure.";

    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;
    private static final VarHandle TIMES;
    private static final VarHandle SPACE;
    private static final VarHandle COUNT;
    private static final VarHandle RNG;
    private static final VarHandle INJECTED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            TIMES = l.findVarHandle(FaultAttr.class, "times", int.class);
            SPACE = l.findVarHandle(FaultAttr.class, "space", int.class);
            COUNT = l.findVarHandle(FaultAttr.class, "count", long.class);
            RNG = l.findVarHandle(FaultAttr.class, "rngState", long.class);
            INJECTED = l.findVarHandle(FaultAttr.class, "injected", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final KernelLog log;
    private final LongSupplier clock;

    // Knobs: single-word values written by "debugfs" and read on every check. Volatile so a
    // change made by one thread is seen by the next check on another; no check needs two knobs
    // to change together (the kernel reads them unlocked too).
    private volatile long probability;
    private volatile long interval = 1;
    private volatile long verbose = 2;
    private volatile boolean taskFilter;
    private volatile int stacktraceDepth = MAX_STACK_TRACE_DEPTH;
    private volatile String requirePrefix;
    private volatile String rejectPrefix;
    private volatile Ratelimit ratelimit;

    // Counters, updated only through the VarHandles above (atomic read-modify-write).
    @SuppressWarnings("unused") private volatile int times = 1;
    @SuppressWarnings("unused") private volatile int space;
    @SuppressWarnings("unused") private volatile long count;
    @SuppressWarnings("unused") private volatile long rngState;
    @SuppressWarnings("unused") private volatile long injected;

    /**
     * A fault attribute with the kernel's defaults, reporting to {@code log}.
     *
     * @param name the debugfs directory name printed as {@code name %pd} (for example
     *             {@code fail_page_alloc})
     * @param seed the seed of the per-attribute random generator
     */
    public FaultAttr(String name, KernelLog log, long seed) {
        this(name, log, seed, System::nanoTime);
    }

    /** As {@link #FaultAttr(String, KernelLog, long)} with the clock the verbose ratelimit uses. */
    public FaultAttr(String name, KernelLog log, long seed, LongSupplier clock) {
        this.name = Objects.requireNonNull(name, "name");
        this.log = Objects.requireNonNull(log, "log");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.rngState = seed;
        // RATELIMIT_STATE_INIT_DISABLED: interval 0 means every report is printed.
        this.ratelimit = new Ratelimit("fail_dump", 0, 10, clock);
    }

    // ------------------------------------------------------------------ the check

    /** {@code should_fail(attr, size)}: {@link #shouldFailEx} without flags. */
    public boolean shouldFail(long size) {
        return shouldFailEx(size, 0);
    }

    /**
     * {@code should_fail_ex()}: decides whether this call should pretend to fail, in the order
     * given in the class comment. Never sleeps; never throws (the report is a printk, not a
     * WARN, so {@code panic_on_warn} does not apply). Uses and changes the calling thread's
     * {@code fail-nth}.
     *
     * @param size  the size of the request ({@code 1 << order} pages, an object size ...),
     *              consumed from {@code space}
     * @param flags {@link #FAULT_NOWARN} or 0
     * @return true when the caller must fail this request
     */
    public boolean shouldFailEx(long size, int flags) {
        Task task = Task.current();
        if (task.inTask()) {
            int nth = task.failNth();
            if (nth != 0) {
                // The kernel checks the stack filter before counting fail-nth down: a call
                // from a rejected caller neither fails nor uses up one of the task's calls.
                if (!failStacktrace()) {
                    return false;
                }
                // Plain per-task field: only the owning thread reads or writes its fail-nth.
                task.setFailNth(nth - 1);
                return nth - 1 == 0 && fail(flags, true);
            }
        }
        long prob = probability;
        if (prob == 0) {
            return false;
        }
        if (taskFilter && !(task.inTask() && task.makeItFail())) {
            return false;
        }
        if ((int) TIMES.getVolatile(this) == 0) {
            return false;
        }
        // Before space, interval and the random draw (kernel: "!stack_checked &&
        // !fail_stacktrace(attr)"; stack_checked is only set on the fail-nth path, which has
        // returned by now): a rejected caller consumes no space, no count and no draw, so the
        // decision sequence of the other callers does not depend on it (RELIABILITY D1).
        if (!failStacktrace()) {
            return false;
        }
        if (consumeSpace(size)) {
            return false;
        }
        long iv = interval;
        if (iv > 1) {
            long c = (long) COUNT.getAndAdd(this, 1L) + 1;
            if (Long.remainderUnsigned(c, iv) != 0) {
                return false;
            }
        }
        if (prob <= randomBelow100()) {
            return false;
        }
        return fail(flags, false);
    }

    /**
     * The forced-failure tail of {@code should_fail_ex}: spend one of {@code times}, then report.
     *
     * <p>The kernel reads {@code times == 0} early and decrements it here with
     * {@code atomic_dec_not_zero}, so two CPUs racing for the last one both fail the call and
     * {@code times} overshoots. memscope claims the unit first (a CAS that refuses at 0) and fails
     * only when the claim succeeds, so {@code times = N} injects exactly N failures however many
     * threads race (RELIABILITY D3). A thread that loses the race for the last unit answers "no".
     * The report still shows {@code times} as it was before this failure spent one, as the
     * kernel prints it. A fail-nth failure ({@code forced}) happens whatever {@code times} says.
     */
    private boolean fail(int flags, boolean forced) {
        int timesBefore = claimTimes();
        if (timesBefore == 0 && !forced) {
            return false;
        }
        if ((flags & FAULT_NOWARN) == 0) {
            failDump(timesBefore);
        }
        INJECTED.getAndAdd(this, 1L);
        return true;
    }

    /** {@code space > size ? (space -= size, true) : false}, as one atomic step. */
    private boolean consumeSpace(long size) {
        for (;;) {
            int s = (int) SPACE.getVolatile(this);
            if (s <= size) {
                return false;
            }
            if (SPACE.compareAndSet(this, s, (int) (s - size))) {
                return true;
            }
        }
    }

    /**
     * {@code if (times != -1) atomic_dec_not_zero(&times)}, made the gate of the failure: returns
     * the value before the decrement (−1 unchanged when unlimited), or 0 when none was left.
     */
    private int claimTimes() {
        for (;;) {
            int t = (int) TIMES.getVolatile(this);
            if (t == -1 || t == 0) {
                return t;
            }
            if (TIMES.compareAndSet(this, t, t - 1)) {
                return t;
            }
        }
    }

    /**
     * {@code get_random_u32_below(100)}: an unbiased draw in [0, 100) from the per-attribute
     * SplitMix64 stream (Lemire's multiply-shift with rejection, as the kernel does).
     */
    private int randomBelow100() {
        final long bound = 100;
        for (;;) {
            long u32 = nextU32();
            long m = u32 * bound;
            long low = m & 0xffffffffL;
            // (2^32 - bound) % bound = 96 for bound 100: reject the few values that would bias.
            if (low >= bound || low >= (0x1_0000_0000L - bound) % bound) {
                return (int) (m >>> 32);
            }
        }
    }

    private long nextU32() {
        // One atomic step of the SplitMix64 state; the mixing is local, so concurrent callers
        // each get a distinct output and a single thread sees a fixed sequence for a seed.
        long z = (long) RNG.getAndAdd(this, GOLDEN_GAMMA) + GOLDEN_GAMMA;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        z ^= z >>> 31;
        return z >>> 32;
    }

    /** {@code fail_stacktrace()}, with frame-name prefixes standing in for address ranges. */
    private boolean failStacktrace() {
        String require = requirePrefix;
        String reject = rejectPrefix;
        boolean found = require == null;
        int depth = stacktraceDepth;
        if (depth == 0 || (found && reject == null)) {
            return found;
        }
        return StackWalker.getInstance().walk(frames -> {
            boolean f = require == null;
            for (StackWalker.StackFrame fr : (Iterable<StackWalker.StackFrame>) frames
                    .filter(x -> !x.getClassName().equals(FaultAttr.class.getName()))
                    .limit(depth)::iterator) {
                String where = fr.getClassName() + "." + fr.getMethodName();
                if (reject != null && where.startsWith(reject)) {
                    return false;
                }
                if (require != null && where.startsWith(require)) {
                    f = true;
                }
            }
            return f;
        });
    }

    /**
     * {@code fail_dump()}: when verbose &gt; 0 and the verbose ratelimit allows, prints the
     * title and the knob line at KERN_NOTICE, plus the calling stack when verbose &gt; 1.
     * The knob line shows {@code space} after this call consumed from it and {@code times}
     * before this failure spends one, as the kernel prints them.
     */
    private void failDump(int timesBefore) {
        if (verbose <= 0) {
            return;
        }
        Ratelimit rl = ratelimit;
        boolean allowed = rl.allow();
        int suppressed = rl.takeSuppressed();
        if (suppressed > 0) {
            log.printk(KernelLog.Level.WARNING, rl.suppressedLine(suppressed));
        }
        if (!allowed) {
            return;
        }
        List<String> lines = new ArrayList<>();
        lines.add(REPORT_TITLE);
        lines.add(reportLine(timesBefore));
        if (verbose > 1) {
            lines.addAll(DumpStack.lines(Task.current(), FaultAttr.class));
        }
        log.printk(KernelLog.Level.NOTICE, lines);
    }

    /** The second report line, {@code "name %pd, interval %lu, probability %lu, space %d, times %d"}. */
    public String reportLine() {
        return reportLine((int) TIMES.getVolatile(this));
    }

    private String reportLine(int times) {
        return "name " + name
                + ", interval " + Long.toUnsignedString(interval)
                + ", probability " + Long.toUnsignedString(probability)
                + ", space " + (int) SPACE.getVolatile(this)
                + ", times " + times;
    }

    // ------------------------------------------------------------------ boot parameter

    /**
     * {@code setup_fault_attr()}: applies a boot parameter
     * {@code "<interval>,<probability>,<space>,<times>"} (as {@code fail_page_alloc=...}).
     * On a malformed string prints {@code "FAULT_INJECTION: failed to parse arguments"} at
     * KERN_WARNING, changes nothing and returns false.
     */
    public boolean setup(String str) {
        String[] parts = str == null ? new String[0] : str.split(",", -1);
        if (parts.length >= 4) {
            try {
                long iv = Long.parseUnsignedLong(parts[0].trim());
                long prob = Long.parseUnsignedLong(parts[1].trim());
                int sp = Integer.parseInt(parts[2].trim());
                int t = Integer.parseInt(parts[3].trim());
                this.probability = prob;
                this.interval = iv;
                TIMES.setVolatile(this, t);
                SPACE.setVolatile(this, sp);
                return true;
            } catch (NumberFormatException e) {
                // fall through to the kernel's message
            }
        }
        log.printk(KernelLog.Level.WARNING, "FAULT_INJECTION: failed to parse arguments");
        return false;
    }

    // ------------------------------------------------------------------ knobs

    /** The debugfs directory name. */
    public String name() {
        return name;
    }

    /** {@code probability}: percent of eligible calls that fail; 0 turns injection off; ≥ 100 fails all. */
    public long probability() {
        return probability;
    }

    /** Sets {@code probability} (percent, ≥ 0). */
    public FaultAttr setProbability(long percent) {
        this.probability = requireNonNegative("probability", percent);
        return this;
    }

    /** {@code interval}: only every interval-th eligible call may fail; 0 and 1 mean every call. */
    public long interval() {
        return interval;
    }

    /** Sets {@code interval} (≥ 0). */
    public FaultAttr setInterval(long interval) {
        this.interval = requireNonNegative("interval", interval);
        return this;
    }

    /** {@code times}: failures left; −1 means unlimited, 0 means no more failures. */
    public int times() {
        return (int) TIMES.getVolatile(this);
    }

    /** Sets {@code times} (−1 for unlimited, else ≥ 0). */
    public FaultAttr setTimes(int times) {
        if (times < -1) {
            throw new IllegalArgumentException("times must be -1 (unlimited) or >= 0, was " + times);
        }
        TIMES.setVolatile(this, times);
        return this;
    }

    /** {@code space}: size still allowed to pass before failures may start. */
    public int space() {
        return (int) SPACE.getVolatile(this);
    }

    /** Sets {@code space} (≥ 0). */
    public FaultAttr setSpace(int space) {
        SPACE.setVolatile(this, (int) requireNonNegative("space", space));
        return this;
    }

    /** {@code verbose}: 0 silent, 1 the two report lines, 2 (default) also the stack. */
    public long verbose() {
        return verbose;
    }

    /** Sets {@code verbose} (≥ 0). */
    public FaultAttr setVerbose(long verbose) {
        this.verbose = requireNonNegative("verbose", verbose);
        return this;
    }

    /**
     * Sets {@code verbose_ratelimit_interval_ms} and {@code verbose_ratelimit_burst}; an
     * interval of 0 (the default) disables the limit.
     */
    public FaultAttr setVerboseRatelimit(long intervalMs, int burst) {
        requireNonNegative("verbose_ratelimit_interval_ms", intervalMs);
        requireNonNegative("verbose_ratelimit_burst", burst);
        this.ratelimit = new Ratelimit("fail_dump", intervalMs * 1_000_000L, burst, clock);
        return this;
    }

    /** {@code task-filter}: when on, only tasks marked {@link Task#setMakeItFail make-it-fail} can fail. */
    public boolean taskFilter() {
        return taskFilter;
    }

    /** Sets {@code task-filter}. */
    public FaultAttr setTaskFilter(boolean on) {
        this.taskFilter = on;
        return this;
    }

    /** {@code stacktrace-depth}: frames the stack filter inspects (clamped to 32, as the kernel does). */
    public int stacktraceDepth() {
        return stacktraceDepth;
    }

    /** Sets {@code stacktrace-depth}; values above {@link #MAX_STACK_TRACE_DEPTH} are clamped. */
    public FaultAttr setStacktraceDepth(int depth) {
        this.stacktraceDepth = (int) Math.min(requireNonNegative("stacktrace-depth", depth), MAX_STACK_TRACE_DEPTH);
        return this;
    }

    /**
     * The Java form of {@code require-start/require-end}: a failure is injected only when one
     * of the top frames' {@code ClassName.methodName} starts with this prefix; null = any.
     */
    public FaultAttr setRequireFrame(String prefix) {
        this.requirePrefix = prefix;
        return this;
    }

    /** The Java form of {@code reject-start/reject-end}: a frame matching this prefix vetoes the failure; null = none. */
    public FaultAttr setRejectFrame(String prefix) {
        this.rejectPrefix = prefix;
        return this;
    }

    /** Re-seeds the generator (and resets {@code count}), so a run can be replayed. */
    public FaultAttr reseed(long seed) {
        RNG.setVolatile(this, seed);
        COUNT.setVolatile(this, 0L);
        return this;
    }

    /** Failures injected so far by this attribute, each counted once (fail-nth ones included). */
    public long injectedCount() {
        return (long) INJECTED.getVolatile(this);
    }

    private static long requireNonNegative(String knob, long v) {
        if (v < 0) {
            throw new IllegalArgumentException(knob + " must be >= 0, was " + v);
        }
        return v;
    }

    @Override
    public String toString() {
        return "FaultAttr[" + reportLine() + ", verbose " + verbose + ", injected " + injectedCount() + "]";
    }
}
