package io.memscope.page;

/** Thrown by the *OrThrow entry points where the kernel would return NULL. */
public final class PageAllocationFailedException extends PageAllocException {
    private static final long serialVersionUID = 1L;

    public PageAllocationFailedException(String message) {
        super(message);
    }

    public PageAllocationFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
