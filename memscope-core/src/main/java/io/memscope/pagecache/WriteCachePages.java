package io.memscope.pagecache;

import static io.memscope.page.PageTableDescriptor.FLAG_DIRTY;
import static io.memscope.page.PageTableDescriptor.FLAG_WRITEBACK;
import static io.memscope.pagecache.PageCacheIndex.TAG_DIRTY;
import static io.memscope.pagecache.PageCacheIndex.TAG_TOWRITE;
import static io.memscope.pagecache.PageCacheIndex.TAG_WRITEBACK;

import io.memscope.page.PageAllocConfig;
import java.io.IOException;

/**
 * The walks over a mapping's marks that write-back needs: {@code write_cache_pages()} /
 * {@code writeback_iter()} with {@code folio_prepare_writeback()} ({@code mm/page-writeback.c}) and
 * {@code __filemap_fdatawait_range()} ({@code mm/filemap.c}). Stateless; the public entry points
 * are on {@link AddressSpace}.
 */
final class WriteCachePages {
    private WriteCachePages() {}

    private static int pageIndexOf(long bytes) {
        return (int) Math.min(Integer.MAX_VALUE, bytes >> PageAllocConfig.PAGE_SHIFT);
    }

    /**
     * Walks dirty pages in index order over the control's range (from {@code writeback_index} for
     * cyclic work) — or, for {@code WB_SYNC_ALL}, over the TOWRITE marks copied from DIRTY at the
     * start ({@code tag_pages_for_writeback}), so that writers dirtying pages behind the walk cannot
     * livelock a data-integrity sync. Each page is locked and skipped if truncated or already clean
     * ("did somebody else write it for us?"); one already under writeback is waited on
     * (WB_SYNC_ALL) or skipped (WB_SYNC_NONE); then it is cleared for I/O and handed to
     * {@code writer}. WB_SYNC_NONE stops when {@code nr_to_write} is spent. An IOException is
     * recorded on the mapping and the walk goes on.
     */
    static long writeCachePages(AddressSpace as, WritebackControl wbc, FolioWriter writer) {
        boolean all = wbc.syncMode() == WritebackControl.SyncMode.ALL;
        boolean cyclic = wbc.rangeCyclic();
        int start = cyclic ? as.writebackIndex : pageIndexOf(wbc.rangeStart());
        int end = cyclic ? Integer.MAX_VALUE : pageIndexOf(wbc.rangeEnd());
        int tag = all ? TAG_TOWRITE : TAG_DIRTY;
        if (all) {
            long s = as.xa.lock.writeLock();
            try {
                as.xa.tagForWriteback(start, end);
            } finally {
                as.xa.lock.unlockWrite(s);
            }
        }
        long written = 0;
        int next = start;
        boolean budgetSpent = false;
        while (next >= 0) {
            long found = as.nextFolioRef(next, end, tag);
            if (found < 0) {
                break;
            }
            int index = (int) (found >>> 32);
            int pfn = (int) found;
            next = index == Integer.MAX_VALUE ? -1 : index + 1;
            try {
                if (!prepareWriteback(as, pfn, index, all)) {
                    continue;
                }
                try {
                    writer.writeFolio(as, pfn, wbc);
                } catch (IOException e) {
                    as.setError(e);
                }
                written++;
                wbc.wrote(1);
            } finally {
                as.folioPut(pfn);
            }
            if (!all && wbc.nrToWrite() <= 0) {
                budgetSpent = true;
                break;
            }
        }
        if (cyclic) {
            as.writebackIndex = budgetSpent && next >= 0 ? next : 0;
        }
        return written;
    }

    /** {@code folio_prepare_writeback()} + {@code folio_clear_dirty_for_io()}: true with the page locked and clean-for-I/O. */
    private static boolean prepareWriteback(AddressSpace as, int pfn, int index, boolean all) {
        as.wait.lockPage(pfn);
        if (as.pt.mapping(pfn) != as.id || !as.pt.testPageFlag(pfn, FLAG_DIRTY)) {
            clearTowrite(as, pfn, index);
            as.wait.unlockPage(pfn);
            return false;
        }
        if (as.pt.testPageFlag(pfn, FLAG_WRITEBACK)) {
            if (!all) {
                as.wait.unlockPage(pfn);
                return false;
            }
            as.wait.waitOnPageWriteback(pfn);
        }
        if (!as.folioClearDirtyForIo(pfn)) {
            clearTowrite(as, pfn, index);
            as.wait.unlockPage(pfn);
            return false;
        }
        return true;
    }

    private static void clearTowrite(AddressSpace as, int pfn, int index) {
        long s = as.xa.lock.writeLock();
        try {
            if (as.pt.mapping(pfn) == as.id) {
                as.xa.clearMark(index, TAG_TOWRITE);
            }
        } finally {
            as.xa.lock.unlockWrite(s);
        }
    }

    /** Sleeps until no page with index in the byte range {@code [start, end]} has the WRITEBACK mark. */
    static void fdatawaitRange(AddressSpace as, long start, long end) {
        int last = pageIndexOf(end);
        int next = pageIndexOf(start);
        while (next >= 0) {
            long found = as.nextFolioRef(next, last, TAG_WRITEBACK);
            if (found < 0) {
                break;
            }
            int index = (int) (found >>> 32);
            int pfn = (int) found;
            next = index == Integer.MAX_VALUE ? -1 : index + 1;
            as.wait.waitOnPageWriteback(pfn);
            as.folioPut(pfn);
        }
    }
}
