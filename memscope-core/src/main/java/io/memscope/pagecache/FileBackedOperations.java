package io.memscope.pagecache;

import io.memscope.debug.KernelLog;
import io.memscope.page.PageAllocConfig;
import io.memscope.sched.Task;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Objects;

/**
 * The reference client operations: a mapping backed by a real file through a {@link FileChannel}
 * — what a simple block file system's {@code address_space_operations} do ({@code mpage_read_folio},
 * {@code iomap_writepages}, {@code ->writepage} of older kernels).
 *
 * <ul>
 *   <li>{@link #readFolio}: positional read of the page's 4096 bytes; bytes past the end of the
 *       file read as zeros.</li>
 *   <li>{@link #writepages}: {@link AddressSpace#writeCachePages} with a writer that starts
 *       writeback, unlocks, writes the page's bytes below the mapping's size at
 *       {@code index * 4096}, and ends writeback; for {@code WB_SYNC_ALL} the channel is then
 *       forced ({@code fsync}), so the data is durable when it returns.</li>
 *   <li>{@link #writePage} (legacy reclaim writeback): refuses work from direct reclaim —
 *       {@code PF_MEMALLOC} without {@code PF_KSWAPD} — by redirtying the page, with the kernel's
 *       {@code WARN_ON_ONCE} (the XFS code quoted in seeds/002: "This should never happen except in
 *       the case of a VM regression so warn about it"); kswapd and others get the page written.</li>
 * </ul>
 *
 * <p>The channel belongs to the caller, who closes it after evicting the mapping. Thread-safe:
 * positional I/O on a {@code FileChannel} may run concurrently.
 */
public final class FileBackedOperations implements AddressSpaceOperations {
    private static final int PAGE_SIZE = PageAllocConfig.PAGE_SIZE;

    private final FileChannel channel;
    private final KernelLog log;

    /**
     * @param channel a channel open for reading and writing
     * @param log     where the direct-reclaim refusal is reported
     */
    public FileBackedOperations(FileChannel channel, KernelLog log) {
        this.channel = Objects.requireNonNull(channel);
        this.log = Objects.requireNonNull(log);
    }

    /** The backing channel. */
    public FileChannel channel() {
        return channel;
    }

    @Override
    public void readFolio(AddressSpace mapping, int pfn) throws IOException {
        MemorySegment page = mapping.folioMemory(pfn);
        ByteBuffer buf = page.asByteBuffer();
        long pos = (long) mapping.pageIndex(pfn) * PAGE_SIZE;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, pos + buf.position());
            if (n < 0) {
                break;
            }
        }
        if (buf.hasRemaining()) {
            page.asSlice(buf.position()).fill((byte) 0);
        }
    }

    @Override
    public long writepages(AddressSpace mapping, WritebackControl wbc) throws IOException {
        long n = mapping.writeCachePages(wbc, this::writeFolio);
        if (wbc.syncMode() == WritebackControl.SyncMode.ALL) {
            channel.force(false);
        }
        return n;
    }

    /**
     * The {@link FolioWriter} of {@link #writepages}: starts writeback, unlocks, writes the page
     * synchronously and ends writeback. May sleep and do I/O.
     */
    public void writeFolio(AddressSpace mapping, int pfn, WritebackControl wbc) throws IOException {
        mapping.folioStartWriteback(pfn);
        mapping.folioUnlock(pfn);
        try {
            writeBytes(mapping, pfn);
        } finally {
            mapping.folioEndWriteback(pfn);
        }
    }

    /**
     * Stores the page's bytes below the mapping's size at {@code index * 4096}: the I/O of a page
     * the caller has put under writeback. May sleep and do I/O.
     */
    public void writeBytes(AddressSpace mapping, int pfn) throws IOException {
        long pos = (long) mapping.pageIndex(pfn) * PAGE_SIZE;
        long len = Math.min(PAGE_SIZE, mapping.size() - pos);
        if (len <= 0) {
            return; // wholly past EOF (truncated meanwhile): nothing to store
        }
        ByteBuffer buf = mapping.folioMemory(pfn).asSlice(0, len).asByteBuffer();
        while (buf.hasRemaining()) {
            channel.write(buf, pos + buf.position());
        }
    }

    @Override
    public WritePageResult writePage(AddressSpace mapping, int pfn, WritebackControl wbc) throws IOException {
        int pf = Task.current().flags();
        if ((pf & (Task.PF_MEMALLOC | Task.PF_KSWAPD)) == Task.PF_MEMALLOC) {
            // Refuse to write the page out from direct reclaim: deep, random stacks, and the
            // caller may hold our locks. kswapd's stack is shallow and it holds none of ours.
            mapping.folioRedirtyForWritepage(wbc, pfn);
            log.warnOnce("FileBackedOperations.writePage",
                    "WARNING: writepage called from direct reclaim (PF_MEMALLOC without PF_KSWAPD) for "
                    + mapping.name() + " index " + mapping.pageIndex(pfn) + ": page redirtied");
            return WritePageResult.REDIRTIED;
        }
        writeFolio(mapping, pfn, wbc);
        return WritePageResult.WRITTEN;
    }
}
