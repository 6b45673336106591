package io.memscope.pagecache;

import static io.memscope.page.PageTableDescriptor.FLAG_DIRTY;
import static io.memscope.page.PageTableDescriptor.FLAG_PRIVATE;
import static io.memscope.page.PageTableDescriptor.FLAG_WRITEBACK;

import io.memscope.page.PageAllocConfig;

/**
 * Taking pages out of a mapping: {@code truncate_inode_pages_range()},
 * {@code truncate_inode_folio()}, {@code truncate_inode_partial_folio()} and
 * {@code invalidate_mapping_pages()} of {@code mm/truncate.c}. Stateless; the public entry points
 * are on {@link AddressSpace}.
 *
 * <p>Truncation must not lose a write in flight nor free a page under I/O: each page is locked and
 * its writeback waited for before it leaves the cache. Invalidation (eviction of clean cache) is
 * the opposite: it never waits, and leaves anything busy.
 */
final class Truncation {
    private Truncation() {}

    private static final int PAGE_SIZE = PageAllocConfig.PAGE_SIZE;
    private static final int PAGE_SHIFT = PageAllocConfig.PAGE_SHIFT;

    static void truncateInodePagesRange(AddressSpace as, long lstart, long lend) {
        if (lstart < 0 || lend < lstart) {
            throw new IllegalArgumentException("truncate range must satisfy 0 <= start <= end, was [" + lstart + ", "
                    + lend + "]");
        }
        boolean toEnd = lend == WritebackControl.RANGE_END_MAX;
        long firstFull = (lstart + PAGE_SIZE - 1) >> PAGE_SHIFT;
        long lastFull = toEnd ? Integer.MAX_VALUE : ((lend + 1) >> PAGE_SHIFT) - 1;
        if ((lstart & (PAGE_SIZE - 1)) != 0) {
            long pageLast = lstart | (PAGE_SIZE - 1);
            partialPage(as, (int) (lstart >> PAGE_SHIFT), (int) (lstart & (PAGE_SIZE - 1)),
                    (int) (Math.min(pageLast, lend) - lstart + 1));
        }
        if (!toEnd && ((lend + 1) & (PAGE_SIZE - 1)) != 0 && (lend >> PAGE_SHIFT) != (lstart >> PAGE_SHIFT)) {
            partialPage(as, (int) (lend >> PAGE_SHIFT), 0, (int) ((lend & (PAGE_SIZE - 1)) + 1));
        }
        if (firstFull > lastFull || firstFull > Integer.MAX_VALUE) {
            return;
        }
        int next = (int) firstFull;
        int last = (int) Math.min(Integer.MAX_VALUE, lastFull);
        while (next >= 0) {
            long found = as.nextFolioRef(next, last, -1);
            if (found < 0) {
                break;
            }
            int index = (int) (found >>> 32);
            int pfn = (int) found;
            next = index == Integer.MAX_VALUE ? -1 : index + 1;
            as.wait.lockPage(pfn);
            try {
                as.wait.waitOnPageWriteback(pfn);
                if (as.pt.mapping(pfn) == as.id) {
                    truncateFolio(as, pfn);
                }
            } finally {
                as.wait.unlockPage(pfn);
                as.folioPut(pfn);
            }
        }
    }

    /** {@code truncate_inode_folio()}: on a locked page not under writeback; the data is thrown away. */
    private static void truncateFolio(AddressSpace as, int pfn) {
        if (as.pt.testPageFlag(pfn, FLAG_PRIVATE)) {
            as.ops.invalidateFolio(as, pfn, 0, PAGE_SIZE);
        }
        as.cancelDirty(pfn);
        as.deleteFromPageCache(pfn);
    }

    /** {@code truncate_inode_partial_folio()}: zeroes {@code [offset, offset + length)} of a cached page. */
    private static void partialPage(AddressSpace as, int index, int offset, int length) {
        int pfn = as.getEntry(index);
        if (pfn < 0) {
            return;
        }
        as.wait.lockPage(pfn);
        try {
            as.wait.waitOnPageWriteback(pfn);
            if (as.pt.mapping(pfn) == as.id) {
                as.folioMemory(pfn).asSlice(offset, length).fill((byte) 0);
                if (as.pt.testPageFlag(pfn, FLAG_PRIVATE)) {
                    as.ops.invalidateFolio(as, pfn, offset, length);
                }
            }
        } finally {
            as.wait.unlockPage(pfn);
            as.folioPut(pfn);
        }
    }

    static long invalidateMappingPages(AddressSpace as, int start, int end) {
        long evicted = 0;
        int next = start;
        while (next >= 0) {
            long found = as.nextFolioRef(next, end, -1);
            if (found < 0) {
                break;
            }
            int index = (int) (found >>> 32);
            int pfn = (int) found;
            next = index == Integer.MAX_VALUE ? -1 : index + 1;
            if (!as.wait.trylockPage(pfn)) {
                as.folioPut(pfn);
                continue;
            }
            try {
                // mapping_evict_folio(): clean, idle, and referenced only by the cache and by us.
                boolean priv = as.pt.testPageFlag(pfn, FLAG_PRIVATE);
                if (as.pt.mapping(pfn) == as.id && (as.pt.pageFlagsAcquire(pfn) & (FLAG_DIRTY | FLAG_WRITEBACK)) == 0
                        && as.pt.refcount(pfn) <= 2 && (!priv || as.ops.releaseFolio(as, pfn, 0))) {
                    as.deleteFromPageCache(pfn);
                    evicted++;
                }
            } finally {
                as.wait.unlockPage(pfn);
                as.folioPut(pfn);
            }
        }
        return evicted;
    }
}
