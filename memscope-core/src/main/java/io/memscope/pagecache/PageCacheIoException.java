package io.memscope.pagecache;

import java.io.IOException;

/**
 * {@code -EIO}: a client's read or write-back failed. For a read, the page stays in the cache
 * not uptodate; for write-back the error is recorded on the mapping ({@code mapping_set_error})
 * and reported once by the next {@code filemapWriteAndWait} or {@code fsync}, as
 * {@code filemap_check_errors} does.
 */
public final class PageCacheIoException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PageCacheIoException(String message, IOException cause) {
        super(message, cause);
    }
}
