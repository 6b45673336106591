package io.memscope.page;

/** A free of a page that the allocator never handed out or that is on a free or per-CPU list. */
public final class NotAllocatedFreeException extends PageAllocException {
    private static final long serialVersionUID = 1L;

    public NotAllocatedFreeException(String message) {
        super(message);
    }

    public NotAllocatedFreeException(String message, Throwable cause) {
        super(message, cause);
    }
}
