package io.memscope.mempool;

/** A {@link LongMempool} was used (or destroyed again) after {@link LongMempool#destroy}. */
public final class MempoolDestroyedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    MempoolDestroyedException(String pool, String op) {
        super(op + " on " + pool + ": expected a live pool, found one already destroyed");
    }
}
