package io.memscope.gfp;

/**
 * A GFP mask given as text could not be read: an unknown flag name, malformed hex, bits outside
 * the valid mask, or a report whose hex and names disagree.
 *
 * <p>The message names the offending part and says what was expected; {@link #part()} returns
 * that part alone, so a caller (the CLI) can point at it.
 */
public final class InvalidGfpMaskException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String input;
    private final String part;

    /**
     * @param input  the whole text that was parsed
     * @param part   the offending token or fragment
     * @param reason what was wrong and what was expected, in one sentence
     */
    public InvalidGfpMaskException(String input, String part, String reason) {
        super("invalid GFP mask '" + input + "': '" + part + "' " + reason);
        this.input = input;
        this.part = part;
    }

    /** The whole text that was parsed. */
    public String input() {
        return input;
    }

    /** The offending token or fragment. */
    public String part() {
        return part;
    }
}
