package io.memscope.page;

/**
 * A block whose last reference went while it was still in use (kernel: {@code bad_page()} from
 * {@code free_pages_prepare()}): it still had a mapping, another reference, or one of the flags in
 * {@code PAGE_FLAGS_CHECK_AT_FREE}; or a free met a frozen count. Thrown after the
 * {@code BUG: Bad page state} report, before the books change: the caller still holds its
 * reference.
 */
public final class BadPageStateException extends PageAllocException {
    private static final long serialVersionUID = 1L;

    public BadPageStateException(String message) {
        super(message);
    }
}
