package io.memscope.gfp;

/**
 * A scope asked to set or clear a GFP bit that {@link ScopePolicy} does not allow a scope to
 * change. The message names the bit, the direction and the reason.
 */
public final class UnsafeScopeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final int bit;
    private final boolean set;

    public UnsafeScopeException(int bit, boolean set, String reason) {
        super("a scope may not " + (set ? "set " : "clear ") + nameOf(bit) + ": " + reason);
        this.bit = bit;
        this.set = set;
    }

    private static String nameOf(int bitMask) {
        String n = GfpFormat.bitName(Integer.numberOfTrailingZeros(bitMask));
        return n != null ? n : GfpFormat.report(bitMask);
    }

    /** The refused bit (a one-bit mask). */
    public int bit() {
        return bit;
    }

    /** True when setting was refused, false when clearing was. */
    public boolean isSet() {
        return set;
    }
}
