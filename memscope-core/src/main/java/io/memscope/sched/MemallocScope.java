package io.memscope.sched;

/**
 * An open allocation scope, closed by try-with-resources: the Java form of a
 * {@code memalloc_*_save()} / {@code memalloc_*_restore()} pair ({@code include/linux/sched/mm.h}).
 *
 * <pre>{@code
 * try (var s = Memalloc.nofsScope()) {   // reclaim must not re-enter this filesystem:
 *     ...                                // its shrinker takes the lock we hold here
 * }
 * }</pre>
 *
 * <p>The object only names its slot on the task's scope stack (owner task and a sequence
 * number); the restore data lives on the stack. Closing it restores exactly what opening it
 * changed. It must be closed once, on the thread that opened it, innermost first; any other
 * close throws {@link UnbalancedScopeException} and changes nothing. The object is small and
 * never stored anywhere, so the JIT's escape analysis removes it when open and close inline
 * (see {@code ScopeBenchmark}).
 */
public final class MemallocScope implements AutoCloseable {
    final Task task;
    final long tag;

    MemallocScope(Task task, long tag) {
        this.task = task;
        this.tag = tag;
    }

    /** Restores the task's state from before this scope. Never sleeps; fails only on misuse. */
    @Override
    public void close() {
        // Thread.currentThread() is an intrinsic; Task.current() (a ThreadLocal lookup) is only
        // needed to name the wrong thread in the error.
        if (Thread.currentThread() != task.thread()) {
            throw ScopeStack.wrongThread(this, Task.current());
        }
        task.scopes.popScope(task, tag);
    }

    /** The task this scope belongs to. */
    public Task task() {
        return task;
    }

    /** What kind of scope this is, as the kernel function that opens it ({@code memalloc_nofs_save}). */
    public String kind() {
        return ScopeStack.kindName((int) (tag & ScopeStack.KIND_MASK));
    }

    @Override
    public String toString() {
        return ScopeStack.describeTag(tag) + " on " + task;
    }
}
