package io.memscope.locking;

import io.memscope.gfp.GfpFormat;
import io.memscope.locking.DependencyGraph.Edge;
import io.memscope.locking.HeldLocks.HeldLock;
import io.memscope.sched.Task;
import java.util.ArrayList;
import java.util.List;

/**
 * The text of lockdep's reports, line for line in the kernel's shape
 * ({@code print_circular_bug()}, {@code print_deadlock_bug()}, {@code print_unlock_imbalance_bug()},
 * {@code print_freed_lock_bug()}, {@code print_usage_bug()}, {@code lockdep_print_held_locks()}
 * in {@code kernel/locking/lockdep.c}), plus memscope's own advice for cycles through
 * {@code fs_reclaim}. Java stack frames stand where the kernel prints {@code %pS}.
 */
final class LockdepReports {
    private static final String IDENT = "memscope lockdep Not tainted";

    private LockdepReports() {}

    /** The one place a GFP mask is printed by this package (swapped for GfpFormat at merge). */
    static String gfp(int mask) {
        return GfpFormat.report(mask);
    }

    static String comm(Thread t) {
        String n = t.getName();
        return n == null || n.isEmpty() ? "thread-" + t.threadId() : n;
    }

    static String task(Thread t) {
        return comm(t) + "/" + t.threadId();
    }

    private static void header(List<String> out, String title) {
        String bar = "=".repeat(title.length());
        out.add("");
        out.add(bar);
        out.add(title);
        out.add(IDENT);
        out.add("-".repeat(title.length()));
    }

    static String lock(HeldLock h) {
        return h.map.address() + " " + h.lockClass().printName() + ", at: " + h.site;
    }

    /** {@code lockdep_print_held_locks()}. */
    static void heldLocks(List<String> out, Thread t, List<HeldLock> held) {
        if (held.isEmpty()) {
            out.add("no locks held by " + task(t) + ".");
            return;
        }
        out.add(held.size() + " lock" + (held.size() == 1 ? "" : "s") + " held by " + task(t) + ":");
        for (int i = 0; i < held.size(); i++) {
            out.add(" #" + i + ": " + lock(held.get(i)));
        }
    }

    private static void backtrace(List<String> out, List<String> trace) {
        out.add("");
        out.add("stack backtrace:");
        for (String f : trace) {
            out.add(" " + f);
        }
    }

    private static String lockName(HeldLock h) {
        return h.lockClass().name();
    }

    /** {@code print_circular_bug()}; {@code path} runs from the new lock to the held one. */
    static List<String> circular(Thread curr, HeldLock next, HeldLock prev, List<Edge> path,
            List<String> currentTrace, List<HeldLock> held, LockClass fsReclaim) {
        List<String> out = new ArrayList<>();
        header(out, "WARNING: possible circular locking dependency detected");
        out.add(task(curr) + " is trying to acquire lock:");
        out.add(lock(next));
        out.add("");
        out.add("but task is already holding lock:");
        out.add(lock(prev));
        out.add("");
        out.add("which lock already depends on the new lock.");
        out.add("");
        out.add("");
        out.add("the existing dependency chain (in reverse order) is:");
        for (int j = path.size() - 1; j >= 0; j--) {
            Edge e = path.get(j);
            entry(out, j + 1, e.to, e.trace);
        }
        entry(out, 0, next.lockClass(), currentTrace);
        out.add("");
        out.add("other info that might help us debug this:");
        out.add("");
        LockClass parent = path.get(path.size() - 1).from;
        String src = lockName(next);
        String tgt = lockName(prev);
        if (parent != next.lockClass()) {
            out.add("Chain exists of:");
            out.add("  " + src + " --> " + parent.name() + " --> " + tgt);
            out.add("");
        }
        out.add(" Possible unsafe locking scenario:");
        out.add("");
        out.add("       CPU0                    CPU1");
        out.add("       ----                    ----");
        out.add("  " + (prev.read != 0 ? "rlock(" : "lock(") + tgt + ");");
        out.add("                               lock(" + parent.name() + ");");
        out.add("                               lock(" + tgt + ");");
        out.add("  " + (next.read != 0 ? "rlock(" : "lock(") + src + ");");
        out.add("");
        out.add(" *** DEADLOCK ***");
        out.add("");
        heldLocks(out, curr, held);
        if (fsReclaim != null) {
            fsReclaimAdvice(out, next, prev, path, currentTrace, fsReclaim);
        }
        backtrace(out, currentTrace);
        return out;
    }

    private static void entry(List<String> out, int depth, LockClass c, List<String> trace) {
        out.add("");
        out.add("-> #" + depth + " " + c.printName() + ":");
        for (String f : trace) {
            out.add("       " + f);
        }
    }

    /** One link of the cycle, the new dependency included. */
    private record Link(LockClass from, LockClass to, String site, String prevSite, String prevNote, String nextNote) {}

