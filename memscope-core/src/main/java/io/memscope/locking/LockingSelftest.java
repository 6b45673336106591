package io.memscope.locking;

import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.sched.Memalloc;
import io.memscope.sched.Task;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The lockdep self-test: memscope's port of {@code lib/locking-selftest.c}
 * ({@code locking_selftest()}) for the cases memscope's locks can express.
 *
 * <p>Rows: A-A, A-B-B-A, A-B-B-C-C-A, A-B-C-A-B-C, the three four-lock cycles, double unlock,
 * initialize held — each run for {@code spin} ({@link SpinLock}), {@code rspin}
 * ({@link RawSpinLock}), {@code rlock} (recursive-read annotations on a {@link LockdepMap}, the
 * kernel's {@code read_lock} column), {@code mutex}, {@code wsem} and {@code rsem}
 * ({@link RwSemaphore} write and read). Expected outcomes are the kernel's
 * {@code DO_TESTCASE_6R} (FAILURE except {@code rlock}) and {@code DO_TESTCASE_6} (all FAILURE).
 * Then the {@code fs_reclaim} trio: correct nesting SUCCESS, wrong nesting FAILURE, protected
 * nesting SUCCESS. A case "fails" when lockdep printed a report, as {@code dotest()} reads
 * {@code debug_locks}; each case runs on a fresh machine-local lockdep with its own log, and the
 * task's preemption state is restored afterwards (as {@code dotest} restores preempt_count).
 */
public final class LockingSelftest {
    private static final boolean FAILURE = false;
    private static final boolean SUCCESS = true;
    private static final String[] COLUMNS = {"spin", "rspin", "rlock", "mutex", "wsem", "rsem"};

    /** The outcome: totals and the printed table. */
    public record Result(int total, int successes, int unexpectedFailures, List<String> lines) {
        /** True when every case behaved as declared. */
        public boolean passed() {
            return unexpectedFailures == 0;
        }
    }

    /** One lock of one column, as the test macros see it (LOCK, UNLOCK, INIT). */
    private interface L {
        void lock();

        void unlock();

        void init();
    }

    private LockingSelftest() {}

    /** Runs the self-test, prints its table to {@code out} (KERN_INFO) and returns the result. */
    public static Result run(KernelLog out) {
        List<String> lines = new ArrayList<>();
        int[] counts = new int[3]; // total, successes, unexpected
        lines.add("------------------------");
        lines.add("| Locking API testsuite:");
        lines.add("----------------------------------------------------------------------------");
        StringBuilder head = new StringBuilder(" ".repeat(33)).append('|');
        for (String c : COLUMNS) {
            head.append(String.format("%-6s|", center(c)));
        }
        lines.add(head.toString());
        lines.add("  --------------------------------------------------------------------------");
        row6(lines, counts, "A-A deadlock", true, (x) -> {
            x.get("X1").lock();
            x.get("X2").lock();
        });
        row6(lines, counts, "A-B-B-A deadlock", true, (x) -> {
            lu2(x, "A", "B");
            lu2(x, "B", "A");
        });
        row6(lines, counts, "A-B-B-C-C-A deadlock", true, (x) -> {
            lu2(x, "A", "B");
            lu2(x, "B", "C");
            lu2(x, "C", "A");
        });
        row6(lines, counts, "A-B-C-A-B-C deadlock", true, (x) -> {
            lu2(x, "A", "B");
            lu2(x, "C", "A");
            lu2(x, "B", "C");
        });
        row6(lines, counts, "A-B-B-C-C-D-D-A deadlock", true, (x) -> {
            lu2(x, "A", "B");
            lu2(x, "B", "C");
            lu2(x, "C", "D");
            lu2(x, "D", "A");
        });
        row6(lines, counts, "A-B-C-D-B-D-D-A deadlock", true, (x) -> {
            lu2(x, "A", "B");
            lu2(x, "C", "D");
            lu2(x, "B", "D");
            lu2(x, "D", "A");
        });
        row6(lines, counts, "A-B-C-D-B-C-D-A deadlock", true, (x) -> {
            lu2(x, "A", "B");
            lu2(x, "C", "D");
            lu2(x, "B", "C");
            lu2(x, "D", "A");
        });
        row6(lines, counts, "double unlock", false, (x) -> {
            L a = x.get("A");
            a.lock();
            a.unlock();
            a.unlock();
        });
        row6(lines, counts, "initialize held", false, (x) -> {
            L a = x.get("A");
            a.lock();
            a.init();
        });
        lines.add("  --------------------------------------------------------------------------");
        lines.add("  --------------------");
        lines.add("  | fs_reclaim tests |");
        lines.add("  --------------------");
        fsRow(lines, counts, "correct nesting", SUCCESS, (d) -> {
            d.fsReclaim().acquire(Gfp.KERNEL);
            d.fsReclaim().mightAlloc(Gfp.NOFS);
            d.fsReclaim().release(Gfp.KERNEL);
        });
        fsRow(lines, counts, "wrong nesting", FAILURE, (d) -> {
            d.fsReclaim().acquire(Gfp.KERNEL);
            d.fsReclaim().mightAlloc(Gfp.KERNEL);
            d.fsReclaim().release(Gfp.KERNEL);
        });
        fsRow(lines, counts, "protected nesting", SUCCESS, (d) -> {
            d.fsReclaim().acquire(Gfp.KERNEL);
            int cookie = Memalloc.memallocNofsSave();
            try {
                d.fsReclaim().mightAlloc(Gfp.KERNEL);
            } finally {
                Memalloc.memallocNofsRestore(cookie);
            }
            d.fsReclaim().release(Gfp.KERNEL);
        });
        int total = counts[0];
        int ok = counts[1];
        int bad = counts[2];
        if (bad > 0) {
            lines.add("-----------------------------------------------------------------");
            lines.add(String.format("BUG: %3d unexpected failures (out of %3d) - debugging disabled! |", bad, total));
            lines.add("-----------------------------------------------------------------");
        } else {
            lines.add("-------------------------------------------------------");
            lines.add(String.format("Good, all %3d testcases passed! |", ok));
            lines.add("---------------------------------");
        }
        out.printk(KernelLog.Level.INFO, lines);
        return new Result(total, ok, bad, List.copyOf(lines));
    }

    private static String center(String s) {
        int pad = 6 - s.length();
        int left = pad / 2;
        return " ".repeat(left) + s + " ".repeat(pad - left);
    }

    private static void lu2(Locks x, String a, String b) {
        L la = x.get(a);
        L lb = x.get(b);
        la.lock();
        lb.lock();
        lb.unlock();
        la.unlock();
    }

    /** The locks of one test case: named A..D, X1/X2 (one class "X"), all of one column's type. */
    private static final class Locks {
        private final Lockdep dep;
        private final String column;
        private final java.util.Map<String, L> locks = new java.util.HashMap<>();

        Locks(Lockdep dep, String column) {
            this.dep = dep;
            this.column = column;
        }

        L get(String name) {
            return locks.computeIfAbsent(name, n -> make(dep, column, n.startsWith("X") ? "lock_X" : "lock_" + n));
        }
    }

    /** One creation site for every lock, so the class is decided by the name alone (X1, X2 share one). */
    private static L make(Lockdep dep, String column, String name) {
        return switch (column) {
            case "spin" -> {
                SpinLock s = new SpinLock(dep, name);
                yield lockOps(s::lock, s::unlock, s::reinit);
            }
            case "rspin" -> {
                RawSpinLock s = new RawSpinLock(dep, name);
                yield lockOps(s::lock, s::unlock, s::reinit);
            }
            case "rlock" -> {
                LockdepMap m = dep.newMap(name);
                yield lockOps(() -> dep.acquireReadRecursive(m), () -> dep.release(m), () -> dep.checkNotHeldOnInit(m));
            }
            case "mutex" -> {
                Mutex s = new Mutex(dep, name);
                yield lockOps(s::lock, s::unlock, s::reinit);
            }
            case "wsem" -> {
                RwSemaphore s = new RwSemaphore(dep, name);
                yield lockOps(s::downWrite, s::upWrite, s::reinit);
            }
            case "rsem" -> {
                RwSemaphore s = new RwSemaphore(dep, name);
                yield lockOps(s::downRead, s::upRead, s::reinit);
            }
            default -> throw new IllegalArgumentException(column);
        };
    }

    private static L lockOps(Runnable lock, Runnable unlock, Runnable init) {
        return new L() {
            @Override
            public void lock() {
                lock.run();
            }

            @Override
            public void unlock() {
                unlock.run();
            }

            @Override
            public void init() {
                init.run();
            }
        };
    }

    private static Lockdep freshLockdep() {
        return new Lockdep(Lockdep.Options.defaults().withDebugAtomicSleep(false), new KernelLog(64, false));
    }

    /** {@code DO_TESTCASE_6R} (rlock SUCCESS) when {@code readRecursionOk}, else {@code DO_TESTCASE_6}. */
    private static void row6(List<String> lines, int[] counts, String desc, boolean readRecursionOk,
            Consumer<Locks> body) {
        StringBuilder sb = new StringBuilder(String.format("%33s:", desc));
        for (String c : COLUMNS) {
            boolean expected = readRecursionOk && c.equals("rlock") ? SUCCESS : FAILURE;
            Lockdep dep = freshLockdep();
            sb.append(dotest(dep, () -> body.accept(new Locks(dep, c)), expected, counts));
        }
        lines.add(sb.toString());
    }

    private static void fsRow(List<String> lines, int[] counts, String desc, boolean expected,
            Consumer<Lockdep> body) {
        Lockdep dep = freshLockdep();
        lines.add(String.format("%33s:", desc) + dotest(dep, () -> body.accept(dep), expected, counts));
    }

    /** {@code dotest()}: runs one case and compares "lockdep stayed quiet" with the expectation. */
    private static String dotest(Lockdep dep, Runnable testcase, boolean expected, int[] counts) {
        Task t = Task.current();
        int savedPreempt = t.preemptCount();
        int savedRaw = t.rawLockDepth();
        try {
            testcase.run();
        } catch (LockMisuseException expectedMisuse) {
            // double unlock / init held: the lock refused after lockdep reported; state is intact
        } finally {
            t.preemptCountSub(t.preemptCount() - savedPreempt);
            while (t.rawLockDepth() > savedRaw) {
                t.rawLockExit();
            }
        }
        boolean quiet = dep.reportCount() == 0;
        counts[0]++;
        if (quiet != expected) {
            counts[2]++;
            return "FAILED|";
        }
        counts[1]++;
        return "  ok  |";
    }
}
