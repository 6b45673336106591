package io.memscope.page;

/** A poisoned free page that changed before it was reallocated (debug page poisoning). */
public final class PageCorruptionException extends PageAllocException {
    private static final long serialVersionUID = 1L;

    public PageCorruptionException(String message) {
        super(message);
    }

    public PageCorruptionException(String message, Throwable cause) {
        super(message, cause);
    }
}
