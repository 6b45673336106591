package io.memscope.slab;

import io.memscope.page.PageTable;
import io.memscope.page.PageTableDescriptor;

/**
 * How a slab's state is stored in the page table: memscope's {@code struct slab}, which in the
 * kernel overlays {@code struct page} ({@code mm/slab.h}).
 *
 * <p>Every page of a slab has {@code mapping = SLAB_MAPPING | cacheId} (the kernel's
 * {@code slab->slab_cache} plus the {@code PGTY_slab} page type in one word; page-cache mapping
 * ids are positive, so the two never collide). Its first page also holds:
 * <ul>
 *   <li>{@code private}: the free list head, as object index + 1 (0 = no free object);</li>
 *   <li>{@code index}: {@code inuse} (bits 0-14), {@code objects} (bits 15-29) and whether the
 *       slab is on a list (bit 30) — the kernel's {@code counters} word;</li>
 *   <li>the LRU link words: the {@code slab_list} links.</li>
 * </ul>
 * Tail pages of a multi-page slab keep the head pfn in {@code index}, so {@code virt_to_slab()}
 * of any object address is two table reads. A large kmalloc block (bigger than the largest
 * kmalloc cache) is marked {@link #LARGE_KMALLOC} on its first page, the kernel's
 * {@code PGTY_large_kmalloc}.
 */
final class SlabPages {
    private SlabPages() {}

    /** Mapping word of a slab page: this bit pattern in bits 30-31, the cache id below. */
    static final int SLAB_MAPPING = 0x8000_0000;
    /** Mapping word of the first page of a large kmalloc block. */
    static final int LARGE_KMALLOC = 0xC000_0000;
    private static final int TYPE_MASK = 0xC000_0000;
    static final int MAX_CACHES = 1 << 20;
    private static final int INUSE_MASK = 0x7fff;
    private static final int OBJECTS_SHIFT = 15;
    private static final int ON_LIST = 1 << 30;
    /** {@code MAX_OBJS_PER_PAGE}: objects fit in 15 bits. */
    static final int MAX_OBJS = 0x7fff;

    static boolean isSlab(int mapping) {
        return (mapping & TYPE_MASK) == SLAB_MAPPING;
    }

    static int cacheId(int mapping) {
        return mapping & ~TYPE_MASK;
    }

    /** The first page of the slab that {@code pfn} (a slab page) belongs to. */
    static int head(PageTable pt, int pfn) {
        return (pt.pageFlags(pfn) & PageTableDescriptor.FLAG_TAIL) != 0 ? pt.index(pfn) : pfn;
    }

    /** Marks {@code 1 << order} pages from {@code head} as a slab of cache {@code id} with {@code objects} free objects. */
    static void init(PageTable pt, int head, int order, int id, int objects) {
        int mapping = SLAB_MAPPING | id;
        pt.setMapping(head, mapping);
        pt.setIndex(head, objects << OBJECTS_SHIFT);
        pt.setPrivateWord(head, 0);
        for (int i = 1; i < (1 << order); i++) {
            pt.setMapping(head + i, mapping);
            pt.setIndex(head + i, head);
        }
    }

    /** Clears what {@link #init} wrote, before the pages go back to the page allocator. */
    static void clear(PageTable pt, int head, int order) {
        for (int i = 0; i < (1 << order); i++) {
            pt.setMapping(head + i, 0);
            pt.setIndex(head + i, 0);
        }
        pt.setPrivateWord(head, 0);
        pt.setLruNext(head, PageTableDescriptor.NIL);
        pt.setLruPrev(head, PageTableDescriptor.NIL);
    }

    static int inuse(PageTable pt, int head) {
        return pt.index(head) & INUSE_MASK;
    }

    static void setInuse(PageTable pt, int head, int inuse) {
        pt.setIndex(head, (pt.index(head) & ~INUSE_MASK) | inuse);
    }

    static int objects(PageTable pt, int head) {
        return (pt.index(head) >>> OBJECTS_SHIFT) & INUSE_MASK;
    }

    static boolean onList(PageTable pt, int head) {
        return (pt.index(head) & ON_LIST) != 0;
    }

    static void setOnList(PageTable pt, int head, boolean on) {
        int w = pt.index(head);
        pt.setIndex(head, on ? w | ON_LIST : w & ~ON_LIST);
    }

    /** Free list head: object index + 1, 0 when none. */
    static int freelist(PageTable pt, int head) {
        return pt.privateWord(head);
    }

    static void setFreelist(PageTable pt, int head, int idxPlusOne) {
        pt.setPrivateWord(head, idxPlusOne);
    }
}
