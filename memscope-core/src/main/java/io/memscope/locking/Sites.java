package io.memscope.locking;

import java.util.List;
import java.util.Set;

/**
 * Java stack frames standing in for the kernel's instruction pointers ({@code _RET_IP_},
 * {@code save_trace()}): where a lock was acquired, where a dependency was first seen, where
 * a lock class was created.
 *
 * <p>Frames of memscope's own machinery are skipped — every class of memscope-core (the
 * allocator calling {@code fs_reclaim}, the locks themselves) — so the first frame reported is
 * the caller's code (the place a kernel developer would read as {@code xfs_ilock+0x5a}).
 * Walking the stack costs about a microsecond, so it is only done when lockdep or the
 * atomic-sleep check is on.
 */
final class Sites {
    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

    /** Where memscope-core's own classes were loaded from (a jar or a classes directory). */
    private static final java.net.URL CORE = codeSource(Sites.class);

    /**
     * True for classes of memscope-core itself (the allocator, reclaim, the page cache, the
     * locks): a report should point at the first frame of the caller's code — a test, the CLI, an
     * application — not at {@code MightAlloc.check}. Cached per class.
     */
    private static final ClassValue<Boolean> MACHINERY = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            java.net.URL u = codeSource(type);
            return CORE != null && CORE.equals(u);
        }
    };

    private static java.net.URL codeSource(Class<?> c) {
        java.security.CodeSource cs = c.getProtectionDomain().getCodeSource();
        return cs == null ? null : cs.getLocation();
    }

    /** The frame to report: outside memscope-core if there is one, else outside the locking machinery. */
    private static java.util.Optional<StackWalker.StackFrame> first(java.util.stream.Stream<StackWalker.StackFrame> s) {
        List<StackWalker.StackFrame> frames = s.filter(f -> !INTERNAL.contains(f.getClassName())).limit(64).toList();
        for (StackWalker.StackFrame f : frames) {
            if (!MACHINERY.get(f.getDeclaringClass())) {
                return java.util.Optional.of(f);
            }
        }
        return frames.stream().findFirst();
    }

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
        return WALKER.walk(s -> first(s).map(Sites::format).orElse("?"));
    }

    /** The first frame outside the machinery as {@code File.java:line} (for might_sleep's "at"). */
    static String callerFileLine() {
        return WALKER.walk(s -> first(s).map(f -> f.getFileName() + ":" + f.getLineNumber()).orElse("?:0"));
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
