package io.memscope.locking;

import java.util.List;
import java.util.Set;

/**
 * Java stack frames standing in for the kernel's instruction pointers ({@code _RET_IP_},
 * {@code save_trace()}): where a lock was acquired, where a dependency was first seen, where
 * a lock class was created.
 *
 * <p>Frames of memscope's own locking machinery are skipped, so the first frame reported is
 * the caller's code (the place a kernel developer would read as {@code xfs_ilock+0x5a}).
 * Walking the stack costs about a microsecond, so it is only done when lockdep or the
 * atomic-sleep check is on.
 */
final class Sites {
    private static final StackWalker WALKER = StackWalker.getInstance();

    /** Classes whose frames are machinery, never the interesting caller. */
    private static final Set<String> INTERNAL = Set.of(
            "io.memscope.locking.Sites",
            "io.memscope.locking.Lockdep",
            "io.memscope.locking.HeldLocks",
            "io.memscope.locking.DependencyGraph",
            "io.memscope.locking.LockdepReports",
            "io.memscope.locking.FsReclaim",
            "io.memscope.locking.FsReclaim$Section",
            "io.memscope.locking.Mutex",
            "io.memscope.locking.RwSemaphore",
            "io.memscope.locking.SpinLock",
            "io.memscope.locking.RawSpinLock",
            "io.memscope.locking.SleepingSync",
            "io.memscope.locking.SpinCore",
            "io.memscope.locking.Irq",
            "io.memscope.locking.Completion");

    private Sites() {}

    /** The first frame outside the locking machinery, as {@code Class.method(File.java:line)}. */
    static String caller() {
        return WALKER.walk(s -> s.filter(f -> !INTERNAL.contains(f.getClassName()))
                .findFirst().map(Sites::format).orElse("?"));
    }

    /** The first frame outside the machinery as {@code File.java:line} (for might_sleep's "at"). */
    static String callerFileLine() {
        return WALKER.walk(s -> s.filter(f -> !INTERNAL.contains(f.getClassName()))
                .findFirst().map(f -> f.getFileName() + ":" + f.getLineNumber()).orElse("?:0"));
    }

    /** Up to {@code depth} frames outside the machinery (a dependency's trace). */
    static List<String> trace(int depth) {
        return WALKER.walk(s -> s.filter(f -> !INTERNAL.contains(f.getClassName()))
                .limit(depth).map(Sites::format).toList());
    }

    private static String format(StackWalker.StackFrame f) {
        String cn = f.getClassName();
        String simple = cn.substring(cn.lastIndexOf('.') + 1);
        return simple + "." + f.getMethodName() + "(" + f.getFileName() + ":" + f.getLineNumber() + ")";
    }
}