    /** memscope's advice for a cycle through fs_reclaim: which lock, where, which scope fixes it. */
    private static void fsReclaimAdvice(List<String> out, HeldLock next, HeldLock prev, List<Edge> path,
            List<String> currentTrace, LockClass fs) {
        List<Link> cycle = new ArrayList<>();
        for (Edge e : path) {
            cycle.add(new Link(e.from, e.to, first(e.trace), e.prevSite, e.prevNote, e.nextNote));
        }
        cycle.add(new Link(prev.lockClass(), next.lockClass(), first(currentTrace), prev.site, prev.note, next.note));
        Link into = null;
        Link outOf = null;
        for (Link l : cycle) {
            if (l.to == fs) {
                into = l;
            }
            if (l.from == fs) {
                outOf = l;
            }
        }
        if (into == null || outOf == null) {
            return;
        }
        String x = into.from.name();
        String y = outOf.to.name();
        String ctx = outOf.prevNote == null ? "reclaim" : outOf.prevNote;
        out.add("");
        out.add("memscope: how to break this fs_reclaim cycle:");
        out.add("  reclaim needs lock (" + y + "): " + ctx + " takes it while holding fs_reclaim, at "
                + outOf.site + ".");
        out.add("  (" + x + ") was taken at " + into.prevSite + " and, while it was held, an allocation that may"
                + " enter filesystem reclaim" + (into.nextNote == null ? "" : " (" + into.nextNote + ")")
                + " was made at " + into.site + ".");
        if (!x.equals(y)) {
            out.add("  (" + x + ") leads to (" + y + ") through the chain above, so reclaim can wait on a task that"
                    + " waits for memory.");
        }
        out.add("  Fix: call memallocNofsSave() where (" + x + ") is taken (" + into.prevSite
                + ") and memallocNofsRestore() where it is released, so every allocation under it drops __GFP_FS;");
        out.add("  or, if this one allocation is the only one, pass GFP_NOFS at " + into.site + ".");
    }

    private static String first(List<String> trace) {
        return trace.isEmpty() ? "?" : trace.get(0);
    }

    /** {@code print_deadlock_bug()}: the same class acquired twice. */
    static List<String> recursive(Thread curr, HeldLock next, HeldLock prev, List<HeldLock> held,
            List<String> trace) {
        List<String> out = new ArrayList<>();
        header(out, "WARNING: possible recursive locking detected");
        out.add(task(curr) + " is trying to acquire lock:");
        out.add(lock(next));
        out.add("");
        out.add("but task is already holding lock:");
        out.add(lock(prev));
        out.add("");
        out.add("other info that might help us debug this:");
        out.add(" Possible unsafe locking scenario:");
        out.add("");
        out.add("       CPU0");
        out.add("       ----");
        out.add("  lock(" + lockName(prev) + ");");
        out.add("  lock(" + lockName(next) + ");");
        out.add("");
        out.add(" *** DEADLOCK ***");
        out.add("");
        out.add(" May be due to missing lock nesting notation");
        out.add("");
        heldLocks(out, curr, held);
        backtrace(out, trace);
        return out;
    }

    /** {@code print_unlock_imbalance_bug()}: releasing a lock that is not held. */
    static List<String> unlockImbalance(Thread curr, LockdepMap map, String site, List<HeldLock> held,
            List<String> trace) {
        List<String> out = new ArrayList<>();
        header(out, "WARNING: bad unlock balance detected!");
        out.add(task(curr) + " is trying to release lock (" + (map.lockClass == null ? map.name()
                : map.lockClass.name()) + ") at:");
        out.add(site);
        out.add("but there are no more locks to release!");
        out.add("");
        out.add("other info that might help us debug this:");
        heldLocks(out, curr, held);
        backtrace(out, trace);
        return out;
    }

    /** {@code print_freed_lock_bug()}: a held lock re-initialized. */
    static List<String> heldLockFreed(Thread curr, HeldLock h, List<HeldLock> held, List<String> trace) {
        List<String> out = new ArrayList<>();
        header(out, "WARNING: held lock freed!");
        out.add(task(curr) + " is re-initializing lock " + h.map.address() + " (" + lockName(h)
                + "), with a lock still held there!");
        out.add(lock(h));
        heldLocks(out, curr, held);
        backtrace(out, trace);
        return out;
    }

    /** {@code print_usage_bug()}: {@code inconsistent {prev} -> {new} usage}. */
    static List<String> usageBug(Thread curr, Task task, HeldLock h, int prevBit, int newBit,
            List<HeldLock> held, List<String> trace) {
        List<String> out = new ArrayList<>();
        header(out, "WARNING: inconsistent lock state");
        out.add("inconsistent {" + LockClass.USAGE_STR[prevBit] + "} -> {" + LockClass.USAGE_STR[newBit] + "} usage.");
        int pc = task.preemptCount();
        out.add(task(curr) + " [HC" + (task.inHardirq() ? 1 : 0) + "[" + ((pc & Task.HARDIRQ_MASK) >>> 16)
                + "]:SC" + (task.inServingSoftirq() ? 1 : 0) + "[" + ((pc & Task.SOFTIRQ_MASK) >>> 8)
                + "]:HE" + (task.irqsDisabled() ? 0 : 1) + ":SE" + ((pc & Task.SOFTIRQ_MASK) == 0 ? 1 : 0)
                + "] takes:");
        out.add(lock(h));
        out.add("{" + LockClass.USAGE_STR[prevBit] + "} state was registered at:");
        out.add("  " + h.lockClass().usageSites[prevBit]);
        out.add("");
        out.add("other info that might help us debug this:");
        out.add(" Possible unsafe locking scenario:");
        out.add("");
        out.add("       CPU0");
        out.add("       ----");
        out.add("  lock(" + lockName(h) + ");");
        out.add("  <Interrupt>");
        out.add("    lock(" + lockName(h) + ");");
        out.add("");
        out.add(" *** DEADLOCK ***");
        out.add("");
        heldLocks(out, curr, held);
        backtrace(out, trace);
        return out;
    }
}
