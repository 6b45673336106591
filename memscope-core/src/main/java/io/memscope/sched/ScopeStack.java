package io.memscope.sched;

import java.util.Arrays;

/**
 * The stack of a task's open allocation scopes: what each {@code memalloc_*_save} changed, so
 * that restores can be checked against the innermost open scope (the kernel trusts callers to
 * restore in LIFO order; memscope verifies it).
 *
 * <p>Layout, one slot per open scope, in parallel primitive arrays (no object per scope):
 * <pre>
 *  tags[i]    = seq &lt;&lt; 8 | kind      seq: per-task counter, unique per open; kind: NOFS..GFP
 *  cookies[i] = PF bits this save newly set (what its restore clears)
 *  saved[i]   = (gfpSet &lt;&lt; 32) | gfpClear before the save   (GFP kind only)
 *  origins[i] = where the scope was opened (only with scope debugging on; else null)
 * </pre>
 * Invariant: {@code task.flags & PF_MEMALLOC_FLAGS} equals the union of all open cookies plus the
 * bits that were set before the first open scope; restores pop exactly the top slot.
 *
 * <p>Only the owning thread touches it; fields are plain.
 */
final class ScopeStack {
    static final int NOFS = 1;
    static final int NOIO = 2;
    static final int PIN = 3;
    static final int NORECLAIM = 4;
    static final int FLAGS = 5;
    static final int GFP = 6;
    static final long KIND_MASK = 0xff;

    private static final String[] KIND_NAMES = {
        "?", "memalloc_nofs_save", "memalloc_noio_save", "memalloc_pin_save", "memalloc_noreclaim_save",
        "memalloc_flags_save", "Memalloc.gfpScope",
    };

    /** System property that turns on origin recording for every new task. */
    static final String DEBUG_PROPERTY = "memscope.scope.debug";
    static final boolean DEBUG_DEFAULT = Boolean.getBoolean(DEBUG_PROPERTY);

    private static final StackWalker WALKER = StackWalker.getInstance();

    int depth;
    private long nextSeq = 1;
    private long[] tags = new long[8];
    private int[] cookies = new int[8];
    private long[] saved = new long[8];
    private Object[] origins;
    boolean debug = DEBUG_DEFAULT;

    static String kindName(int kind) {
        return kind > 0 && kind < KIND_NAMES.length ? KIND_NAMES[kind] : KIND_NAMES[0];
    }

    /** Pushes a scope; returns its tag. */
    long push(int kind, int cookie, long savedExt) {
        if (depth == tags.length) {
            grow();
        }
        long tag = (nextSeq++ << 8) | kind;
        tags[depth] = tag;
        cookies[depth] = cookie;
        saved[depth] = savedExt;
        if (debug) {
            recordOrigin();
        } else if (origins != null) {
            origins[depth] = null;
        }
        depth++;
        return tag;
    }

    private void grow() {
        int n = tags.length * 2;
        tags = Arrays.copyOf(tags, n);
        cookies = Arrays.copyOf(cookies, n);
        saved = Arrays.copyOf(saved, n);
        if (origins != null) {
            origins = Arrays.copyOf(origins, n);
        }
    }

    private void recordOrigin() {
        if (origins == null) {
            origins = new Object[tags.length];
        }
        origins[depth] = callerFrame();
    }

    /** Pops a raw {@code memalloc_*_restore(cookie)}: the top must be of {@code kind} with that cookie. */
    void popRaw(Task task, int kind, int cookie) {
        int top = depth - 1;
        if (top < 0 || (tags[top] & KIND_MASK) != kind || cookies[top] != cookie) {
            throw rawMismatch(task, kind, cookie);
        }
        undo(task, top);
    }

    /** Pops a Java scope object's slot: the top must carry {@code tag}. */
    void popScope(Task task, long tag) {
        int top = depth - 1;
        if (top < 0 || tags[top] != tag) {
            throw scopeMismatch(task, tag);
        }
        undo(task, top);
    }

