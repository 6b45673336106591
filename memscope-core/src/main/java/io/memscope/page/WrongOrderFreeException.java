package io.memscope.page;

/** A free with an order other than the one the block was allocated with. */
public final class WrongOrderFreeException extends PageAllocException {
    private static final long serialVersionUID = 1L;

    public WrongOrderFreeException(String message) {
        super(message);
    }

    public WrongOrderFreeException(String message, Throwable cause) {
        super(message, cause);
    }
}
