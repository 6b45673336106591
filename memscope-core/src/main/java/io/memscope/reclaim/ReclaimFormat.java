package io.memscope.reclaim;

/** How reclaim's reports and trace lines print a GFP mask (one place, so the format is shared). */
final class ReclaimFormat {
    private ReclaimFormat() {}

    /** The trace form: names only ({@code show_gfp_flags}). */
    static String gfp(int gfp) {
        return "0x" + Integer.toHexString(gfp);
    }

    /** The report form {@code %#x(%pGg)}: {@code 0xcc0(GFP_KERNEL)}. */
    static String gfpReport(int gfp) {
        return "0x" + Integer.toHexString(gfp) + "()";
    }
}
