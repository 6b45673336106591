package io.memscope.reclaim;

import static io.memscope.page.PageTableDescriptor.FLAG_DIRTY;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.page.PageHandle;
import io.memscope.page.PageTable;
import io.memscope.sched.Task;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A page-cache test double: holds pages "in a mapping" (a set of pfns, one reference each), puts
 * them on node 0's LRU, and implements the reclaim side of an address space. Its writePage behaves
 * like the XFS code quoted in seeds/002: work from direct reclaim (PF_MEMALLOC without PF_KSWAPD)
 * is refused and the page redirtied.
 */
final class FakeFileOwner implements FileOwner {
    final MemoryManager mm;
    final PageTable pt;
    final Set<Integer> mapped = ConcurrentHashMap.newKeySet();
    final AtomicInteger flusherWakes = new AtomicInteger();
    final AtomicInteger removed = new AtomicInteger();
    final List<String> writePageCalls = new CopyOnWriteArrayList<>();
    final AtomicInteger written = new AtomicInteger();
    final AtomicInteger refusedDirect = new AtomicInteger();
    volatile boolean refuseRemove;

    FakeFileOwner(MemoryManager mm) {
        this.mm = mm;
        this.pt = mm.pages().pageTable();
        mm.setFileOwner(this);
    }

    /** find_or_create + folio_add_lru: allocates with {@code gfp}; -1 when the allocation failed. */
    int addPage(int gfp, boolean dirty) {
        long h = mm.allocPages(gfp, 0);
        if (h == PageHandle.NULL) {
            return -1;
        }
        int pfn = PageHandle.pfn(h);
        pt.setMapping(pfn, 1);
        if (dirty) {
            pt.setPageFlagAtomic(pfn, FLAG_DIRTY);
        }
        mapped.add(pfn);
        mm.lru(0).add(pfn);
        return pfn;
    }

    /** Truncates every page still mapped (the page cache's teardown). */
    void truncateAll() {
        for (Integer pfn : mapped) {
            if (mapped.remove(pfn)) {
                pt.testAndClearPageFlag(pfn, FLAG_DIRTY);
                pt.setMapping(pfn, 0); // filemap_remove_folio: folio->mapping = NULL
                mm.lru(0).remove(pfn);
                mm.lru(0).put(pfn);
            }
        }
    }

    @Override
    public boolean removeMapping(int pfn) {
        if (refuseRemove || !mapped.contains(pfn)) {
            return false;
        }
        // __remove_mapping: freeze the page cache's + reclaim's references, then re-check dirty.
        if (!pt.refcountFreeze(pfn, 2)) {
            return false;
        }
        if (pt.testPageFlag(pfn, FLAG_DIRTY) || !mapped.remove(pfn)) {
            pt.refcountUnfreeze(pfn, 2);
            return false;
        }
        pt.setMapping(pfn, 0); // __filemap_remove_folio: a freed page must have no mapping (bad_page otherwise)
        removed.incrementAndGet();
        return true;
    }

    @Override
    public void wakeupFlusherThreads(int nid) {
        flusherWakes.incrementAndGet();
    }

    @Override
    public PageoutResult writePage(int pfn) {
        int pf = Task.current().flags();
        String who = (pf & Task.PF_KSWAPD) != 0 ? "kswapd" : "direct";
        writePageCalls.add(who);
        if ((pf & (Task.PF_MEMALLOC | Task.PF_KSWAPD)) == Task.PF_MEMALLOC) {
            refusedDirect.incrementAndGet(); // xfs_vm_writepage: "goto redirty"
            return PageoutResult.KEEP;
        }
        // A synchronous write: the page is clean when we return, and unlocked by us.
        pt.testAndClearPageFlag(pfn, FLAG_DIRTY);
        written.incrementAndGet();
        mm.pageWaitTable().unlockPage(pfn);
        return PageoutResult.SUCCESS;
    }

    static final int GFP_NO_KSWAPD = Gfp.KERNEL & ~Gfp.KSWAPD_RECLAIM;
}
