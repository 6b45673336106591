package io.memscope.page;

/**
 * A page frame number (or a block of {@code 2^order} frames starting at it) lies outside the
 * region's {@code [0, nrPages)}, or the order is outside {@code [0, MAX_PAGE_ORDER]} — the
 * counterpart of the kernel's {@code pfn_valid()} failing.
 */
public final class PfnOutOfRangeException extends IndexOutOfBoundsException {
    private static final long serialVersionUID = 1L;

    PfnOutOfRangeException(String message) {
        super(message);
    }
}
