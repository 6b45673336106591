package io.memscope.pagecache;

import static io.memscope.page.PageTableDescriptor.FLAG_DIRTY;
import static io.memscope.page.PageTableDescriptor.FLAG_RECLAIM;
import static io.memscope.page.PageTableDescriptor.FLAG_WRITEBACK;
import static io.memscope.pagecache.PageCacheIndex.TAG_DIRTY;
import static io.memscope.pagecache.PageCacheIndex.TAG_TOWRITE;
import static io.memscope.pagecache.PageCacheIndex.TAG_WRITEBACK;

/**
 * The bodies of the page-state transitions that touch a mapping's marks and the machine's
 * counters: {@code filemap_dirty_folio()}, {@code __folio_start_writeback()} and
 * {@code folio_end_writeback()} of {@code mm/page-writeback.c}, plus the books check of one
 * mapping. Stateless; the contracts are on {@link AddressSpace}'s public methods.
 */
final class FolioWriteback {
    private FolioWriteback() {}

    static boolean markDirty(AddressSpace as, int pfn) {
        if (as.pt.testAndSetPageFlag(pfn, FLAG_DIRTY)) {
            return false;
        }
        boolean accounted = false;
        long s = as.xa.lock.writeLock();
        try {
            if (as.pt.mapping(pfn) == as.id) { // not truncated meanwhile
                as.xa.setMark(as.pt.index(pfn), TAG_DIRTY);
                if (as.canWriteback()) {
                    as.cache.nrDirty.incrementAndGet();
                    as.cache.nrDirtied.incrementAndGet();
                    accounted = true;
                }
            }
        } finally {
            as.xa.lock.unlockWrite(s);
        }
        if (accounted) {
            as.cache.dirtyThrottle.pageDirtied();
            as.bdi().markInodeDirty(as);
        }
        return true;
    }

    static void startWriteback(AddressSpace as, int pfn) {
        as.requireLocked(pfn, "folio_start_writeback");
        if (as.pt.testAndSetPageFlag(pfn, FLAG_WRITEBACK)) {
            throw new FolioStateException("folio_start_writeback: expected a page not under writeback, found pfn 0x"
                    + Integer.toHexString(pfn) + " (" + as.pt.flagNames(pfn) + ")");
        }
        long s = as.xa.lock.writeLock();
        try {
            int index = as.pt.index(pfn);
            if (as.pt.mapping(pfn) == as.id) {
                as.xa.setMark(index, TAG_WRITEBACK);
                if (!as.pt.testPageFlag(pfn, FLAG_DIRTY)) {
                    as.xa.clearMark(index, TAG_DIRTY);
                }
                as.xa.clearMark(index, TAG_TOWRITE);
            }
        } finally {
            as.xa.lock.unlockWrite(s);
        }
        if (as.canWriteback()) {
            as.cache.nrWriteback.incrementAndGet();
        }
    }

    static void endWriteback(AddressSpace as, int pfn) {
        if (!as.pt.testPageFlag(pfn, FLAG_WRITEBACK)) {
            throw new FolioStateException("folio_end_writeback: expected a page under writeback, found pfn 0x"
                    + Integer.toHexString(pfn) + " (" + as.pt.flagNames(pfn) + ")");
        }
        if (as.pt.testPageFlag(pfn, FLAG_RECLAIM)) {
            as.cache.lruOf(pfn).rotateReclaimable(pfn);
        }
        long s = as.xa.lock.writeLock();
        try {
            if (as.pt.mapping(pfn) == as.id) {
                as.xa.clearMark(as.pt.index(pfn), TAG_WRITEBACK);
            }
        } finally {
            as.xa.lock.unlockWrite(s);
        }
        // Release-clear then wake: a waiter in folio_wait_writeback either sees the bit clear or
        // is woken (PageWaitTable's ordering). From here on truncation may free the page.
        as.wait.clearBitAndWake(pfn, FLAG_WRITEBACK);
        if (as.canWriteback()) {
            as.cache.accountWritebackDone(pfn);
        }
    }

    static int validate(AddressSpace as, long[] counts) {
        int errors = 0;
        long s = as.xa.lock.readLock();
        try {
            errors += as.xa.check();
            for (int i = as.xa.nextPresent(0); i >= 0; i = i == Integer.MAX_VALUE ? -1 : as.xa.nextPresent(i + 1)) {
                int pfn = as.xa.get(i);
                int f = as.pt.pageFlagsAcquire(pfn);
                boolean bad = as.pt.mapping(pfn) != as.id || as.pt.index(pfn) != i || as.pt.refcount(pfn) < 1
                        || ((f & FLAG_DIRTY) != 0 && !as.xa.getMark(i, TAG_DIRTY))
                        || ((f & FLAG_WRITEBACK) != 0) != as.xa.getMark(i, TAG_WRITEBACK);
                if (bad) {
                    as.cache.log.printk(io.memscope.debug.KernelLog.Level.ERR, "page cache: " + as.name() + " index " + i
                            + " pfn 0x" + Integer.toHexString(pfn) + " mapping " + as.pt.mapping(pfn) + " refcount "
                            + as.pt.refcount(pfn) + " flags " + as.pt.flagNames(pfn));
                    errors++;
                }
                if (as.canWriteback()) {
                    counts[0] += (f & FLAG_DIRTY) != 0 ? 1 : 0;
                    counts[1] += (f & FLAG_WRITEBACK) != 0 ? 1 : 0;
                }
            }
        } finally {
            as.xa.lock.unlockRead(s);
        }
        return errors;
    }
}
