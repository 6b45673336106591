package io.memscope.page;

/** A block freed twice (kernel: bad_page "nonzero _refcount" / page_ref underflow). */
public final class DoubleFreeException extends PageAllocException {
    private static final long serialVersionUID = 1L;

    public DoubleFreeException(String message) {
        super(message);
    }

    public DoubleFreeException(String message, Throwable cause) {
        super(message, cause);
    }
}
