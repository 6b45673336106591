package io.memscope.page;

import static io.memscope.page.PageTableDescriptor.NIL;
import static io.memscope.page.PageTableDescriptor.STATE_BUDDY;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.MigrateType;

/**
 * A zone's buddy free lists: {@code struct free_area free_area[NR_PAGE_ORDERS]} of
 * {@code include/linux/mmzone.h}, one doubly linked list per order and migratetype.
 *
 * <p>Lists are threaded through the page table's next/prev words (like {@code page->buddy_list}),
 * so a list costs two ints of head/count here whatever its length. A block on list
 * {@code (order, mt)} has its head page in state BUDDY with that order and type.
 *
 * <p>Invariants (checked by {@link Validator}): every listed head is aligned to its order; the
 * counts equal the list lengths; a block is on exactly one list; since v6.10 the kernel keeps each
 * free block on the list of its pageblock's type, and so does memscope (blocks of pageblock order
 * or more may span several pageblocks, all of that type).
 *
 * <p>Not thread-safe: every method must be called under the owning zone's lock.
 */
final class FreeArea {
    static final int MT = MigrateType.COUNT;
    private final PageTable pt;
    private final int[] head = new int[Gfp.NR_PAGE_ORDERS * MT];
    private final int[] count = new int[Gfp.NR_PAGE_ORDERS * MT];

    FreeArea(PageTable pt) {
        this.pt = pt;
        java.util.Arrays.fill(head, NIL);
    }

    private static int idx(int order, int mt) {
        return order * MT + mt;
    }

    /** First block on list (order, mt), or NIL ({@code get_page_from_free_area}). */
    int first(int order, int mt) {
        return head[idx(order, mt)];
    }

    /** Blocks on list (order, mt). */
    int count(int order, int mt) {
        return count[idx(order, mt)];
    }

    /** Blocks of this order on any list ({@code free_area[order].nr_free}). */
    int countOrder(int order) {
        int n = 0;
        for (int mt = 0; mt < MT; mt++) {
            n += count[idx(order, mt)];
        }
        return n;
    }

    /** {@code __add_to_free_list}: marks {@code pfn} a buddy head and links it at the list head. */
    void add(int pfn, int order, int mt) {
        int i = idx(order, mt);
        int h = head[i];
        pt.setBlock(pfn, STATE_BUDDY, order, mt);
        pt.setPrev(pfn, NIL);
        pt.setNext(pfn, h);
        if (h != NIL) {
            pt.setPrev(h, pfn);
        }
        head[i] = pfn;
        count[i]++;
    }

    /** {@code __del_page_from_free_list}: unlinks a buddy head and clears its state. */
    void del(int pfn, int order, int mt) {
        int i = idx(order, mt);
        int p = pt.prev(pfn);
        int n = pt.next(pfn);
        if (p == NIL) {
            head[i] = n;
        } else {
            pt.setNext(p, n);
        }
        if (n != NIL) {
            pt.setPrev(n, p);
        }
        pt.setNext(pfn, NIL);
        pt.setPrev(pfn, NIL);
        pt.clearBlock(pfn);
        count[i]--;
    }
}
