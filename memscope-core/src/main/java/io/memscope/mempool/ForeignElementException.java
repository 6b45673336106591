package io.memscope.mempool;

/**
 * More elements were freed to a {@link LongMempool} than it handed out: a double free, or an
 * element that came from elsewhere. Nothing is freed when it is thrown.
 */
public final class ForeignElementException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    ForeignElementException(String pool, long outstanding, long freed) {
        super("mempool_free to " + pool + ": expected at most " + outstanding
                + " element(s) outstanding from this pool, found " + freed + " returned");
    }
}
