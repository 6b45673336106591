package io.memscope.slab;

import io.memscope.debug.KernelLog;
import io.memscope.page.PageTable;
import io.memscope.page.PageTableDescriptor;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code validate_slab_cache()}: the books of one cache, checked under each node's lock.
 *
 * <p>For every slab on the partial list (and, for debug caches, the full list): the first page is
 * a slab page of this cache; {@code 0 <= inuse <= objects}; the free list is a chain of distinct
 * valid object indexes of exactly {@code objects - inuse} entries; full-list slabs have no free
 * object; the counted empty slabs match; with poisoning, every free object still holds its
 * poison. The node's slab count must equal the slabs found plus the full slabs memscope does not
 * list (non-debug), so it is checked as a lower bound there.
 */
final class SlabValidator {
    private SlabValidator() {}

    static int validate(KmemCache s, Slab slab, PageTable pt) {
        List<String> errs = new ArrayList<>();
        for (int nid = 0; nid < s.nodes.length; nid++) {
            SlabNode n = s.nodes[nid];
            n.lock.lock();
            try {
                int found = 0;
                int empty = 0;
                int partial = 0;
                for (int h = n.partial; h != PageTableDescriptor.NIL && found <= n.nrSlabs; h = pt.lruNext(h)) {
                    found++;
                    partial++;
                    if (SlabPages.inuse(pt, h) == 0) {
                        empty++;
                    }
                    if (SlabPages.inuse(pt, h) == SlabPages.objects(pt, h)) {
                        errs.add(s.name() + ": full slab 0x" + Integer.toHexString(h) + " on the partial list");
                    }
                    checkSlab(s, slab, pt, h, errs);
                }
                for (int h = n.full; h != PageTableDescriptor.NIL && found <= n.nrSlabs; h = pt.lruNext(h)) {
                    found++;
                    if (SlabPages.inuse(pt, h) != SlabPages.objects(pt, h)) {
                        errs.add(s.name() + ": slab 0x" + Integer.toHexString(h) + " on the full list has free objects");
                    }
                    checkSlab(s, slab, pt, h, errs);
                }
                if (partial != n.nrPartial) {
                    errs.add(s.name() + " node " + nid + ": nr_partial " + n.nrPartial + ", found " + partial);
                }
                if (empty != n.nrEmpty) {
                    errs.add(s.name() + " node " + nid + ": empty partial slabs counted " + n.nrEmpty + ", found " + empty);
                }
                if (s.debug ? found != n.nrSlabs : found > n.nrSlabs) {
                    errs.add(s.name() + " node " + nid + ": nr_slabs " + n.nrSlabs + ", found " + found + " on lists");
                }
            } finally {
                n.lock.unlock();
            }
        }
        if (!errs.isEmpty()) {
            List<String> lines = new ArrayList<>();
            lines.add("SLUB " + s.name() + ": validation found " + errs.size() + " error(s)");
            lines.addAll(errs);
            slab.log().printk(KernelLog.Level.ERR, lines);
        }
        return errs.size();
    }

    private static void checkSlab(KmemCache s, Slab slab, PageTable pt, int h, List<String> errs) {
        int mapping = pt.mapping(h);
        if (!SlabPages.isSlab(mapping) || SlabPages.cacheId(mapping) != s.id) {
            errs.add(s.name() + ": slab 0x" + Integer.toHexString(h) + " is not marked as this cache's slab");
            return;
        }
        int objects = SlabPages.objects(pt, h);
        int inuse = SlabPages.inuse(pt, h);
        if (inuse > objects || objects == 0) {
            errs.add(s.name() + ": slab 0x" + Integer.toHexString(h) + " inuse " + inuse + " of " + objects + " objects");
            return;
        }
        boolean[] seen = new boolean[objects];
        int free = 0;
        int fp = SlabPages.freelist(pt, h);
        while (fp != 0) {
            int idx = fp - 1;
            if (idx < 0 || idx >= objects || seen[idx]) {
                errs.add(s.name() + ": slab 0x" + Integer.toHexString(h) + " free list corrupt at index " + idx);
                return;
            }
            seen[idx] = true;
            free++;
            long obj = s.objectAt(h, idx);
            if (s.dbg != null) {
                List<String> report = new ArrayList<>();
                if (!s.dbg.checkObject(obj, SlabDebug.RED_INACTIVE, report)) {
                    errs.add(s.name() + ": free object " + SlabReports.hex(obj) + " corrupt");
                    slab.log().printk(KernelLog.Level.ERR, report);
                }
            }
            fp = s.getFreePointer(obj);
        }
        if (free != objects - inuse) {
            errs.add(s.name() + ": slab 0x" + Integer.toHexString(h) + " has " + free + " free objects, expected "
                    + (objects - inuse));
        }
    }
}
