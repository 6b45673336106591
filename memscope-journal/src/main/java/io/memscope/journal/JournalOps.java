package io.memscope.journal;

import io.memscope.pagecache.AddressSpace;
import io.memscope.pagecache.AddressSpaceOperations;
import io.memscope.pagecache.FileBackedOperations;
import io.memscope.pagecache.PageCacheNoMemoryException;
import io.memscope.pagecache.WritebackControl;
import io.memscope.sched.Memalloc;
import io.memscope.sched.MemallocScope;
import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * The store's {@code address_space_operations}: reads like {@link FileBackedOperations}, and
 * {@code ->writepages} that runs a small transaction — it takes {@code jfs_trans}, and once the
 * first page is under writeback allocates a journal buffer for the block-mapping record (the
 * shape of an ioend or a delayed-allocation transaction). That allocation is the one seeds/002
 * warns about: made "in the writeback path ... while we hold pages in writeback state", it can
 * recurse into this file system through reclaim. With {@link JournalOptions#scopedWriteback()} the
 * whole method runs in a NOFS scope.
 *
 * <p>A failed buffer allocation redirties the page, ends its writeback and surfaces as
 * {@link PageCacheNoMemoryException}: {@code do_writepages} retries data-integrity writeback and
 * leaves background writeback for the next pass.
 */
final class JournalOps implements AddressSpaceOperations {
    private final JournalStore store;
    private final FileBackedOperations file;

    JournalOps(JournalStore store, FileChannel channel) {
        this.store = store;
        this.file = new FileBackedOperations(channel, store.logForOps());
    }

    @Override
    public void readFolio(AddressSpace mapping, int pfn) throws IOException {
        file.readFolio(mapping, pfn);
    }

    @Override
    public long writepages(AddressSpace mapping, WritebackControl wbc) throws IOException {
        // ->writepages should be under memalloc_nofs_save (seeds/002): the pages are under
        // writeback and jfs_trans is held, and the sb-journal shrinker needs jfs_trans.
        MemallocScope scope = store.options().scopedWriteback() ? Memalloc.nofsScope() : null;
        try {
            long n;
            // jfs_trans without the transaction's own scope: whether writeback is safe depends on
            // scopedWriteback alone, so the two variants can be tested apart.
            store.transLock().lock();
            try {
                boolean[] logged = {false};
                n = mapping.writeCachePages(wbc, (m, pfn, w) -> {
                    m.folioStartWriteback(pfn);
                    m.folioUnlock(pfn);
                    try {
                        if (!logged[0]) {
                            try {
                                store.logRecord("B " + m.name() + " " + m.pageIndex(pfn));
                            } catch (JournalNoMemoryException e) {
                                m.folioRedirtyForWritepage(w, pfn);
                                throw new PageCacheNoMemoryException("writepages of " + m.name() + ": " + e.getMessage());
                            }
                            logged[0] = true;
                        }
                        file.writeBytes(m, pfn);
                    } finally {
                        m.folioEndWriteback(pfn);
                    }
                });
            } finally {
                store.transLock().unlock();
            }
            if (wbc.syncMode() == WritebackControl.SyncMode.ALL) {
                file.channel().force(false);
            }
            return n;
        } finally {
            if (scope != null) {
                scope.close();
            }
        }
    }

    @Override
    public WritePageResult writePage(AddressSpace mapping, int pfn, WritebackControl wbc) throws IOException {
        return file.writePage(mapping, pfn, wbc);
    }
}
