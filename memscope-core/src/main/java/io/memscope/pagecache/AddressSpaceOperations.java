package io.memscope.pagecache;

import java.io.IOException;

/**
 * What the owner of a mapping (a file system, a table, a segment store) implements so the page
 * cache can fill and clean its pages: {@code struct address_space_operations} of
 * {@code include/linux/fs.h}.
 *
 * <p>Every callback gets the mapping and a page frame number; the page's memory is
 * {@link AddressSpace#folioMemory(int)}. The page cache calls them with the page's lock
 * ({@code PG_locked}) held where the kernel does, and never with its own {@code xa_lock}.
 *
 * <p><b>Context.</b> {@link #writepages} runs on flusher threads, on callers of on-demand writeback
 * ({@code filemap_fdatawrite}, {@code fsync}) — "from anywhere", as seeds/002 puts it — and, in the
 * legacy reclaim-writeback mode, {@link #writePage} runs inside reclaim. While pages are under
 * writeback, an allocation that enters reclaim can recurse into the same file system, so an
 * implementation that allocates during writeback should do it inside
 * {@code Memalloc.nofsScope()} ("->writepages should be under memalloc_nofs_save").
 */
public interface AddressSpaceOperations {
    /** The result of a legacy {@link #writePage} call ({@code ->writepage}'s outcomes). */
    enum WritePageResult {
        /** Writeback was started (and possibly completed); the page was unlocked. */
        WRITTEN,
        /** Refused (e.g. from direct reclaim): the page was redirtied and is still locked. */
        REDIRTIED,
        /** {@code AOP_WRITEPAGE_ACTIVATE}: redirtied, still locked, and should be activated. */
        ACTIVATE
    }

    /**
     * {@code ->read_folio}: fills the locked, not-uptodate page at {@code pfn} with the data of its
     * index ({@code AddressSpace.pageIndex(pfn)}), zeroing what lies past the end of the data.
     * The page cache marks it uptodate and unlocks it when this returns normally; on an exception it
     * unlocks it not uptodate ({@code folio_end_read(folio, success)}). May sleep and do I/O.
     */
    void readFolio(AddressSpace mapping, int pfn) throws IOException;

    /**
     * {@code ->writepages}: writes dirty pages as {@code wbc} asks. The usual implementation is
     * {@code mapping.writeCachePages(wbc, writer)}, which walks dirty pages in index order, takes
     * each page's lock, clears its dirty bit for I/O and hands it to the writer; the writer calls
     * {@link AddressSpace#folioStartWriteback}, unlocks, writes, and calls
     * {@link AddressSpace#folioEndWriteback}. For {@code WB_SYNC_ALL} the data must be durable
     * when this returns. May sleep and do I/O.
     *
     * @return pages written
     * @throws IOException the caller records it on the mapping ({@code mapping_set_error})
     */
    long writepages(AddressSpace mapping, WritebackControl wbc) throws IOException;

    /**
     * {@code ->writepage} of kernels before its removal (v6.16/6.17): writes one locked page whose
     * dirty bit was cleared for I/O, for reclaim ({@code wbc.forReclaim()}). Used only in the
     * legacy reclaim-writeback mode. The default refuses like a file system without
     * {@code ->writepage}: it redirties the page and asks reclaim to activate it.
     */
    default WritePageResult writePage(AddressSpace mapping, int pfn, WritebackControl wbc) throws IOException {
        mapping.folioRedirtyForWritepage(wbc, pfn);
        return WritePageResult.ACTIVATE;
    }

    /**
     * {@code ->release_folio}: the page (locked, clean, not under writeback) carries private
     * state ({@code PG_private}); drop it so the page can be freed. Return false to keep the page.
     * The default has nothing to release.
     */
    default boolean releaseFolio(AddressSpace mapping, int pfn, int gfp) {
        return true;
    }

    /**
     * {@code ->invalidate_folio}: bytes {@code [offset, offset + length)} of the locked page are
     * being truncated away; forget private state covering them. The default does nothing.
     */
    default void invalidateFolio(AddressSpace mapping, int pfn, int offset, int length) {
    }

    /**
     * {@code ->dirty_folio}: marks the page dirty. The default is
     * {@link AddressSpace#filemapDirtyFolio} ({@code filemap_dirty_folio}); a file system with
     * per-block state overrides it to dirty that state too.
     *
     * @return true when the page became dirty (it was clean)
     */
    default boolean dirtyFolio(AddressSpace mapping, int pfn) {
        return mapping.filemapDirtyFolio(pfn);
    }
}
