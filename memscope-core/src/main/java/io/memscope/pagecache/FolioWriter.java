package io.memscope.pagecache;

import java.io.IOException;

/**
 * Writes one page for {@link AddressSpace#writeCachePages}: the per-folio callback of
 * {@code write_cache_pages()} ({@code writepage_t}).
 */
@FunctionalInterface
public interface FolioWriter {
    /**
     * Called with the page locked and its dirty bit cleared for I/O. Must either start writeback
     * ({@link AddressSpace#folioStartWriteback}), unlock, write and end writeback, or redirty
     * ({@link AddressSpace#folioRedirtyForWritepage}) and unlock. If it throws, it must have done
     * one of the two first. May sleep and do I/O.
     */
    void writeFolio(AddressSpace mapping, int pfn, WritebackControl wbc) throws IOException;
}
