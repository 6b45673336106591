package io.memscope.page;

import static io.memscope.page.PageTableDescriptor.NIL;

import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.gfp.MigrateType;
import java.util.BitSet;

/**
 * The allocator's books, checked like {@code validate_slab_cache()}: every error is logged and
 * counted. Per zone:
 * <ol>
 *   <li>every page is covered by exactly one block: free (buddy), per-CPU, allocated or quarantined
 *       — so free + pcp + allocated + quarantined == managed, and no page is on two lists;</li>
 *   <li>each free block is aligned to its order, its head says BUDDY with the list's order and type,
 *       and its list type is its pageblock's type; list counts equal list lengths;</li>
 *   <li>no two free buddies of the same order are left unmerged (except across pageblocks whose
 *       types may not merge);</li>
 *   <li>each per-CPU pageset's count equals its lists and is at most {@code high};</li>
 *   <li>{@code nr_free_pages} and the highatomic free count equal a recount, and
 *       {@code pgalloc - pgfree} equals the allocated plus quarantined pages;</li>
 *   <li>only a pageblock's last page carries a pageblock type in word 7, a valid one.</li>
 * </ol>
 * Takes every slot lock and zone lock while it runs, so concurrent users wait.
 */
final class Validator {
    private final PageAllocator a;
    private final PageTable pt;
    private int errors;

    Validator(PageAllocator a) {
        this.a = a;
        this.pt = a.pt;
    }

    private void error(String msg) {
        errors++;
        a.log.printk(KernelLog.Level.ERR, "memscope: validate: " + msg);
    }

    int run() {
        for (Zone z : a.zones) {
            for (PerCpuPages p : z.pcp) {
                p.lockSpin();
            }
            z.lock.lock();
            try {
                checkZone(z);
            } finally {
                z.lock.unlock();
                for (PerCpuPages p : z.pcp) {
                    p.unlock();
                }
            }
        }
        return errors;
    }

    private boolean cover(BitSet covered, Zone z, int pfn, int order, String what) {
        if (!z.spans(pfn) || !z.spans(pfn + (1 << order) - 1)) {
            error(z + ": " + what + " block pfn 0x" + Integer.toHexString(pfn) + " order " + order + " outside the zone");
            return false;
        }
        if ((pfn & ((1 << order) - 1)) != 0) {
            error(z + ": " + what + " block pfn 0x" + Integer.toHexString(pfn) + " not aligned to order " + order);
        }
        int from = pfn - z.startPfn;
        int to = from + (1 << order);
        int overlap = covered.get(from, to).cardinality();
        if (overlap != 0) {
            error(z + ": " + what + " block pfn 0x" + Integer.toHexString(pfn) + " order " + order + ": " + overlap
                    + " page(s) already on another list or allocated");
        }
        covered.set(from, to);
        return true;
    }

