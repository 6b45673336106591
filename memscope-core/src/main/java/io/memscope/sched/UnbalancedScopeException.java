package io.memscope.sched;

/**
 * A scope restore that does not match the innermost open scope of the calling task: restored out
 * of order, restored twice, restored with a cookie its save did not return, or closed on another
 * thread than the one that opened it.
 *
 * <p>The kernel's {@code memalloc_*_restore} would silently corrupt {@code current->flags} here;
 * memscope refuses the restore instead and leaves every task's flags and open scopes exactly as
 * they were, so the correct restores that follow still balance.
 *
 * <p>{@link #expected()} describes the scope whose restore was due (or says none was open),
 * {@link #actual()} the restore that was attempted. Each names where the scope was opened when
 * scope debugging records origins ({@link Memalloc#setScopeDebug}); the attempted restore's own
 * call site is always named.
 */
public final class UnbalancedScopeException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final String expected;
    private final String actual;

    UnbalancedScopeException(String problem, String expected, String actual) {
        super(problem + ": expected " + expected + "; found " + actual);
        this.expected = expected;
        this.actual = actual;
    }

    /** The restore that was due: the innermost open scope and its origin, or "no open scope". */
    public String expected() {
        return expected;
    }

    /** The restore that was attempted, its cookie or scope, origin and call site. */
    public String actual() {
        return actual;
    }
}
