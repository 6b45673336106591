package io.memscope.reclaim;

/** Misuse of the shrinker life cycle: registering twice, freeing twice, freeing from inside its own callback. */
public final class ShrinkerException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public ShrinkerException(String message) {
        super(message);
    }
}
