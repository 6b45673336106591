package io.memscope.pagecache;

import static io.memscope.page.PageTableDescriptor.FLAG_DIRTY;
import static io.memscope.page.PageTableDescriptor.FLAG_LOCKED;
import static io.memscope.page.PageTableDescriptor.FLAG_RECLAIM;
import static io.memscope.page.PageTableDescriptor.FLAG_UPTODATE;
import static io.memscope.pagecache.PageCacheIndex.TAG_DIRTY;

import io.memscope.gfp.Gfp;
import io.memscope.page.PageAllocConfig;
import io.memscope.page.PageTable;
import io.memscope.page.PageWaitTable;
import io.memscope.sched.Memalloc;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A mapping of a client's data (a file, a table, a segment) into cached pages: {@code struct
 * address_space} with the page-cache functions of {@code mm/filemap.c}, {@code mm/truncate.c} and
 * the folio half of {@code mm/page-writeback.c}.
 *
 * <p><b>Pages and their states.</b> A cached page lives in the page table, not in a Java object: its
 * mapping word holds {@link #id()}, its index word the page index, and its flags the kernel's page
 * states — {@code PG_locked} (I/O or truncation in progress; a sleeping lock, see
 * {@link PageWaitTable}), {@code PG_uptodate} (holds valid data), {@code PG_dirty} (newer than the
 * backing store), {@code PG_writeback} (being written), {@code PG_referenced}/{@code PG_active}
 * (LRU aging, owned by {@code reclaim.Lru}) and {@code PG_reclaim} (reclaim wants it soon). The
 * transitions are the kernel's:
 * <pre>
 *   absent --filemapGetFolio(CREAT)--> locked, !uptodate  --readFolio--> uptodate, unlocked
 *   uptodate --folioMarkDirty--> dirty            (NR_FILE_DIRTY+1, inode on the bdi's dirty list)
 *   dirty, locked --folioClearDirtyForIo--> clean  (NR_FILE_DIRTY-1) --folioStartWriteback-->
 *   writeback (NR_WRITEBACK+1) --folioEndWriteback--> clean (NR_WRITEBACK-1, NR_WRITTEN+1,
 *                           PG_reclaim → rotated to the inactive tail, waiters woken)
 *   clean, locked, not writeback --truncate / removeMapping--> absent
 * </pre>
 *
 * <p><b>References.</b> A cached page holds one reference for the page cache; every lookup
 * returns it with one more, which the caller drops with {@link #folioPut}. Reclaim holds one while
 * it has the page isolated, so {@link #removeMapping} freezes the count from 2 to 0.
 *
 * <p><b>Locks.</b> Lock order: page lock → {@code xa_lock} (the index's lock) → {@code lru_lock}.
 * Nothing sleeps or allocates under {@code xa_lock}. Lookups take no lock at all (see
 * {@link PageCacheIndex}).
 *
 * <p><b>GFP mask.</b> {@link #gfpMask()} is {@code mapping_gfp_mask}: {@code GFP_HIGHUSER_MOVABLE}
 * by default, as {@code inode_init_always} sets it. File systems that may not recurse into
 * themselves from page-cache allocations clear {@code __GFP_FS} for the whole mapping (XFS
 * does, in {@code xfs_setup_inode}; gfs2 uses {@code GFP_NOFS} for its metadata mappings): use
 * {@link #setGfpMask}, or {@link Fgp#NOFS} per call, or — preferred since 4.12 — a
 * {@code Memalloc.nofsScope()} where the file system takes the lock reclaim could need.
 */
public final class AddressSpace implements WritebackTarget {
    /** {@code -ENOENT}: no page at that index and {@link Fgp#CREAT} not given. */
    public static final int ENOENT = -2;
    /** {@code -EAGAIN}: {@link Fgp#NOWAIT} and the page lock was busy. */
    public static final int EAGAIN = -11;
    /** {@code -ENOMEM}: a page could not be allocated. */
    public static final int ENOMEM = -12;
    private static final int EEXIST = -17;

    private static final int PAGE_SIZE = PageAllocConfig.PAGE_SIZE;
    private static final int PAGE_SHIFT = PageAllocConfig.PAGE_SHIFT;

    final PageCache cache;
    final PageTable pt;
    final PageWaitTable wait;
    final int id;
    private final String name;
    final AddressSpaceOperations ops;
    private final BdiWriteback bdi;
    final PageCacheIndex xa = new PageCacheIndex();
    private volatile int gfpMask = Gfp.HIGHUSER_MOVABLE;
    private final AtomicLong isize = new AtomicLong();
    /** {@code mapping->writeback_index}: where cyclic writeback resumes. */
    volatile int writebackIndex;
    /** {@code AS_EIO}: the first write-back error not yet reported. */
    private volatile IOException wbError;
    private volatile boolean evicted;

    AddressSpace(PageCache cache, int id, String name, AddressSpaceOperations ops, BdiWriteback bdi) {
        this.cache = cache;
        this.pt = cache.pt;
        this.wait = cache.wait;
        this.id = id;
        this.name = java.util.Objects.requireNonNull(name);
        this.ops = java.util.Objects.requireNonNull(ops);
        this.bdi = bdi;
    }

    /** The id stored in each cached page's mapping word. */
    public int id() {
        return id;
    }

    @Override
    public String name() {
        return name;
    }

    /** The client's operations. */
    public AddressSpaceOperations ops() {
        return ops;
    }

    /** The flusher of this mapping's device, or null. */
    public BdiWriteback bdi() {
        return bdi;
    }

    /** {@code mapping_can_writeback()}: dirty pages are accounted and written back. */
    public boolean canWriteback() {
        return bdi != null;
    }

    /** {@code mapping_gfp_mask()}. */
    public int gfpMask() {
        return gfpMask;
    }

    /** {@code mapping_set_gfp_mask()}. */
    public void setGfpMask(int gfp) {
        this.gfpMask = gfp;
    }

    /** {@code i_size_read()}: the data's size in bytes. */
    public long size() {
        return isize.get();
    }

    /** {@code i_size_write()}. Use {@link #truncateSetsize} to shrink with the pages. */
    public void setSize(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("size must be >= 0, was " + bytes);
        }
        isize.set(bytes);
    }

    /** Raises the size to {@code end} if it is smaller (a write past EOF). */
    public void extendSize(long end) {
        isize.accumulateAndGet(end, Math::max);
    }

    /** {@code mapping->nrpages}. */
    public int nrpages() {
        long s = xa.lock.readLock();
        try {
            return xa.size();
        } finally {
            xa.lock.unlockRead(s);
        }
    }

    /** Pages with the DIRTY mark: the flusher's view, may be stale. */
    @Override
    public long nrDirtyPages() {
        return nrTagged(TAG_DIRTY);
    }

    int nrTagged(int tag) {
        long s = xa.lock.readLock();
        try {
            return xa.countMark(tag);
        } finally {
            xa.lock.unlockRead(s);
        }
    }

    /** The 4096 bytes of a page. */
    public MemorySegment folioMemory(int pfn) {
        return cache.allocator.memory().asSlice((long) pfn << PAGE_SHIFT, PAGE_SIZE);
    }

    /** The page's index in this mapping. */
    public int pageIndex(int pfn) {
        return pt.index(pfn);
    }

    /** The page's flags, e.g. {@code "locked|uptodate|dirty|lru"}. */
    public String folioFlags(int pfn) {
        return pt.flagNames(pfn);
    }

    /** {@code folio_test_*}: one page flag (a {@code PageTableDescriptor.FLAG_*} bit), acquire. */
    public boolean folioTest(int pfn, int flag) {
        return (pt.pageFlagsAcquire(pfn) & flag) != 0;
    }

    void checkLive() {
        if (evicted) {
            throw new MappingEvictedException("mapping " + name + " (id " + id + "): expected a live mapping, found it evicted");
        }
    }

    // =========================================================== lookup and creation

    /** {@code filemap_get_entry()}: the page at {@code index} with a new reference, or -1. */
    int getEntry(int index) {
        return Filemap.getEntry(this, index);
    }

    /** The first page in {@code [from, last]} with mark {@code tag} (-1: any), with a reference: {@code (index << 32) | pfn}, or -1. */
    long nextFolioRef(int from, int last, int tag) {
        return Filemap.nextFolioRef(this, from, last, tag);
    }

    /** {@link #filemapGetFolio(int, int, int)} with the mapping's mask. */
    public int filemapGetFolio(int index, int fgpFlags) {
        return filemapGetFolio(index, fgpFlags, gfpMask);
    }

    /**
     * {@code __filemap_get_folio()}: finds the page at {@code index}, or with {@link Fgp#CREAT}
     * allocates one with {@code gfp} (adjusted as the kernel does: {@code __GFP_WRITE} for
     * {@link Fgp#WRITE}, no {@code __GFP_FS} for {@link Fgp#NOFS}, no reclaim for
     * {@link Fgp#NOWAIT}), adds it to the cache locked with the cache's reference, and to the LRU.
     * A new page is not uptodate: read it with {@link #readCacheFolio} or fill it whole. With
     * {@link Fgp#LOCK} the page is returned locked (a new page is returned unlocked without it —
     * the kernel WARNs and locks it instead). May sleep (page lock, allocation) unless
     * {@link Fgp#NOWAIT}.
     *
     * @return the pfn with a reference the caller drops with {@link #folioPut}, or {@link #ENOENT},
     *         {@link #EAGAIN} or {@link #ENOMEM}
     */
    public int filemapGetFolio(int index, int fgpFlags, int gfp) {
        checkLive();
        return Filemap.getFolio(this, index, fgpFlags, gfp);
    }

    /** Like {@link #filemapGetFolio(int, int)} but throws {@link PageCacheNoMemoryException} for ENOMEM. */
    public int filemapGetFolioOrThrow(int index, int fgpFlags) {
        int r = filemapGetFolio(index, fgpFlags);
        if (r == ENOMEM) {
            throw new PageCacheNoMemoryException("filemap_get_folio: could not allocate page " + index + " of "
                    + name + " with gfp " + io.memscope.gfp.GfpFormat.format(Memalloc.currentGfpContext(gfpMask)));
        }
        return r;
    }

    /**
     * {@code read_cache_folio()} / {@code do_read_cache_folio()}: the uptodate page at
     * {@code index}, read through {@link AddressSpaceOperations#readFolio} if needed, marked
     * accessed, with a reference (not locked). May sleep and do I/O.
     *
     * @throws PageCacheNoMemoryException no page could be allocated (nothing changed)
     * @throws PageCacheIoException the read failed (the page stays cached, not uptodate)
     */
    public int readCacheFolio(int index, int gfp) {
        checkLive();
        return Filemap.readCacheFolio(this, index, gfp);
    }

    /** {@code folio_test_uptodate()}: acquire, so the page's data is read after the flag. */
    public boolean isUptodate(int pfn) {
        return (pt.pageFlagsAcquire(pfn) & FLAG_UPTODATE) != 0;
    }

    /**
     * {@code folio_mark_uptodate()}: the page's data is valid. The set is fully ordered, so the
     * data written before it is visible to anyone who sees the flag (the kernel's smp_wmb).
     */
    public void folioMarkUptodate(int pfn) {
        pt.setPageFlagAtomic(pfn, FLAG_UPTODATE);
    }

    /** {@code folio_lock()}: may sleep. */
    public void folioLock(int pfn) {
        wait.lockPage(pfn);
    }

    /** {@code folio_unlock()}. */
    public void folioUnlock(int pfn) {
        wait.unlockPage(pfn);
    }

    /** {@code folio_put()}: drops a reference; the last one frees the page. */
    public void folioPut(int pfn) {
        cache.lruOf(pfn).put(pfn);
    }

    /**
     * {@code generic_perform_write()}: copies {@code len} bytes of {@code src} to the data at
     * {@code pos} through the cache — each page found or created with {@link Fgp#WRITEBEGIN} and
     * the mapping's mask (so the caller's scopes apply), read first if the write covers it only in
     * part, then dirtied — and extends the size. Does not throttle (see {@link DirtyThrottle}).
     * May sleep and do I/O.
     *
     * @throws PageCacheNoMemoryException a page could not be allocated; the bytes before it were written
     */
    public long performWrite(long pos, byte[] src, int off, int len) {
        checkLive();
        java.util.Objects.checkFromIndexSize(off, len, src.length);
        if (pos < 0) {
            throw new IllegalArgumentException("write position must be >= 0, was " + pos);
        }
        return GenericFileIo.performWrite(this, pos, src, off, len);
    }

    /**
     * {@code filemap_read()}: copies up to {@code len} bytes at {@code pos} (not past the size)
     * into {@code dst}, reading missing pages through the client. May sleep and do I/O.
     *
     * @return bytes read, or -1 at or past the end
     */
    public int read(long pos, byte[] dst, int off, int len) {
        checkLive();
        java.util.Objects.checkFromIndexSize(off, len, dst.length);
        return GenericFileIo.read(this, pos, dst, off, len);
    }

    // =========================================================== dirty and writeback state

    /**
     * {@code folio_mark_dirty()}: through the client's {@link AddressSpaceOperations#dirtyFolio}.
     * Clears a stale {@code PG_reclaim} as the kernel does. The caller holds a reference (usually
     * the page lock too). Never sleeps.
     *
     * @return true when the page became dirty
     */
    public boolean folioMarkDirty(int pfn) {
        if (pt.testPageFlag(pfn, FLAG_RECLAIM)) {
            pt.testAndClearPageFlag(pfn, FLAG_RECLAIM);
        }
        return ops.dirtyFolio(this, pfn);
    }

    /**
     * {@code filemap_dirty_folio()}: sets {@code PG_dirty}; if it was clean and is still in this
     * mapping, accounts it ({@code NR_FILE_DIRTY}, {@code NR_DIRTIED}), sets the DIRTY mark, and
     * puts the mapping on its device's dirty list ({@code __mark_inode_dirty(I_DIRTY_PAGES)}).
     */
    public boolean filemapDirtyFolio(int pfn) {
        return FolioWriteback.markDirty(this, pfn);
    }

    /**
     * {@code folio_clear_dirty_for_io()}: on a locked page about to be written, clears
     * {@code PG_dirty} and unaccounts it; the DIRTY mark stays until writeback starts.
     *
     * @return true when the page was dirty (the caller must now write it)
     */
    public boolean folioClearDirtyForIo(int pfn) {
        requireLocked(pfn, "folio_clear_dirty_for_io");
        if (!pt.testAndClearPageFlag(pfn, FLAG_DIRTY)) {
            return false;
        }
        if (canWriteback()) {
            cache.nrDirty.decrementAndGet();
        }
        return true;
    }

    /**
     * {@code folio_redirty_for_writepage()}: the writer could not write the locked page now (refused
     * reclaim, no memory): makes it dirty again without counting a new dirtying, and counts it
     * skipped in {@code wbc}.
     */
    public void folioRedirtyForWritepage(WritebackControl wbc, int pfn) {
        wbc.skipped(1);
        if (ops.dirtyFolio(this, pfn) && canWriteback()) {
            cache.nrDirtied.decrementAndGet();
            cache.dirtyThrottle.pageUndirtied();
        }
    }

    /**
     * {@code folio_start_writeback()}: on a locked page whose dirty bit was cleared for I/O, sets
     * {@code PG_writeback} and the WRITEBACK mark, drops TOWRITE (and DIRTY unless redirtied), and
     * counts {@code NR_WRITEBACK}.
     *
     * @throws FolioStateException if the page is not locked or already under writeback
     */
    public void folioStartWriteback(int pfn) {
        FolioWriteback.startWriteback(this, pfn);
    }

    /**
     * {@code folio_end_writeback()}: the page's data is on the backing store. If reclaim marked
     * it {@code PG_reclaim}, it is rotated to the tail of the inactive list
     * ({@code folio_rotate_reclaimable}) so the next reclaim pass frees it; then {@code PG_writeback}
     * is cleared, waiters are woken, and the completion is accounted ({@code NR_WRITEBACK},
     * {@code NR_WRITTEN}, {@code acct_reclaim_writeback}, throttled writers). Never sleeps. The
     * caller must not touch the page afterwards unless it holds a reference: truncation may free it.
     *
     * @throws FolioStateException if the page is not under writeback
     */
    public void folioEndWriteback(int pfn) {
        FolioWriteback.endWriteback(this, pfn);
    }

    void requireLocked(int pfn, String fn) {
        if (!pt.testPageFlag(pfn, FLAG_LOCKED)) {
            throw new FolioStateException(fn + ": expected a locked page, found pfn 0x" + Integer.toHexString(pfn)
                    + " (" + pt.flagNames(pfn) + ")");
        }
    }

    /** {@code folio_cancel_dirty()} for truncation: the data is being thrown away. */
    void cancelDirty(int pfn) {
        if (pt.testAndClearPageFlag(pfn, FLAG_DIRTY) && canWriteback()) {
            cache.nrDirty.decrementAndGet();
        }
    }

    /**
     * {@code filemap_remove_folio()} on a locked page: takes it out of the index and drops the page
     * cache's reference (the caller still holds its own). A dirty page here would lose data: the
     * kernel WARNs ({@code filemap_unaccount_folio}) and so does memscope.
     */
    void deleteFromPageCache(int pfn) {
        boolean removed = false;
        long s = xa.lock.writeLock();
        try {
            int index = pt.index(pfn);
            if (pt.mapping(pfn) == id && xa.get(index) == pfn) {
                xa.remove(index);
                pt.setMapping(pfn, 0);
                cache.nrFilePages.decrementAndGet();
                removed = true;
            }
        } finally {
            xa.lock.unlockWrite(s);
        }
        if (removed) {
            if (pt.testPageFlag(pfn, FLAG_DIRTY) && canWriteback()) {
                cancelDirty(pfn);
                cache.log.warnOnce("filemap_unaccount_folio", "WARNING: mm/filemap.c: filemap_unaccount_folio: dirty page 0x"
                        + Integer.toHexString(pfn) + " of " + name + " removed from the page cache");
            }
            folioPut(pfn);
        }
    }

    // =========================================================== write-back and on-demand write

    /** Records a write-back error ({@code mapping_set_error}); the first one wins until reported. */
    void setError(IOException e) {
        if (wbError == null) {
            wbError = e;
        }
    }

    /** {@code filemap_check_errors()}: throws and clears a recorded write-back error. */
    public void checkErrors() {
        IOException e = wbError;
        if (e != null) {
            wbError = null;
            throw new PageCacheIoException("write-back of " + name + " failed", e);
        }
    }

    /**
     * {@code write_cache_pages()} / {@code writeback_iter()}: hands each dirty page of the
     * control's range, in index order, locked and cleared for I/O, to {@code writer}. See
     * {@link WriteCachePages#writeCachePages}. May sleep.
     *
     * @return pages handed to the writer
     */
    public long writeCachePages(WritebackControl wbc, FolioWriter writer) {
        return WriteCachePages.writeCachePages(this, wbc, writer);
    }

    /**
     * {@code do_writepages()}: the client's {@code writepages}. For {@code WB_SYNC_ALL} an
     * allocation failure inside it ({@link PageCacheNoMemoryException}) is retried after a short
     * wait, as the kernel retries {@code -ENOMEM} after {@code reclaim_throttle}; for
     * {@code WB_SYNC_NONE} the unwritten pages simply stay dirty. May sleep and do I/O.
     */
    @Override
    public long writepages(WritebackControl wbc) {
        if (!canWriteback() || evicted) {
            return 0;
        }
        while (true) {
            try {
                return ops.writepages(this, wbc);
            } catch (IOException e) {
                setError(e);
                return 0;
            } catch (PageCacheNoMemoryException e) {
                if (wbc.syncMode() != WritebackControl.SyncMode.ALL) {
                    return 0;
                }
                try {
                    Thread.sleep(java.time.Duration.ofNanos(io.memscope.sched.Jiffies.toNanos(1)));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** {@code filemap_fdatawrite()}: starts data-integrity writeback of every dirty page. May sleep. */
    public long filemapFdatawrite() {
        return filemapFdatawriteRange(0, WritebackControl.RANGE_END_MAX);
    }

    /** {@code filemap_fdatawrite_range()}: WB_SYNC_ALL writeback of bytes {@code [start, end]}. */
    public long filemapFdatawriteRange(long start, long end) {
        checkLive();
        return writepages(WritebackControl.integrity(start, end));
    }

    /** {@code filemap_flush()}: WB_SYNC_NONE writeback of everything, not for data integrity. */
    public long filemapFlush() {
        checkLive();
        return writepages(WritebackControl.of(WritebackControl.SyncMode.NONE, Long.MAX_VALUE));
    }

    /**
     * {@code filemap_fdatawait_range()}: sleeps until no page in bytes {@code [start, end]} is under
     * writeback, then reports a recorded write-back error. May sleep.
     *
     * @throws PageCacheIoException if write-back failed
     */
    public void filemapFdatawaitRange(long start, long end) {
        WriteCachePages.fdatawaitRange(this, start, end);
        checkErrors();
    }

    /**
     * {@code filemap_write_and_wait_range()}: writes every dirty page of bytes {@code [start, end]}
     * and waits for all of them: when it returns, the data that was dirty on entry is on the
     * backing store. The on-demand writeback seeds/002 says can come "from anywhere": it runs the
     * client's writepages on the caller's thread, with the caller's locks and scopes. May sleep.
     *
     * @throws PageCacheIoException if write-back failed
     */
    public void filemapWriteAndWaitRange(long start, long end) {
        filemapFdatawriteRange(start, end);
        filemapFdatawaitRange(start, end);
    }

    /** {@code filemap_write_and_wait()}: the whole mapping. */
    public void filemapWriteAndWait() {
        filemapWriteAndWaitRange(0, WritebackControl.RANGE_END_MAX);
    }

    // =========================================================== truncation and eviction

    /**
     * {@code truncate_inode_pages_range()}: removes the pages wholly inside bytes
     * {@code [lstart, lend]} (each locked, waited on if under writeback, dirty data thrown away),
     * and zeroes the covered part of partial pages at either end. May sleep.
     */
    public void truncateInodePagesRange(long lstart, long lend) {
        Truncation.truncateInodePagesRange(this, lstart, lend);
    }

    /**
     * {@code truncate_setsize()}: sets the size and drops the cached pages beyond it (zeroing the
     * tail of the last partial page). May sleep.
     */
    public void truncateSetsize(long newSize) {
        checkLive();
        setSize(newSize);
        truncateInodePagesRange(newSize, WritebackControl.RANGE_END_MAX);
    }

    /**
     * {@code invalidate_mapping_pages()}: evicts the clean, unlocked, unused pages with indices in
     * {@code [start, end]} ({@code drop_caches} for one file); dirty, locked, under-writeback or
     * otherwise referenced pages stay. Never waits on I/O.
     *
     * @return pages evicted
     */
    public long invalidateMappingPages(int start, int end) {
        return Truncation.invalidateMappingPages(this, start, end);
    }

    /**
     * {@code evict()} → {@code truncate_inode_pages_final()}: drops every page (dirty data is
     * thrown away — write it first), takes the mapping off its device's dirty list and retires its
     * id. Later calls throw {@link MappingEvictedException}. May sleep.
     */
    public void evict() {
        if (evicted) {
            return;
        }
        truncateInodePagesRange(0, WritebackControl.RANGE_END_MAX);
        evicted = true;
        if (bdi != null) {
            bdi.forgetInode(this);
        }
        cache.unregister(this);
    }

    // =========================================================== checks

    /**
     * Checks this mapping's books: index invariants, and every cached page carrying this id,
     * its index, a reference, and flags matching its marks (DIRTY mark ⇐ PG_dirty, WRITEBACK
     * mark ⇔ PG_writeback). Accumulates {@code [pages with PG_dirty, pages with PG_writeback]}
     * into {@code counts}. Returns the number of violations.
     */
    int validate(long[] counts) {
        return FolioWriteback.validate(this, counts);
    }

    @Override
    public String toString() {
        return "address_space{" + name + ", id=" + id + ", nrpages=" + nrpages() + ", size=" + size() + "}";
    }
}