    private void checkZone(Zone z) {
        BitSet covered = new BitSet(z.pages);
        long free = 0;
        long freeHa = 0;
        for (int o = 0; o <= Gfp.MAX_PAGE_ORDER; o++) {
            for (int mt = 0; mt < MigrateType.COUNT; mt++) {
                int n = 0;
                for (int p = z.area.first(o, mt); p != NIL; p = pt.next(p)) {
                    n++;
                    if (n > z.pages) {
                        error(z + ": free list order " + o + " type " + mt + " has a cycle");
                        break;
                    }
                    int w = pt.flagsWord(p);
                    if (PageTableDescriptor.state(w) != PageTableDescriptor.STATE_BUDDY
                            || PageTableDescriptor.order(w) != o || PageTableDescriptor.listMt(w) != mt) {
                        error(z + ": pfn 0x" + Integer.toHexString(p) + " on free list (order " + o + ", type " + mt
                                + ") but its head says state " + PageTableDescriptor.stateName(PageTableDescriptor.state(w))
                                + " order " + PageTableDescriptor.order(w) + " type " + PageTableDescriptor.listMt(w));
                    }
                    if (!cover(covered, z, p, o, "free")) {
                        continue;
                    }
                    checkNoPageFlags(z, p, w, "free block");
                    if (z.pageblockMt(p) != mt) {
                        error(z + ": free block pfn 0x" + Integer.toHexString(p) + " on type " + mt
                                + " list but its pageblock is type " + z.pageblockMt(p));
                    }
                    free += 1L << o;
                    if (mt == MigrateType.HIGHATOMIC.ordinal()) {
                        freeHa += 1L << o;
                    }
                    if (o < Gfp.MAX_PAGE_ORDER) {
                        int buddy = p ^ (1 << o);
                        int bw = pt.flagsWord(buddy);
                        if (PageTableDescriptor.state(bw) == PageTableDescriptor.STATE_BUDDY && PageTableDescriptor.order(bw) == o
                                && p < buddy) {
                            int bmt = PageTableDescriptor.listMt(bw);
                            boolean mayMerge = o < Zone.PAGEBLOCK_ORDER || bmt == mt
                                    || (Zone.mergeable(mt) && Zone.mergeable(bmt));
                            if (mayMerge) {
                                error(z + ": free buddies pfn 0x" + Integer.toHexString(p) + " and 0x"
                                        + Integer.toHexString(buddy) + " of order " + o + " left unmerged");
                            }
                        }
                    }
                }
                if (n != z.area.count(o, mt)) {
                    error(z + ": free list order " + o + " type " + mt + " counts " + z.area.count(o, mt)
                            + " but holds " + n);
                }
            }
        }
        if (free != z.freePages()) {
            error(z + ": nr_free_pages " + z.freePages() + " but the free lists hold " + free);
        }
        if (freeHa != z.nrFreeHighatomic) {
            error(z + ": free highatomic " + z.nrFreeHighatomic + " but the lists hold " + freeHa);
        }
        long pcpPages = 0;
        long pgalloc = z.buddyPgalloc;
        long pgfree = z.buddyPgfree;
        for (PerCpuPages pcp : z.pcp) {
            pgalloc += pcp.pgalloc;
            pgfree += pcp.pgfree;
            long n = 0;
            for (int pi = 0; pi < PerCpuPages.NR_PCP_LISTS; pi++) {
                int o = PerCpuPages.pindexToOrder(pi);
                for (int p = pcp.head(pi); p != NIL; p = pt.next(p)) {
                    int w = pt.flagsWord(p);
                    if (PageTableDescriptor.state(w) != PageTableDescriptor.STATE_PCP || PageTableDescriptor.order(w) != o) {
                        error(z + " slot " + pcp.slot + ": pfn 0x" + Integer.toHexString(p) + " on pcp list " + pi
                                + " but its head says " + PageTableDescriptor.stateName(PageTableDescriptor.state(w))
                                + " order " + PageTableDescriptor.order(w));
                    }
                    checkNoPageFlags(z, p, w, "pcp block");
                    cover(covered, z, p, o, "pcp");
                    n += 1L << o;
                    if (n > z.pages) {
                        error(z + " slot " + pcp.slot + ": pcp list " + pi + " has a cycle");
                        break;
                    }
                }
            }
            if (n != pcp.count) {
                error(z + " slot " + pcp.slot + ": pcp count " + pcp.count + " but the lists hold " + n);
            }
            if (pcp.count > z.pcpHigh) {
                error(z + " slot " + pcp.slot + ": pcp count " + pcp.count + " above high " + z.pcpHigh);
            }
            pcpPages += n;
        }
        long allocated = 0;
        for (int p = z.startPfn; p < z.startPfn + z.pages; ) {
            int st = pt.state(p);
            int o = pt.order(p);
            if (st == PageTableDescriptor.STATE_ALLOC || st == PageTableDescriptor.STATE_QUARANTINE) {
                cover(covered, z, p, o, PageTableDescriptor.stateName(st));
                allocated += 1L << o;
                p += 1 << o;
            } else if (st == PageTableDescriptor.STATE_NONE) {
                p++;
            } else {
                p += 1 << o;
            }
        }
        int uncovered = z.pages - covered.cardinality();
        if (uncovered != 0 || free + pcpPages + allocated != z.pages) {
            error(z + ": free " + free + " + pcp " + pcpPages + " + allocated " + allocated + " != managed " + z.pages
                    + " (" + uncovered + " page(s) in no block)");
        }
        if (pgalloc - pgfree != allocated) {
            error(z + ": pgalloc " + pgalloc + " - pgfree " + pgfree + " = " + (pgalloc - pgfree)
                    + " but " + allocated + " page(s) are allocated");
        }
        checkWord7(z);
    }

    /** Item 6: the pageblock type field of word 7 (see {@link PageTableDescriptor}). */
    private void checkWord7(Zone z) {
        int last = PageTable.PAGEBLOCK_LAST;
        for (int p = z.startPfn; p < z.startPfn + z.pages; p++) {
            int pbmt = (pt.word7(p) & PageTableDescriptor.PAGEBLOCK_MT_MASK) >>> PageTableDescriptor.PAGEBLOCK_MT_SHIFT;
            if ((p & last) == last ? pbmt >= MigrateType.COUNT : pbmt != 0) {
                error(z + ": pfn 0x" + Integer.toHexString(p) + " carries pageblock type " + pbmt + ", expected "
                        + ((p & last) == last ? "one below " + MigrateType.COUNT : "none (not a pageblock's last page)"));
            }
        }
    }

    /**
     * A free block carries no page flags: the free path clears them ({@code free_pages_prepare}),
     * {@code check_new_page} would call a set one a bad page, and the allocation paths write the
     * head's flags word whole on that assumption.
     */
    private void checkNoPageFlags(Zone z, int pfn, int w, String what) {
        if ((w & PageTableDescriptor.PAGE_FLAGS_MASK) != 0) {
            error(z + ": " + what + " pfn 0x" + Integer.toHexString(pfn) + " has page flags 0x"
                    + Integer.toHexString(w & PageTableDescriptor.PAGE_FLAGS_MASK) + ", expected none");
        }
    }

    /** Pages in allocated or quarantined blocks, over all zones (no locks; for close()). */
    long countAllocated() {
        long n = 0;
        for (Zone z : a.zones) {
            for (int p = z.startPfn; p < z.startPfn + z.pages; ) {
                int st = pt.state(p);
                int o = pt.order(p);
                if (st == PageTableDescriptor.STATE_ALLOC || st == PageTableDescriptor.STATE_QUARANTINE) {
                    n += 1L << o;
                }
                p += st == PageTableDescriptor.STATE_NONE ? 1 : 1 << o;
            }
        }
        return n;
    }
}
