package io.memscope.slab;

import io.memscope.page.PageTable;
import io.memscope.page.PageTableDescriptor;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One node's slabs of one cache: {@code struct kmem_cache_node} of {@code mm/slub.c}, with its
 * {@code list_lock}, the partial list and the slab counters.
 *
 * <p><b>Where a slab's state lives.</b> As the kernel's {@code struct slab} overlays
 * {@code struct page}, a slab's state is kept in the page-table record of its first page
 * (see {@link SlabPages}): the free list head, {@code inuse}, {@code objects}, whether it is on
 * the partial list, and the {@code slab_list} links (the page's LRU link words, which the kernel's
 * {@code slab_list} also shares). The free list itself is threaded through the free objects in
 * off-heap memory ({@code get_freepointer}/{@code set_freepointer}).
 *
 * <p><b>Invariants</b> (checked by {@link KmemCache#validate()}): a slab is on the partial list
 * iff {@code 0 < free objects} — or it is empty and kept as one of at most {@code min_partial}
 * spare slabs; a full slab is on no list (the {@code full} list exists only for debug caches, as
 * in SLUB); {@code nrSlabs} counts every slab of the node; {@code totalObjects} their objects;
 * {@code nrEmpty} the partial slabs with {@code inuse == 0}. All fields and every slab record of
 * this node change only under {@link #lock}.
 */
final class SlabNode {
    final ReentrantLock lock = new ReentrantLock();
    private final KmemCache s;
    private final PageTable pt;
    /** Head of the partial list (pfn of a slab's first page) or NIL. */
    int partial = PageTableDescriptor.NIL;
    /** Head of the full list (debug caches only) or NIL. */
    int full = PageTableDescriptor.NIL;
    int nrPartial;
    volatile long nrSlabs;
    volatile long totalObjects;
    volatile int nrEmpty;

    SlabNode(KmemCache s, PageTable pt) {
        this.s = s;
        this.pt = pt;
    }

    // ---- list helpers (caller holds the lock) ----

    private int pushHead(int head, int slab) {
        pt.setLruPrev(slab, PageTableDescriptor.NIL);
        pt.setLruNext(slab, head);
        if (head != PageTableDescriptor.NIL) {
            pt.setLruPrev(head, slab);
        }
        return slab;
    }

    private int unlink(int head, int slab) {
        int prev = pt.lruPrev(slab);
        int next = pt.lruNext(slab);
        if (prev != PageTableDescriptor.NIL) {
            pt.setLruNext(prev, next);
        } else {
            head = next;
        }
        if (next != PageTableDescriptor.NIL) {
            pt.setLruPrev(next, prev);
        }
        return head;
    }

    /** {@code add_partial()} at the head (freshly freed-to slabs are cache-hot). */
    void addPartial(int slab) {
        partial = pushHead(partial, slab);
        nrPartial++;
        SlabPages.setOnList(pt, slab, true);
    }

    /** {@code remove_partial()}. */
    void removePartial(int slab) {
        partial = unlink(partial, slab);
        nrPartial--;
        SlabPages.setOnList(pt, slab, false);
    }

    private void addFull(int slab) {
        if (s.debug) {
            full = pushHead(full, slab);
        }
    }

    private void removeFull(int slab) {
        if (s.debug) {
            full = unlink(full, slab);
        }
    }

    /** Counts a slab just built by {@code allocate_slab()}; it is on no list yet. */
    void accountNewSlab(int objects) {
        nrSlabs++;
        totalObjects += objects;
    }

    /**
     * Takes up to {@code max} objects from the partial slabs into {@code dst[pos..]}
     * ({@code get_partial_node} + {@code get_freelist}); slabs that become full leave the list.
     * Returns how many were taken. Caller holds the lock.
     */
    int takeFromPartial(long[] dst, int pos, int max) {
        int taken = 0;
        while (taken < max && partial != PageTableDescriptor.NIL) {
            int slab = partial;
            int inuse = SlabPages.inuse(pt, slab);
            int objects = SlabPages.objects(pt, slab);
            if (inuse == 0) {
                nrEmpty--;
            }
            while (taken < max && inuse < objects) {
                dst[pos + taken++] = s.popFree(slab);
                inuse++;
            }
            SlabPages.setInuse(pt, slab, inuse);
            if (inuse == objects) {
                removePartial(slab);
                addFull(slab);
            } else if (inuse == 0) {
                nrEmpty++; // max was 0: nothing taken
            }
        }
        return taken;
    }

    /** {@link #takeFromPartial} of one object, or 0 when the list is empty. Caller holds the lock. */
    long takeOneFromPartial() {
        int slab = partial;
        if (slab == PageTableDescriptor.NIL) {
            return 0L;
        }
        int inuse = SlabPages.inuse(pt, slab);
        int objects = SlabPages.objects(pt, slab);
        if (inuse == 0) {
            nrEmpty--;
        }
        long obj = s.popFree(slab);
        SlabPages.setInuse(pt, slab, ++inuse);
        if (inuse == objects) {
            removePartial(slab);
            addFull(slab);
        }
        return obj;
    }

    /**
     * Places a new slab and takes one object from it ({@code ___slab_alloc} after
     * {@code new_slab}): the rest of its objects go on the partial list. Caller holds the lock.
     */
    long takeFromNewSlab(int slab) {
        long obj = s.popFree(slab);
        int objects = SlabPages.objects(pt, slab);
        SlabPages.setInuse(pt, slab, 1);
        if (objects > 1) {
            addPartial(slab);
        } else {
            addFull(slab);
        }
        return obj;
    }

    /**
     * {@code __slab_free()} of one object whose slab is {@code slab}: pushes it on the slab's
     * free list; a full slab goes back on the partial list; an empty one stays as a spare while
     * there are at most {@code min_partial} partial slabs, else it is unlinked and returned for
     * {@code discard_slab()} (the caller frees its pages after dropping the lock). Returns the slab
     * to discard or NIL. Caller holds the lock.
     */
    int freeObject(int slab, long obj) {
        int inuse = SlabPages.inuse(pt, slab);
        int objects = SlabPages.objects(pt, slab);
        boolean onList = SlabPages.onList(pt, slab);
        s.pushFree(slab, obj);
        inuse--;
        SlabPages.setInuse(pt, slab, inuse);
        if (!onList) {
            removeFull(slab);
            if (inuse == 0 && nrPartial >= s.minPartial) {
                return discard(slab, objects); // a one-object slab that went straight from full to empty
            }
            addPartial(slab);
        }
        if (inuse == 0) {
            if (nrPartial > s.minPartial) {
                removePartial(slab);
                return discard(slab, objects);
            }
            nrEmpty++;
        }
        return PageTableDescriptor.NIL;
    }

    private int discard(int slab, int objects) {
        nrSlabs--;
        totalObjects -= objects;
        return slab;
    }

    /**
     * Unlinks up to {@code max} empty slabs for {@code discard_slab()} into {@code out}
     * ({@code __kmem_cache_do_shrink}, and memscope's slab shrinker). Caller holds the lock.
     */
    int takeEmpty(int[] out, int max) {
        int n = 0;
        int slab = partial;
        while (slab != PageTableDescriptor.NIL && n < max) {
            int next = pt.lruNext(slab);
            if (SlabPages.inuse(pt, slab) == 0) {
                removePartial(slab);
                nrEmpty--;
                out[n++] = slab;
                discard(slab, SlabPages.objects(pt, slab));
            }
            slab = next;
        }
        return n;
    }

    /** Free objects on the partial list ({@code count_partial(n, count_free)}). Caller holds the lock. */
    long countFree() {
        long free = 0;
        for (int slab = partial; slab != PageTableDescriptor.NIL; slab = pt.lruNext(slab)) {
            free += SlabPages.objects(pt, slab) - SlabPages.inuse(pt, slab);
        }
        return free;
    }
}
