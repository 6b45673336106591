package io.memscope.mempool;

import io.memscope.page.PageAllocator;
import io.memscope.page.PageHandle;
import io.memscope.slab.KmemCache;
import io.memscope.slab.Slab;
import java.util.Objects;

/**
 * The ready-made pools of {@code include/linux/mempool.h}: elements from a slab cache
 * ({@code mempool_create_slab_pool}: {@code mempool_alloc_slab}/{@code mempool_free_slab}), from
 * kmalloc ({@code mempool_create_kmalloc_pool}: {@code mempool_kmalloc}/{@code mempool_kfree}),
 * or whole pages ({@code mempool_create_page_pool}: {@code mempool_alloc_pages}/{@code mempool_free_pages}).
 *
 * <p>Why a pool: a path that must make progress under memory pressure — writeback, block I/O
 * completion — cannot rely on the page allocator, which may fail or sleep for a long time there.
 * A pool keeps {@code minNr} elements in reserve; {@link LongMempool#mempoolAlloc} with a
 * sleeping mask never fails, because elements in flight come back (see
 * {@code docs/mempool.md}). As in the kernel, each creator returns null when the preallocation
 * fails, after freeing what it got.
 */
public final class Mempools {
    private Mempools() {}

    /** {@code mempool_create_slab_pool(minNr, cache)}: elements are objects of {@code cache}. */
    public static LongMempool slabPool(MempoolConfig config, int minNr, KmemCache cache) {
        Objects.requireNonNull(cache, "cache");
        return LongMempool.create(config, minNr, cache::alloc, cache::free);
    }

    /** {@code mempool_create_kmalloc_pool(minNr, size)}: elements are {@code kmalloc(size)} objects. */
    public static LongMempool kmallocPool(MempoolConfig config, int minNr, Slab slab, long size) {
        Objects.requireNonNull(slab, "slab");
        if (size <= 0) {
            throw new IllegalArgumentException("mempool_create_kmalloc_pool: expected an element size > 0, found " + size);
        }
        return LongMempool.create(config, minNr, gfp -> slab.kmalloc(size, gfp), slab::kfree);
    }

    /**
     * {@code mempool_create_page_pool(minNr, order)}: elements are page handles of
     * {@code 1 << order} pages ({@link PageHandle}).
     */
    public static LongMempool pagePool(MempoolConfig config, int minNr, PageAllocator pages, int order) {
        Objects.requireNonNull(pages, "pages");
        if (order < 0 || order > io.memscope.gfp.Gfp.MAX_PAGE_ORDER) {
            throw new IllegalArgumentException("mempool_create_page_pool: expected an order in 0.."
                    + io.memscope.gfp.Gfp.MAX_PAGE_ORDER + ", found " + order);
        }
        return LongMempool.create(config, minNr, gfp -> pages.allocPages(gfp, order), h -> pages.freePages(h, order));
    }
}
