package io.memscope.reclaim;

import io.memscope.gfp.GfpFormat;

/** How reclaim's reports and trace lines print a GFP mask (one place, so the format is shared). */
final class ReclaimFormat {
    private ReclaimFormat() {}

    /** The trace form ({@code show_gfp_flags}): names only, {@code none} for 0. */
    static String gfp(int gfp) {
        return GfpFormat.format(gfp);
    }

    /** The report form {@code %#x(%pGg)}: {@code 0xcc0(GFP_KERNEL)}. */
    static String gfpReport(int gfp) {
        return GfpFormat.report(gfp);
    }
}
