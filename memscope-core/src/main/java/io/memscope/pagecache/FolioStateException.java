package io.memscope.pagecache;

/**
 * A page-state transition called in the wrong state: starting writeback of a page that is not
 * locked or already under writeback, ending writeback of a page that is not under it, or using a
 * page of another mapping (the kernel's {@code VM_BUG_ON_FOLIO}s). The message says what was
 * expected and what the page's flags were.
 */
public final class FolioStateException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public FolioStateException(String message) {
        super(message);
    }
}
