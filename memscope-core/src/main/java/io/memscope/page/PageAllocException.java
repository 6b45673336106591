package io.memscope.page;

/** Base of the page allocator's named misuse errors. The message says what was expected and what was found. */
public class PageAllocException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PageAllocException(String message) {
        super(message);
    }

    public PageAllocException(String message, Throwable cause) {
        super(message, cause);
    }
}
