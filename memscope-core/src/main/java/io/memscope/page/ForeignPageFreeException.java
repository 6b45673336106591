package io.memscope.page;

/** A free of a handle whose pfn lies outside this machine. */
public final class ForeignPageFreeException extends PageAllocException {
    private static final long serialVersionUID = 1L;

    public ForeignPageFreeException(String message) {
        super(message);
    }

    public ForeignPageFreeException(String message, Throwable cause) {
        super(message, cause);
    }
}
