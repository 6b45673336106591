package io.memscope.page;

/** Use of a handle whose page was freed (generation mismatch), detected by segment() or free. */
public final class StaleHandleException extends PageAllocException {
    private static final long serialVersionUID = 1L;

    public StaleHandleException(String message) {
        super(message);
    }

    public StaleHandleException(String message, Throwable cause) {
        super(message, cause);
    }
}
