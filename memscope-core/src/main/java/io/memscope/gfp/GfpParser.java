package io.memscope.gfp;

/**
 * Reads a GFP mask from the forms the kernel prints, the inverse of {@link GfpFormat}.
 *
 * <p>Accepted forms (surrounding whitespace and whitespace around {@code |} are ignored):
 * <ul>
 *   <li>hex: {@code 0xd40} ({@code 0x} or {@code 0X}, at most 8 digits, either case);</li>
 *   <li>names joined by {@code |}: {@code GFP_NOFS|__GFP_ZERO}. A name is a kernel name exactly as
 *       the kernel spells it — {@code GFP_*} composites (including {@code GFP_DMA},
 *       {@code GFP_DMA32}), {@code __GFP_RECLAIM} and the {@code __GFP_*} bits. Names are
 *       case-sensitive and keep their underscores; memscope's Java names ({@code FS},
 *       {@code KERNEL}) are not accepted, because text input is always copied from kernel
 *       output. A term may also be a hex leftover ({@code GFP_KERNEL|0x100}), as the kernel
 *       prints unknown bits;</li>
 *   <li>{@code none} (the trace form of 0);</li>
 *   <li>the report form {@code 0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)}, optionally preceded by
 *       {@code mode:}, {@code gfp_mask=} or {@code gfp_flags=} as in kernel log lines; the hex
 *       and the names must denote the same mask; {@code 0x0()} is 0.</li>
 * </ul>
 * Every bit of the result must be a defined flag ({@link Gfp#isValidBits}); otherwise, and for
 * unknown names or bad hex, an {@link InvalidGfpMaskException} names the bad part.
 *
 * <p>Invariant: for every valid mask {@code m}, {@code parse(GfpFormat.format(m)) == m} and
 * {@code parse(GfpFormat.report(m)) == m}.
 */
public final class GfpParser {
    private GfpParser() {}

    /** The defined bits: {@link Gfp#BITS_MASK} without the unused bit. */
    public static final int VALID_MASK = Gfp.BITS_MASK & ~Gfp.UNUSED_BITS;

    /**
     * Parses {@code text} into a mask.
     *
     * @throws InvalidGfpMaskException naming the bad part when the text is not a valid mask
     */
    public static int parse(String text) {
        if (text == null) {
            throw new InvalidGfpMaskException("null", "null", "is not a mask: expected hex, names or a report form");
        }
        String s = text.strip();
        for (String prefix : new String[] {"mode:", "gfp_mask=", "gfp_flags="}) {
            if (s.startsWith(prefix)) {
                s = s.substring(prefix.length()).strip();
                break;
            }
        }
        if (s.isEmpty()) {
            throw new InvalidGfpMaskException(text, "", "is empty: expected hex (0xcc0), names (GFP_KERNEL) or a report form");
        }
        int open = s.indexOf('(');
        int value;
        if (open >= 0) {
            if (!s.endsWith(")")) {
                throw new InvalidGfpMaskException(text, s.substring(open), "is not closed: expected ')' at the end of the report form");
            }
            String hexPart = s.substring(0, open).strip();
            String namesPart = s.substring(open + 1, s.length() - 1).strip();
            int hex = parseHex(text, hexPart);
            int names = namesPart.isEmpty() ? 0 : parseTerms(text, namesPart);
            if (hex != names) {
                throw new InvalidGfpMaskException(text, namesPart,
                        "denotes " + hexOf(names) + " but the hex part says " + hexOf(hex)
                                + ": expected names and hex to agree");
            }
            value = hex;
        } else if (s.equals("none")) {
            value = 0;
        } else {
            value = parseTerms(text, s);
        }
        int bad = value & ~VALID_MASK;
        if (bad != 0) {
            throw new InvalidGfpMaskException(text, hexOf(bad),
                    "are bits outside the valid GFP mask " + hexOf(VALID_MASK) + " (CONFIG_LOCKDEP=y, no KASAN_HW_TAGS)");
        }
        return value;
    }

    private static int parseTerms(String input, String s) {
        int value = 0;
        int start = 0;
        while (true) {
            int bar = s.indexOf('|', start);
            String term = (bar < 0 ? s.substring(start) : s.substring(start, bar)).strip();
            value |= parseTerm(input, term);
            if (bar < 0) {
                return value;
            }
            start = bar + 1;
        }
    }

    private static int parseTerm(String input, String term) {
        if (term.isEmpty()) {
            throw new InvalidGfpMaskException(input, term, "is an empty term: expected a flag name between '|' separators");
        }
        if (term.startsWith("0x") || term.startsWith("0X")) {
            return parseHex(input, term);
        }
        int v = GfpFormat.valueOf(term);
        if (v >= 0) {
            return v;
        }
        throw new InvalidGfpMaskException(input, term, unknownReason(term));
    }

    private static String unknownReason(String term) {
        return switch (term) {
            case "__GFP_ATOMIC" -> "was removed in v6.3 (its bit is unused): expected a current kernel flag name";
            case "__GFP_SKIP_ZERO", "__GFP_SKIP_KASAN" ->
                "exists only with CONFIG_KASAN_HW_TAGS, which memscope does not model";
            case "__GFP_NO_OBJ_EXT" -> "is slab-internal and not modelled: expected a current kernel flag name";
            default -> {
                String upper = term.toUpperCase(java.util.Locale.ROOT);
                if (!upper.equals(term) && GfpFormat.valueOf(upper) >= 0) {
                    yield "is not a kernel flag name: names are case-sensitive, expected " + upper;
                }
                if (GfpFormat.valueOf("__GFP_" + upper) >= 0) {
                    yield "is not a kernel flag name: expected __GFP_" + upper;
                }
                if (GfpFormat.valueOf("GFP_" + upper) >= 0) {
                    yield "is not a kernel flag name: expected GFP_" + upper;
                }
                yield "is not a GFP flag name: expected GFP_* or __GFP_* as the kernel prints them, or 0x hex";
            }
        };
    }

    private static int parseHex(String input, String term) {
        if (!(term.startsWith("0x") || term.startsWith("0X"))) {
            throw new InvalidGfpMaskException(input, term, "is not hex: expected 0x followed by hex digits");
        }
        String digits = term.substring(2);
        if (digits.isEmpty() || digits.length() > 8) {
            throw new InvalidGfpMaskException(input, term, "is not a 32-bit hex value: expected 1 to 8 hex digits after 0x");
        }
        int v = 0;
        for (int i = 0; i < digits.length(); i++) {
            int d = Character.digit(digits.charAt(i), 16);
            if (d < 0) {
                throw new InvalidGfpMaskException(input, term, "has a non-hex digit '" + digits.charAt(i) + "': expected 0-9 or a-f");
            }
            v = (v << 4) | d;
        }
        return v;
    }

    private static String hexOf(int v) {
        return GfpFormat.appendHex(new StringBuilder(12), v).toString();
    }
}
