package io.memscope.mempool;

/** {@link LongMempool#destroy} found elements that were never returned (mm/mempool.c's old BUG_ON in mempool_destroy). */
public final class MempoolLeakException extends IllegalStateException {
    private static final long serialVersionUID = 1L;
    private final long missing;

    MempoolLeakException(String pool, long missing) {
        super("mempool_destroy of " + pool + ": expected every element returned (0 outstanding), found "
                + missing + " outstanding");
        this.missing = missing;
    }

    /** How many elements were not returned. */
    public long missing() {
        return missing;
    }
}