    private void undo(Task task, int top) {
        task.clearFlagBits(cookies[top]);
        if ((tags[top] & KIND_MASK) == GFP) {
            long s = saved[top];
            task.gfpScopeSet = (int) (s >>> 32);
            task.gfpScopeClear = (int) s;
        }
        if (origins != null) {
            origins[top] = null;
        }
        depth = top;
    }

    // ---- diagnostics (error paths only) ----

    static String describeTag(long tag) {
        return kindName((int) (tag & KIND_MASK)) + " #" + (tag >>> 8);
    }

    private String describeSlot(int i) {
        StringBuilder sb = new StringBuilder(describeTag(tags[i]));
        sb.append(String.format(" (cookie 0x%x, depth %d, ", cookies[i], i + 1));
        Object o = origins != null ? origins[i] : null;
        sb.append(o != null ? "opened at " + o : "origin not recorded: enable -D" + DEBUG_PROPERTY + "=true");
        return sb.append(')').toString();
    }

    private int indexOf(long tag) {
        for (int i = depth - 1; i >= 0; i--) {
            if (tags[i] == tag) {
                return i;
            }
        }
        return -1;
    }

    private int indexOfRaw(int kind, int cookie) {
        for (int i = depth - 1; i >= 0; i--) {
            if ((tags[i] & KIND_MASK) == kind && cookies[i] == cookie) {
                return i;
            }
        }
        return -1;
    }

    private String expected(Task task) {
        return depth == 0 ? "no open scope on " + task : "restore of the innermost open scope " + describeSlot(depth - 1)
                + " on " + task;
    }

    private UnbalancedScopeException rawMismatch(Task task, int kind, int cookie) {
        String restore = kindName(kind).replace("_save", "_restore");
        int at = indexOfRaw(kind, cookie);
        String actual = String.format("%s(0x%x) called at %s", restore, cookie, callerFrame())
                + (at >= 0 ? ", which matches the outer scope " + describeSlot(at) : ", which matches no open scope");
        String problem = at >= 0 ? "scope restored out of order" : "restore without a matching save (restored twice, "
                + "wrong cookie or another thread's scope)";
        return new UnbalancedScopeException(problem, expected(task), actual);
    }

    private UnbalancedScopeException scopeMismatch(Task task, long tag) {
        int at = indexOf(tag);
        String actual = "close of " + describeTag(tag) + " at " + callerFrame()
                + (at >= 0 ? ", an outer scope " + describeSlot(at) : ", which is already closed");
        String problem = at >= 0 ? "scope closed out of order" : "scope closed twice";
        return new UnbalancedScopeException(problem, expected(task), actual);
    }

    /**
     * A scope closed on a thread that does not own it. The expected side names the scope and
     * where its own thread opened it; that slot belongs to the other thread, so it is read racily
     * — good enough for an error message, and nothing is changed on either task.
     */
    static UnbalancedScopeException wrongThread(MemallocScope scope, Task current) {
        ScopeStack owner = scope.task.scopes;
        int at = owner.indexOf(scope.tag);
        String opened = at >= 0 ? owner.describeSlot(at) : ScopeStack.describeTag(scope.tag) + " (already closed)";
        return new UnbalancedScopeException("scope closed on another thread",
                "close of " + opened + " on its own thread " + scope.task,
                "close on " + current + " at " + callerFrame());
    }

    private static boolean isScopeMachinery(String cls) {
        return cls.equals(ScopeStack.class.getName()) || cls.startsWith(Memalloc.class.getName())
                || cls.equals(MemallocScope.class.getName());
    }

    /** The first stack frame outside the scope machinery, as "Class.method(File:line)". */
    private static Object callerFrame() {
        return WALKER.walk(frames -> frames
                .filter(f -> !isScopeMachinery(f.getClassName()))
                .findFirst()
                .map(StackWalker.StackFrame::toStackTraceElement)
                .orElse(null));
    }
}
