package io.memscope.locking;

import io.memscope.debug.KernelLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The hung-task watchdog: memscope's {@code khungtaskd} ({@code kernel/hung_task.c}).
 *
 * <p>A daemon thread wakes every check interval and looks at the tasks blocked in this
 * machine's sleeping locks in uninterruptible sleep ({@link Mutex#lock()},
 * {@link RwSemaphore}, PREEMPT_RT {@link SpinLock}s). Each one blocked for at least the timeout is
 * reported as the kernel does ("INFO: task comm:pid blocked for more than N seconds.", its stack,
 * the lock it waits for and the task that likely owns it), every check, until
 * {@code hung_task_warnings} reports have been printed (default 10; negative means unlimited).
 * memscope adds one thing the kernel does not: when the blocked tasks wait for each other in a
 * cycle, the cycle is named. Then all held locks are shown ({@code debug_show_all_locks}) — from
 * lockdep when it is on, otherwise the locks known to be owned by the tasks others wait for.
 *
 * <p>It lives in {@code locking} because it needs the blocked-on and held-lock records that only
 * the locks have. Reports go to the log at KERN_ERR (not WARN: {@code hung_task_panic} is a
 * separate switch). So a task is reported no later than timeout + interval after it blocked.
 */
public final class HungTaskDetector implements AutoCloseable {
    /** {@code sysctl_hung_task_warnings} default. */
    public static final int DEFAULT_WARNINGS = 10;

    private final Lockdep dep;
    private final KernelLog log;
    private final long timeoutNanos;
    private final long intervalNanos;
    private final AtomicInteger warnings;
    private volatile boolean stopped;
    private Thread thread;

    /**
     * A watchdog for {@code lockdep}'s machine; {@code timeout} is
     * {@code hung_task_timeout_secs}, {@code interval} {@code hung_task_check_interval_secs},
     * {@code warnings} {@code hung_task_warnings}. Not started.
     */
    public HungTaskDetector(Lockdep lockdep, Duration timeout, Duration interval, int warnings) {
        this.dep = Objects.requireNonNull(lockdep);
        this.log = lockdep.log();
        if (timeout.isNegative() || timeout.isZero() || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("hung task timeout and interval must be positive: " + timeout + ", "
                    + interval);
        }
        this.timeoutNanos = timeout.toNanos();
        this.intervalNanos = interval.toNanos();
        this.warnings = new AtomicInteger(warnings);
    }

    /** Starts the {@code khungtaskd} daemon thread. Returns this. */
    public synchronized HungTaskDetector start() {
        if (thread != null) {
            throw new IllegalStateException("khungtaskd already started");
        }
        thread = Thread.ofPlatform().daemon().name("khungtaskd").start(this::run);
        return this;
    }

    private void run() {
        while (!stopped) {
            try {
                TimeUnit.NANOSECONDS.sleep(intervalNanos);
            } catch (InterruptedException e) {
                return;
            }
            check(System.nanoTime());
        }
    }

    /** Warnings left ({@code hung_task_warnings}). */
    public int warningsLeft() {
        return warnings.get();
    }

    /**
     * {@code check_hung_uninterruptible_tasks()} at time {@code nowNanos} (same clock as
     * {@link System#nanoTime()}): reports every task blocked uninterruptibly for at least the
     * timeout, while warnings last. Returns the number of tasks reported.
     */
    public int check(long nowNanos) {
        List<Lockdep.Waiter> hung = new ArrayList<>();
        for (Lockdep.Waiter w : dep.waiters()) {
            if (w.uninterruptible && nowNanos - w.sinceNanos >= timeoutNanos) {
                hung.add(w);
            }
        }
        if (hung.isEmpty()) {
            return 0;
        }
        hung.sort((a, b) -> Long.compare(a.thread.threadId(), b.thread.threadId()));
        List<String> out = new ArrayList<>();
        int reported = 0;
        for (Lockdep.Waiter w : hung) {
            int left = warnings.get();
            if (left == 0) {
                break;
            }
            if (left > 0) {
                warnings.decrementAndGet();
            }
            reported++;
            reportTask(out, w, nowNanos);
        }
        if (reported == 0) {
            return 0;
        }
        nameCycles(out, hung);
        showAllLocks(out);
        log.printk(KernelLog.Level.ERR, out);
        return reported;
    }

    private static String id(Thread t) {
        return LockdepReports.comm(t) + ":" + t.threadId();
    }

