package io.memscope.page;

/** A free of a page inside an allocated block instead of its head (kernel: bad_page on a tail page). */
public final class TailPageFreeException extends PageAllocException {
    private static final long serialVersionUID = 1L;

    public TailPageFreeException(String message) {
        super(message);
    }

    public TailPageFreeException(String message, Throwable cause) {
        super(message, cause);
    }
}
