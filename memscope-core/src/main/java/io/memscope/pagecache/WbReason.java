package io.memscope.pagecache;

/** Why writeback was started: {@code enum wb_reason} of {@code include/linux/backing-dev-defs.h}, in kernel order. */
public enum WbReason {
    /** WB_REASON_BACKGROUND: dirty pages above the background threshold. */
    BACKGROUND("background"),
    /** WB_REASON_VMSCAN: reclaim found dirty pages at the end of the LRU. */
    VMSCAN("vmscan"),
    /** WB_REASON_SYNC: sync(2) or fsync-style data-integrity writeback. */
    SYNC("sync"),
    /** WB_REASON_PERIODIC: the periodic kupdate flush of old dirty data. */
    PERIODIC("periodic"),
    /** WB_REASON_LAPTOP_TIMER. */
    LAPTOP_TIMER("laptop_timer"),
    /** WB_REASON_FS_FREE_SPACE: the file system needs space. */
    FS_FREE_SPACE("fs_free_space"),
    /** WB_REASON_FORKER_THREAD. */
    FORKER_THREAD("forker_thread"),
    /** WB_REASON_FOREIGN_FLUSH. */
    FOREIGN_FLUSH("foreign_flush");

    private final String traceName;

    WbReason(String traceName) {
        this.traceName = traceName;
    }

    /** The name writeback tracepoints print. */
    public String traceName() {
        return traceName;
    }
}
