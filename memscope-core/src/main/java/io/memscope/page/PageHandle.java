package io.memscope.page;

/**
 * The primitive handle an allocation returns: the counterpart of the kernel's
 * {@code struct page *} return value of {@code alloc_pages()}, packed into a {@code long} so that
 * the fast path creates no object (the Netty {@code PoolChunk} handle idea).
 *
 * <pre>
 *  63                 40 39    36 35    32 31                                 0
 *  +--------------------+--------+--------+------------------------------------+
 *  |  generation (24)   | 0000   | order  |  pfn of the head page (unsigned)   |
 *  +--------------------+--------+--------+------------------------------------+
 * </pre>
 *
 * <ul>
 *   <li>{@link #NULL} (0) is the failed allocation, the kernel's NULL. A live handle is never 0
 *       because generations are never 0.</li>
 *   <li>The generation is the head page's generation at allocation time (page-table word 7). It
 *       changes on every free, so a handle kept after {@code freePages} no longer matches:
 *       {@code MemoryManager.segment(handle)} and {@code freePages} detect the stale use. While a
 *       freed page sits in the debug quarantine it cannot be reallocated, so detection is certain;
 *       afterwards it fails only if the page was freed a multiple of 2^24 - 1 times since.</li>
 * </ul>
 */
public final class PageHandle {
    private PageHandle() {}

    /** The failed allocation. */
    public static final long NULL = 0L;

    static final int ORDER_SHIFT = 32;
    static final int GEN_SHIFT = 40;

    /** Packs a handle. */
    public static long of(int pfn, int order, int gen) {
        return ((long) gen << GEN_SHIFT) | ((long) order << ORDER_SHIFT) | (pfn & 0xffffffffL);
    }

    /** The head page's frame number. */
    public static int pfn(long handle) {
        return (int) handle;
    }

    /** The order of the block ({@code 1 << order} pages). */
    public static int order(long handle) {
        return (int) (handle >>> ORDER_SHIFT) & 0xf;
    }

    /** The generation the handle was issued with. */
    public static int generation(long handle) {
        return (int) (handle >>> GEN_SHIFT) & PageTableDescriptor.GEN_MASK;
    }

    /** True for {@link #NULL}. */
    public static boolean isNull(long handle) {
        return handle == NULL;
    }

    /** Readable form: {@code pfn:0x1234 order:0 gen:7}. */
    public static String toString(long handle) {
        if (handle == NULL) {
            return "NULL";
        }
        return "pfn:0x" + Integer.toHexString(pfn(handle)) + " order:" + order(handle) + " gen:" + generation(handle);
    }
}
