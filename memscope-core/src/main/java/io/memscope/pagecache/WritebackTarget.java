package io.memscope.pagecache;

/**
 * What the flusher threads write back: one dirty "inode" on a backing device's dirty list
 * ({@code wb->b_dirty}), the counterpart of an inode with its address space as
 * {@code writeback_single_inode()} sees it.
 */
public interface WritebackTarget {
    /** A name for reports ({@code inode} number or file name). */
    String name();

    /** Dirty pages not yet under writeback. Read by the flusher without locks: may be stale. */
    long nrDirtyPages();

    /**
     * {@code do_writepages()}: writes dirty pages as {@code wbc} asks, consuming its budget.
     * Runs on a flusher thread or on the caller of an on-demand writeback. May sleep and do I/O.
     *
     * @return pages written (submitted)
     */
    long writepages(WritebackControl wbc);
}
