package io.memscope.pagecache;

import io.memscope.page.PageAllocConfig;
import io.memscope.sched.CondResched;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Buffered reads and writes through the page cache: {@code generic_perform_write()} (with the
 * {@code ->write_begin}/{@code ->write_end} work of a simple block file system) and
 * {@code filemap_read()} of {@code mm/filemap.c}. Stateless; the entry points are
 * {@link AddressSpace#performWrite} and {@link AddressSpace#read}. Both loops are preemption points
 * ({@link CondResched}): a virtual thread copying to or from cached pages never blocks otherwise.
 *
 * <p>Neither throttles: {@code generic_perform_write} calls {@code balance_dirty_pages_ratelimited}
 * between pages, but a file system that holds its own locks across the write (the journal's
 * transaction) must throttle only after dropping them, so the caller does it
 * ({@link DirtyThrottle#balanceDirtyPagesRatelimited}).
 */
final class GenericFileIo {
    private GenericFileIo() {}

    private static final int PAGE_SIZE = PageAllocConfig.PAGE_SIZE;
    private static final int PAGE_SHIFT = PageAllocConfig.PAGE_SHIFT;

    static long performWrite(AddressSpace as, long pos, byte[] src, int off, int len) {
        MemorySegment mem = as.cache.allocator.memory();
        long done = 0;
        while (done < len) {
            long p = pos + done;
            int index = Math.toIntExact(p >> PAGE_SHIFT);
            int offset = (int) (p & (PAGE_SIZE - 1));
            int bytes = (int) Math.min(PAGE_SIZE - offset, len - done);
            int pfn = as.filemapGetFolioOrThrow(index, Fgp.WRITEBEGIN);
            try {
                if (!as.isUptodate(pfn) && bytes != PAGE_SIZE) {
                    bringUptodate(as, pfn, (long) index << PAGE_SHIFT);
                }
                MemorySegment.copy(src, off + (int) done, mem, ValueLayout.JAVA_BYTE,
                        ((long) pfn << PAGE_SHIFT) + offset, bytes);
                if (bytes == PAGE_SIZE) {
                    as.folioMarkUptodate(pfn);
                }
                as.folioMarkDirty(pfn);
                as.extendSize(p + bytes); // write_end: i_size_write under the page lock
            } finally {
                as.folioUnlock(pfn);
                as.folioPut(pfn);
            }
            done += bytes;
            CondResched.condResched(); // after ->write_end, as generic_perform_write does
        }
        return done;
    }

    /** {@code block_write_begin}'s read of a page a write covers only partly (zeros past EOF). */
    private static void bringUptodate(AddressSpace as, int pfn, long pageStart) {
        if (pageStart >= as.size()) {
            as.folioMemory(pfn).fill((byte) 0);
        } else {
            try {
                as.ops.readFolio(as, pfn);
            } catch (IOException e) {
                throw new PageCacheIoException("read of page " + as.pageIndex(pfn) + " of " + as.name()
                        + " for a partial write failed", e);
            }
        }
        as.folioMarkUptodate(pfn);
    }

    static int read(AddressSpace as, long pos, byte[] dst, int off, int len) {
        long size = as.size();
        if (pos >= size) {
            return -1;
        }
        int total = (int) Math.min(len, size - pos);
        MemorySegment mem = as.cache.allocator.memory();
        int done = 0;
        while (done < total) {
            CondResched.condResched(); // at the top of each page, as filemap_read does
            long p = pos + done;
            int offset = (int) (p & (PAGE_SIZE - 1));
            int bytes = Math.min(PAGE_SIZE - offset, total - done);
            int pfn = as.readCacheFolio(Math.toIntExact(p >> PAGE_SHIFT), as.gfpMask());
            try {
                MemorySegment.copy(mem, ValueLayout.JAVA_BYTE, ((long) pfn << PAGE_SHIFT) + offset, dst, off + done,
                        bytes);
            } finally {
                as.folioPut(pfn);
            }
            done += bytes;
        }
        return done;
    }
}
