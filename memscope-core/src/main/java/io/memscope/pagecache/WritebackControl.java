package io.memscope.pagecache;

/**
 * What a writeback caller asks a mapping's {@code writepages} to do: {@code struct
 * writeback_control} of {@code include/linux/writeback.h}.
 *
 * <p>{@link #syncMode()} decides the contract: {@link SyncMode#NONE} ("write what you can,
 * don't wait": background and reclaim-driven writeback) may skip busy pages;
 * {@link SyncMode#ALL} (data-integrity writeback, {@code fsync}, {@code filemap_write_and_wait})
 * must write every dirty page in the range and wait on pages already under writeback.
 * {@link #nrToWrite()} is a budget the callee decrements per page written; the range is inclusive
 * bytes. The {@code for_*} flags tell the file system who is asking — a file system may refuse
 * work from direct reclaim (seeds/002: "Refuse to write the page out if we are called from reclaim
 * context"), which memscope models with {@code legacyReclaimWriteback}.
 *
 * <p>Mutable and confined to the thread doing the writeback, like the kernel's on-stack struct.
 */
public final class WritebackControl {
    /** {@code enum writeback_sync_modes}. */
    public enum SyncMode {
        /** WB_SYNC_NONE: don't wait on anything. */
        NONE,
        /** WB_SYNC_ALL: wait on every page, for data integrity. */
        ALL
    }

    /** {@code LLONG_MAX} as a range end: "to the end of the file". */
    public static final long RANGE_END_MAX = Long.MAX_VALUE;

    private long nrToWrite;
    private long pagesSkipped;
    private long rangeStart;
    private long rangeEnd = RANGE_END_MAX;
    private SyncMode syncMode = SyncMode.NONE;
    private boolean forKupdate;
    private boolean forBackground;
    private boolean forReclaim;
    private boolean forSync;
    private boolean rangeCyclic;
    private WbReason reason = WbReason.BACKGROUND;

    /** A control with budget {@code nrToWrite} pages and the given sync mode over the whole file. */
    public static WritebackControl of(SyncMode mode, long nrToWrite) {
        WritebackControl wbc = new WritebackControl();
        wbc.syncMode = mode;
        wbc.nrToWrite = nrToWrite;
        return wbc;
    }

    /** Data-integrity writeback of {@code [start, end]} bytes, as {@code filemap_fdatawrite_range} builds it. */
    public static WritebackControl integrity(long start, long end) {
        WritebackControl wbc = of(SyncMode.ALL, Long.MAX_VALUE);
        wbc.rangeStart = start;
        wbc.rangeEnd = end;
        wbc.reason = WbReason.SYNC;
        return wbc;
    }

    public long nrToWrite() {
        return nrToWrite;
    }

    /** Consumes budget for {@code n} written pages ({@code wbc->nr_to_write -= n}). */
    public void wrote(long n) {
        nrToWrite -= n;
    }

    public long pagesSkipped() {
        return pagesSkipped;
    }

    /** Counts a page the callee skipped (busy, or refused). */
    public void skipped(long n) {
        pagesSkipped += n;
    }

    public long rangeStart() {
        return rangeStart;
    }

    public long rangeEnd() {
        return rangeEnd;
    }

    public WritebackControl range(long start, long end) {
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("writeback range must satisfy 0 <= start <= end, was [" + start + ", " + end + "]");
        }
        this.rangeStart = start;
        this.rangeEnd = end;
        return this;
    }

    public SyncMode syncMode() {
        return syncMode;
    }

    public boolean forKupdate() {
        return forKupdate;
    }

    public boolean forBackground() {
        return forBackground;
    }

    /** {@code for_reclaim}: invoked from page reclaim (only the legacy reclaim-writeback mode does this). */
    public boolean forReclaim() {
        return forReclaim;
    }

    public boolean forSync() {
        return forSync;
    }

    public boolean rangeCyclic() {
        return rangeCyclic;
    }

    /** Why this writeback runs (trace and statistics only). */
    public WbReason reason() {
        return reason;
    }

    public WritebackControl forKupdate(boolean v) {
        this.forKupdate = v;
        return this;
    }

    public WritebackControl forBackground(boolean v) {
        this.forBackground = v;
        return this;
    }

    public WritebackControl forReclaim(boolean v) {
        this.forReclaim = v;
        return this;
    }

    public WritebackControl forSync(boolean v) {
        this.forSync = v;
        return this;
    }

    public WritebackControl rangeCyclic(boolean v) {
        this.rangeCyclic = v;
        return this;
    }

    public WritebackControl reason(WbReason r) {
        this.reason = r;
        return this;
    }

    /** True when page index {@code index} lies in the byte range. */
    public boolean covers(long index) {
        long start = index * 4096L;
        return start <= rangeEnd && start + 4095 >= rangeStart;
    }

    @Override
    public String toString() {
        return "writeback_control{sync_mode=" + (syncMode == SyncMode.ALL ? "WB_SYNC_ALL" : "WB_SYNC_NONE")
                + ", nr_to_write=" + nrToWrite + ", range=[" + rangeStart + ", " + rangeEnd + "]"
                + (forReclaim ? ", for_reclaim" : "") + (forBackground ? ", for_background" : "")
                + (forKupdate ? ", for_kupdate" : "") + ", reason=" + reason.traceName() + "}";
    }
}
