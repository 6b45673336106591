package io.memscope.pagecache;

/**
 * The dirty-page thresholds of {@code mm/page-writeback.c}: {@code global_dirtyable_memory()},
 * {@code domain_dirty_limits()} and {@code dirty_freerun_ceiling()}.
 *
 * <p>Writers may keep up to {@code thresh} pages dirty (or under writeback); above
 * {@code bg_thresh} the flushers start background writeback; between the "freerun ceiling"
 * {@code (thresh + bg_thresh) / 2} and {@code thresh}, writers are throttled in
 * {@code balance_dirty_pages}. Thresholds come from {@code vm.dirty_ratio} (default 20) and
 * {@code vm.dirty_background_ratio} (10) of the <em>dirtyable</em> memory, or from the
 * {@code *_bytes} knobs when those are set. Ratios are first converted to parts per
 * {@code PAGE_SIZE}, exactly as the kernel does, so rounding matches.
 *
 * @param thresh   {@code dtc->thresh} in pages
 * @param bgThresh {@code dtc->bg_thresh} in pages
 */
public record DirtyLimits(long thresh, long bgThresh) {
    private static final long PAGE_SIZE = 4096;
    private static final long UINT_MAX = 0xffff_ffffL;

    /**
     * {@code global_dirtyable_memory()}: free pages minus the kernel reserve, plus file LRU
     * pages, plus one so it is never 0.
     */
    public static long dirtyableMemory(long freePages, long totalReservePages, long fileLruPages) {
        long x = freePages - Math.min(freePages, totalReservePages);
        return x + fileLruPages + 1;
    }

    /**
     * {@code domain_dirty_limits()} for the global domain.
     *
     * @param available       dirtyable memory in pages
     * @param dirtyRatio      {@code vm.dirty_ratio} (percent)
     * @param bgRatio         {@code vm.dirty_background_ratio} (percent)
     * @param dirtyBytes      {@code vm.dirty_bytes} (0: use the ratio)
     * @param bgBytes         {@code vm.dirty_background_bytes} (0: use the ratio)
     * @param rtTask          the caller is a real-time task: limits lifted by a quarter
     * @param globalDirtyLimit {@code global_wb_domain.dirty_limit}, for the real-time lift
     */
    public static DirtyLimits compute(long available, int dirtyRatio, int bgRatio, long dirtyBytes,
            long bgBytes, boolean rtTask, long globalDirtyLimit) {
        if (dirtyRatio < 0 || dirtyRatio > 100 || bgRatio < 0 || bgRatio > 100) {
            throw new IllegalArgumentException("dirty ratios must be percentages, were " + dirtyRatio + " and " + bgRatio);
        }
        long ratio = dirtyRatio * PAGE_SIZE / 100;
        long bgRatioPp = bgRatio * PAGE_SIZE / 100;
        long thresh = dirtyBytes != 0 ? ceilDiv(dirtyBytes, PAGE_SIZE) : ratio * available / PAGE_SIZE;
        long bg = bgBytes != 0 ? ceilDiv(bgBytes, PAGE_SIZE) : bgRatioPp * available / PAGE_SIZE;
        if (rtTask) {
            bg += bg / 4 + globalDirtyLimit / 32;
            thresh += thresh / 4 + globalDirtyLimit / 32;
        }
        if (thresh > UINT_MAX) {
            thresh = UINT_MAX;
        }
        if (bg >= thresh) {
            bg = thresh / 2;
        }
        return new DirtyLimits(thresh, bg);
    }

    /** The defaults: {@code dirty_ratio} 20, {@code dirty_background_ratio} 10. */
    public static DirtyLimits defaults(long available) {
        return compute(available, 20, 10, 0, 0, false, 0);
    }

    /** {@code dirty_freerun_ceiling()}: below it writers are never throttled. */
    public long freerunCeiling() {
        return (thresh + bgThresh) / 2;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
