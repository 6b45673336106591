/**
 * memscope: the Linux kernel's memory-allocation context model — GFP flags, allocation scopes,
 * a buddy page allocator with zones and watermarks, reclaim, lockdep — over real off-heap memory.
 *
 * <p>One exported package per kernel subsystem; lower layers never import higher ones (the
 * order is enforced by a test, see {@code LayeringTest}).
 */
module io.memscope {
    exports io.memscope.gfp;
    exports io.memscope.sched;
    exports io.memscope.debug;
    exports io.memscope.page;
    exports io.memscope.reclaim;
    exports io.memscope.pagecache;
    exports io.memscope.slab;
    exports io.memscope.vmalloc;
    exports io.memscope.mempool;
    exports io.memscope.locking;
    exports io.memscope.stat;
    exports io.memscope;
    requires jdk.jfr;
}
