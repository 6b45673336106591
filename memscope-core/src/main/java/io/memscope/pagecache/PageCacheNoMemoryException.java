package io.memscope.pagecache;

/**
 * {@code -ENOMEM} from the page cache: a page could not be allocated for a mapping (find-or-create,
 * read, or an allocation a client makes during writeback). Nothing was lost: the mapping is as it
 * was before the call, and pages that were being written back are dirty again.
 */
public final class PageCacheNoMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PageCacheNoMemoryException(String message) {
        super(message);
    }
}
