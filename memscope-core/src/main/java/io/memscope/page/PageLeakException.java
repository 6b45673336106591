package io.memscope.page;

/** close() with pages still allocated: the count and, in debug mode, the top allocation sites. */
public final class PageLeakException extends PageAllocException {
    private static final long serialVersionUID = 1L;

    public PageLeakException(String message) {
        super(message);
    }

    public PageLeakException(String message, Throwable cause) {
        super(message, cause);
    }
}