    private void reportTask(List<String> out, Lockdep.Waiter w, long now) {
        out.add("INFO: task " + id(w.thread) + " blocked for more than "
                + TimeUnit.NANOSECONDS.toSeconds(now - w.sinceNanos) + " seconds.");
        out.add("      Not tainted memscope");
        out.add("\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.");
        showTask(out, w.thread);
        Thread owner = w.lock.likelyOwner();
        if (owner == null) {
            out.add("INFO: task " + id(w.thread) + " is blocked on " + w.lock.kindPhrase()
                    + ", but the owner is not found.");
        } else {
            out.add("INFO: task " + id(w.thread) + " is blocked on " + w.lock.kindPhrase() + " likely owned by task "
                    + id(owner) + ".");
            showTask(out, owner);
        }
        out.add("  waiting for lock (" + w.lock.lockName() + ")");
    }

    /** {@code sched_show_task()}: the task line and a few frames of its Java stack. */
    private static void showTask(List<String> out, Thread t) {
        out.add("task:" + LockdepReports.comm(t) + " state:" + (t.getState() == Thread.State.RUNNABLE ? "R" : "D")
                + " pid:" + t.threadId());
        out.add("Call Trace:");
        StackTraceElement[] st = t.getStackTrace();
        int shown = 0;
        for (StackTraceElement e : st) {
            if (e.getClassName().startsWith("java.") || e.getClassName().startsWith("jdk.")) {
                continue;
            }
            out.add(" " + e);
            if (++shown == 8) {
                break;
            }
        }
    }

    /** memscope's addition: names a cycle of tasks each waiting for a lock the next one owns. */
    private void nameCycles(List<String> out, List<Lockdep.Waiter> hung) {
        Map<Thread, Lockdep.Waiter> byThread = new HashMap<>();
        for (Lockdep.Waiter w : dep.waiters()) {
            byThread.put(w.thread, w);
        }
        LinkedHashSet<Thread> named = new LinkedHashSet<>();
        for (Lockdep.Waiter start : hung) {
            if (named.contains(start.thread)) {
                continue;
            }
            List<Lockdep.Waiter> path = new ArrayList<>();
            LinkedHashSet<Thread> onPath = new LinkedHashSet<>();
            Lockdep.Waiter w = start;
            while (w != null && onPath.add(w.thread)) {
                path.add(w);
                Thread owner = w.lock.likelyOwner();
                w = owner == null ? null : byThread.get(owner);
            }
            if (w == null) {
                continue;
            }
            int from = 0;
            while (path.get(from).thread != w.thread) {
                from++;
            }
            StringBuilder sb = new StringBuilder("INFO: deadlock: ");
            for (int i = from; i < path.size(); i++) {
                Lockdep.Waiter x = path.get(i);
                named.add(x.thread);
                sb.append("task ").append(id(x.thread)).append(" waits for (").append(x.lock.lockName())
                        .append(") owned by ");
            }
            int n = path.size() - from;
            sb.append("task ").append(id(w.thread)).append(n == 1
                    ? ": the task waits for a lock it holds itself and can never proceed."
                    : ": these " + n + " tasks wait for each other and none can proceed.");
            out.add(sb.toString());
        }
    }

    /** {@code debug_show_all_locks()}. */
    private void showAllLocks(List<String> out) {
        out.add("");
        out.add("Showing all locks held in the system:");
        if (dep.debugLocks()) {
            for (HeldLocks hl : dep.holders()) {
                LockdepReports.heldLocks(out, hl.thread, hl.snapshot());
            }
        } else {
            Map<Thread, List<String>> owned = new LinkedHashMap<>();
            for (Lockdep.Waiter w : dep.waiters()) {
                Thread o = w.lock.likelyOwner();
                if (o != null) {
                    owned.computeIfAbsent(o, k -> new ArrayList<>())
                            .add("(" + w.lock.lockName() + "), waited for by " + id(w.thread));
                }
            }
            out.add("(lockdep is off: only locks that blocked tasks wait for are known)");
            for (Map.Entry<Thread, List<String>> e : owned.entrySet()) {
                List<String> ls = e.getValue();
                out.add(ls.size() + " lock" + (ls.size() == 1 ? "" : "s") + " held by " + LockdepReports.task(e.getKey())
                        + ":");
                for (int i = 0; i < ls.size(); i++) {
                    out.add(" #" + i + ": " + ls.get(i));
                }
            }
        }
        out.add("");
        out.add("=============================================");
    }

    /** Stops the daemon thread and waits for it. */
    @Override
    public void close() {
        stopped = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(TimeUnit.NANOSECONDS.toMillis(intervalNanos) + 1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
