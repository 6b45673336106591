package io.memscope.reclaim;

/** How reclaim's reports and trace lines print a GFP mask (one place, so the format is shared). */
final class ReclaimFormat {
    private ReclaimFormat() {}

    static String gfp(int gfp) {
        return "0x" + Integer.toHexString(gfp);
    }
}
