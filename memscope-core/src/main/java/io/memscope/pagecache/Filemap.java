package io.memscope.pagecache;

import static io.memscope.page.PageTableDescriptor.FLAG_LOCKED;
import static io.memscope.page.PageTableDescriptor.FLAG_REFERENCED;

import io.memscope.gfp.Gfp;
import io.memscope.page.PageHandle;
import io.memscope.page.PageTable;
import java.io.IOException;

/**
 * Finding and creating cached pages: {@code filemap_get_entry()}, {@code __filemap_get_folio()},
 * {@code filemap_add_folio()}, {@code do_read_cache_folio()} and {@code filemap_read_folio()} of
 * {@code mm/filemap.c}. Stateless; the public entry points are on {@link AddressSpace}.
 *
 * <p>Reference protocol: the kernel looks pages up under RCU and takes its reference
 * speculatively ({@code folio_try_get}, then {@code xas_reload} to see the slot still holds the
 * page). memscope takes the reference under the {@code xa_lock} held shared instead, because here
 * a page can be freed without a final {@code folio_put} (the allocator's free ignores the count),
 * so a speculative reference on a page that had just left the cache could land on the page of its
 * next owner. Under the shared lock the page cannot leave the index, a page in the index always
 * holds the cache's reference, and reclaim freezes the count only under the exclusive lock — so
 * the {@code folio_try_get} cannot fail.
 */
final class Filemap {
    private Filemap() {}

    private static final int EEXIST = -17;

    static int getEntry(AddressSpace as, int index) {
        long s = as.xa.lock.readLock();
        try {
            int pfn = as.xa.get(index);
            if (pfn != PageCacheIndex.NONE) {
                tryGet(as.pt, pfn);
            }
            return pfn;
        } finally {
            as.xa.lock.unlockRead(s);
        }
    }

    static long nextFolioRef(AddressSpace as, int from, int last, int tag) {
        long s = as.xa.lock.readLock();
        try {
            int index = tag < 0 ? as.xa.nextPresent(from) : as.xa.nextMarked(from, tag);
            if (index < 0 || index > last) {
                return -1;
            }
            int pfn = as.xa.get(index);
            tryGet(as.pt, pfn);
            return ((long) index << 32) | (pfn & 0xffffffffL);
        } finally {
            as.xa.lock.unlockRead(s);
        }
    }

    private static void tryGet(PageTable pt, int pfn) {
        if (!pt.refcountTryGet(pfn)) {
            throw new FolioStateException("page cache lookup: expected a cached page holding the cache's reference,"
                    + " found pfn 0x" + Integer.toHexString(pfn) + " with refcount 0 (" + pt.flagNames(pfn) + ")");
        }
    }

    static int getFolio(AddressSpace as, int index, int fgpFlags, int gfp) {
        if (index < 0 || (fgpFlags & ~Fgp.ALL) != 0) {
            throw new IllegalArgumentException("filemap_get_folio: expected index >= 0 and FGP flags within 0x"
                    + Integer.toHexString(Fgp.ALL) + ", found index " + index + ", flags 0x"
                    + Integer.toHexString(fgpFlags));
        }
        while (true) {
            int pfn = getEntry(as, index);
            if (pfn >= 0) {
                if ((fgpFlags & Fgp.LOCK) != 0) {
                    if ((fgpFlags & Fgp.NOWAIT) != 0) {
                        if (!as.wait.trylockPage(pfn)) {
                            as.folioPut(pfn);
                            return AddressSpace.EAGAIN;
                        }
                    } else {
                        as.wait.lockPage(pfn);
                    }
                    if (as.pt.mapping(pfn) != as.id) { // truncated while we slept on the lock
                        as.wait.unlockPage(pfn);
                        as.folioPut(pfn);
                        continue;
                    }
                }
                if ((fgpFlags & Fgp.ACCESSED) != 0) {
                    as.cache.lruOf(pfn).markAccessed(pfn);
                }
                if ((fgpFlags & Fgp.STABLE) != 0) {
                    as.wait.waitOnPageWriteback(pfn);
                }
                return pfn;
            }
            if ((fgpFlags & Fgp.CREAT) == 0) {
                return AddressSpace.ENOENT;
            }
            int g = gfp;
            if ((fgpFlags & Fgp.WRITE) != 0 && as.canWriteback()) {
                g |= Gfp.WRITE;
            }
            if ((fgpFlags & Fgp.NOFS) != 0) {
                g &= ~Gfp.FS;
            }
            if ((fgpFlags & Fgp.NOWAIT) != 0) {
                g &= ~Gfp.KERNEL;
                g |= Gfp.NOWARN;
            }
            long h = as.cache.allocator.allocPages(g, 0);
            if (h == PageHandle.NULL) {
                return AddressSpace.ENOMEM;
            }
            int npfn = PageHandle.pfn(h);
            if ((fgpFlags & Fgp.ACCESSED) != 0) {
                as.pt.setPageFlags(npfn, FLAG_REFERENCED); // not yet visible to anyone: plain store
            }
            if (addFolio(as, npfn, index) == EEXIST) {
                as.folioPut(npfn); // someone added a page meanwhile: use theirs
                continue;
            }
            if ((fgpFlags & (Fgp.LOCK | Fgp.FOR_MMAP)) != Fgp.LOCK) {
                as.wait.unlockPage(npfn);
            }
            return npfn;
        }
    }

    /**
     * {@code filemap_add_folio()}: inserts a new page (refcount 1, owned by the caller) locked,
     * with the page cache's reference, and puts it on its node's LRU.
     *
     * @return 0, or EEXIST when the index is taken (the page is left as it was given)
     */
    private static int addFolio(AddressSpace as, int pfn, int index) {
        PageTable pt = as.pt;
        // The page is private to us until the insert publishes it: plain stores suffice, and the
        // xa_lock release orders them before any lookup (which takes the lock) that finds it.
        pt.setPageFlags(pfn, FLAG_LOCKED);
        pt.refcountAddAndGet(pfn, 1);
        pt.setMapping(pfn, as.id);
        pt.setIndex(pfn, index);
        long s = as.xa.lock.writeLock();
        try {
            if (!as.xa.insert(index, pfn)) {
                pt.setMapping(pfn, 0);
                pt.refcountAddAndGet(pfn, -1);
                pt.clearPageFlags(pfn, FLAG_LOCKED);
                return EEXIST;
            }
            as.cache.nrFilePages.incrementAndGet();
        } finally {
            as.xa.lock.unlockWrite(s);
        }
        as.cache.lruOf(pfn).add(pfn);
        return 0;
    }

    static int readCacheFolio(AddressSpace as, int index, int gfp) {
        int pfn;
        while (true) {
            pfn = getEntry(as, index);
            if (pfn < 0) {
                long h = as.cache.allocator.allocPages(gfp, 0);
                if (h == PageHandle.NULL) {
                    throw new PageCacheNoMemoryException("read_cache_folio: could not allocate page " + index + " of "
                            + as.name());
                }
                pfn = PageHandle.pfn(h);
                if (addFolio(as, pfn, index) == EEXIST) {
                    as.folioPut(pfn);
                    continue;
                }
                fill(as, pfn);
                break;
            }
            if (as.isUptodate(pfn)) {
                break;
            }
            as.wait.lockPage(pfn);
            if (as.pt.mapping(pfn) != as.id) {
                as.wait.unlockPage(pfn);
                as.folioPut(pfn);
                continue;
            }
            if (as.isUptodate(pfn)) {
                as.wait.unlockPage(pfn);
                break;
            }
            fill(as, pfn);
            break;
        }
        as.cache.lruOf(pfn).markAccessed(pfn);
        return pfn;
    }

    /** {@code filemap_read_folio()} on a locked page we hold a reference to; unlocks it (and drops the reference on failure). */
    private static void fill(AddressSpace as, int pfn) {
        try {
            as.ops.readFolio(as, pfn);
        } catch (IOException | RuntimeException e) {
            int index = as.pt.index(pfn);
            as.wait.unlockPage(pfn);
            as.folioPut(pfn);
            if (e instanceof IOException io) {
                throw new PageCacheIoException("read of page " + index + " of " + as.name() + " failed", io);
            }
            throw (RuntimeException) e;
        }
        as.folioMarkUptodate(pfn);
        as.wait.unlockPage(pfn);
    }
}
