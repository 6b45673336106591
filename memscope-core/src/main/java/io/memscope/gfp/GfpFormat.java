package io.memscope.gfp;

/**
 * Prints GFP masks exactly as the kernel does, and parses them back (see {@link GfpParser}).
 *
 * <p>Kernel counterparts: {@code show_gfp_flags()} with the name table {@code __def_gfpflag_names}
 * of {@code include/trace/events/mmflags.h} (tracepoints), and {@code %pGg} / {@code format_flags()}
 * of {@code lib/vsprintf.c} (allocation-failure and OOM reports), which walk the same table.
 *
 * <h2>The rule</h2>
 * Walk the name table in order; an entry matches when all of its bits are still set; print its
 * name, clear its bits, join names with {@code |}. Whatever is left prints as lowercase hex
 * ({@code 0x80000000}). The table tries composites first, so most bits are named by the largest
 * composite that fits ("most bits set go first"), then {@code __GFP_RECLAIM}, then every single bit
 * in bit order. A mask of 0 prints {@code none} in the trace form and nothing in the {@code %pGg}
 * form (so a report reads {@code mode:0x0()}).
 *
 * <p>{@link Order#CURRENT} is today's table (bit order for single bits, since the
 * {@code TRACE_GFP_FLAGS} rework of ~v6.12); {@link Order#LEGACY} is the hand-written order of
 * v6.3–v6.11, for decoding older logs (e.g. {@code 0x6} prints {@code __GFP_HIGHMEM|GFP_DMA32}
 * there, {@code GFP_DMA32|__GFP_HIGHMEM} today). Both use this build's bit values.
 *
 * <p>Invariant: the tables are immutable arrays built once; printing allocates only the
 * resulting string (or nothing, with {@link #append}).
 */
public final class GfpFormat {
    private GfpFormat() {}

    /** Which kernel name table to print with. */
    public enum Order {
        /** Current mainline {@code mmflags.h}: composites, {@code __GFP_RECLAIM}, then bits in bit order. */
        CURRENT,
        /** The hand-ordered table of v6.3–v6.11 (without {@code __GFP_ATOMIC}, removed in v6.3). */
        LEGACY
    }

    /** Number of named single bits: bits 0..24 except the unused bit 9. */
    static final int BIT_COUNT = 24;

    /** Single-bit kernel names indexed by bit number; null for the unused bit 9. */
    private static final String[] BIT_NAMES = new String[Gfp.BITS_SHIFT];
    /** One-line meanings indexed by bit number (our own words). */
    private static final String[] BIT_MEANINGS = new String[Gfp.BITS_SHIFT];

    static {
        bit(Gfp.DMA, "__GFP_DMA", "allocate from ZONE_DMA, the lowest zone");
        bit(Gfp.HIGHMEM, "__GFP_HIGHMEM", "highmem allowed (ZONE_NORMAL on 64-bit)");
        bit(Gfp.DMA32, "__GFP_DMA32", "allocate below 4 GiB (ZONE_DMA32)");
        bit(Gfp.MOVABLE, "__GFP_MOVABLE", "page can be migrated or reclaimed; with HIGHMEM selects ZONE_MOVABLE");
        bit(Gfp.RECLAIMABLE, "__GFP_RECLAIMABLE", "slab memory freeable through shrinkers");
        bit(Gfp.HIGH, "__GFP_HIGH", "high priority: may dip into part of the min reserve");
        bit(Gfp.IO, "__GFP_IO", "reclaim may start physical I/O");
        bit(Gfp.FS, "__GFP_FS", "reclaim may call into filesystems");
        bit(Gfp.ZERO, "__GFP_ZERO", "return zeroed memory");
        bit(Gfp.DIRECT_RECLAIM, "__GFP_DIRECT_RECLAIM", "caller may sleep and reclaim memory itself");
        bit(Gfp.KSWAPD_RECLAIM, "__GFP_KSWAPD_RECLAIM", "wake kswapd when the low watermark is reached");
        bit(Gfp.WRITE, "__GFP_WRITE", "caller will dirty the page; spread by dirty limits");
        bit(Gfp.NOWARN, "__GFP_NOWARN", "suppress allocation-failure reports");
        bit(Gfp.RETRY_MAYFAIL, "__GFP_RETRY_MAYFAIL", "retry hard while progress is made, may fail, never OOM-kill");
        bit(Gfp.NOFAIL, "__GFP_NOFAIL", "never fail: retry forever (needs DIRECT_RECLAIM)");
        bit(Gfp.NORETRY, "__GFP_NORETRY", "one light reclaim round, then fail; never OOM-kill");
        bit(Gfp.MEMALLOC, "__GFP_MEMALLOC", "ignore watermarks: use all reserves");
        bit(Gfp.COMP, "__GFP_COMP", "set up compound-page metadata");
        bit(Gfp.NOMEMALLOC, "__GFP_NOMEMALLOC", "never use the emergency reserves (beats MEMALLOC)");
        bit(Gfp.HARDWALL, "__GFP_HARDWALL", "enforce the cpuset's memory nodes");
        bit(Gfp.THISNODE, "__GFP_THISNODE", "requested node only, no fallback");
        bit(Gfp.ACCOUNT, "__GFP_ACCOUNT", "charge the memory cgroup (kmemcg)");
        bit(Gfp.ZEROTAGS, "__GFP_ZEROTAGS", "zero memory tags along with the memory (MTE)");
        bit(Gfp.NOLOCKDEP, "__GFP_NOLOCKDEP", "skip lockdep's fs_reclaim tracking");
    }

    private static void bit(int value, String name, String meaning) {
        int b = Integer.numberOfTrailingZeros(value);
        BIT_NAMES[b] = name;
        BIT_MEANINGS[b] = meaning;
    }

    // Entry tables: parallel arrays of masks and names, walked in order.
    private static final int[] CUR_MASKS;
    private static final String[] CUR_NAMES;
    private static final int[] LEG_MASKS;
    private static final String[] LEG_NAMES;

    /** The composites every table starts with (mmflags.h order), shared by both orders. */
    private static final Object[] COMPOSITES = {
        Gfp.TRANSHUGE, "GFP_TRANSHUGE",
        Gfp.TRANSHUGE_LIGHT, "GFP_TRANSHUGE_LIGHT",
        Gfp.HIGHUSER_MOVABLE, "GFP_HIGHUSER_MOVABLE",
        Gfp.HIGHUSER, "GFP_HIGHUSER",
        Gfp.USER, "GFP_USER",
        Gfp.KERNEL_ACCOUNT, "GFP_KERNEL_ACCOUNT",
        Gfp.KERNEL, "GFP_KERNEL",
        Gfp.NOFS, "GFP_NOFS",
        Gfp.ATOMIC, "GFP_ATOMIC",
        Gfp.NOIO, "GFP_NOIO",
        Gfp.NOWAIT, "GFP_NOWAIT",
    };

    static {
        int nComp = COMPOSITES.length / 2;
        // current: composites, GFP_DMA, GFP_DMA32, __GFP_RECLAIM, then bits in bit order
        int n = nComp + 3 + BIT_COUNT;
        CUR_MASKS = new int[n];
        CUR_NAMES = new String[n];
        int i = 0;
        for (int c = 0; c < nComp; c++, i++) {
            CUR_MASKS[i] = (Integer) COMPOSITES[2 * c];
            CUR_NAMES[i] = (String) COMPOSITES[2 * c + 1];
        }
        CUR_MASKS[i] = Gfp.DMA;
        CUR_NAMES[i++] = "GFP_DMA";
        CUR_MASKS[i] = Gfp.DMA32;
        CUR_NAMES[i++] = "GFP_DMA32";
        CUR_MASKS[i] = Gfp.RECLAIM;
        CUR_NAMES[i++] = "__GFP_RECLAIM";
        for (int b = 0; b < Gfp.BITS_SHIFT; b++) {
            if (BIT_NAMES[b] != null) {
                CUR_MASKS[i] = 1 << b;
                CUR_NAMES[i++] = BIT_NAMES[b];
            }
        }

        // legacy (v6.3..v6.11): composites, then the hand-ordered list
        int[] legacyBits = {
            Gfp.DMA, Gfp.HIGHMEM, Gfp.DMA32, Gfp.HIGH, Gfp.IO, Gfp.FS, Gfp.NOWARN, Gfp.RETRY_MAYFAIL,
            Gfp.NOFAIL, Gfp.NORETRY, Gfp.COMP, Gfp.ZERO, Gfp.NOMEMALLOC, Gfp.MEMALLOC, Gfp.HARDWALL,
            Gfp.THISNODE, Gfp.RECLAIMABLE, Gfp.MOVABLE, Gfp.ACCOUNT, Gfp.WRITE, Gfp.RECLAIM,
            Gfp.DIRECT_RECLAIM, Gfp.KSWAPD_RECLAIM, Gfp.ZEROTAGS, Gfp.NOLOCKDEP,
        };
        LEG_MASKS = new int[nComp + legacyBits.length];
        LEG_NAMES = new String[LEG_MASKS.length];
        i = 0;
        for (int c = 0; c < nComp; c++, i++) {
            LEG_MASKS[i] = (Integer) COMPOSITES[2 * c];
            LEG_NAMES[i] = (String) COMPOSITES[2 * c + 1];
        }
        for (int m : legacyBits) {
            LEG_MASKS[i] = m;
            LEG_NAMES[i++] = switch (m) {
                case Gfp.DMA -> "GFP_DMA";
                case Gfp.DMA32 -> "GFP_DMA32";
                case Gfp.RECLAIM -> "__GFP_RECLAIM";
                default -> BIT_NAMES[Integer.numberOfTrailingZeros(m)];
            };
        }
    }

    /**
     * The trace form ({@code show_gfp_flags}): {@code GFP_KERNEL|__GFP_ZERO}, {@code none} for 0.
     */
    public static String format(int gfp) {
        return gfp == 0 ? "none" : names(gfp, Order.CURRENT);
    }

    /** The trace form with a chosen table order. */
    public static String format(int gfp, Order order) {
        return gfp == 0 ? "none" : names(gfp, order);
    }

    /** The {@code %pGg} form: like {@link #format(int)} but empty for 0. */
    public static String formatFlags(int gfp) {
        return names(gfp, Order.CURRENT);
    }

    /**
     * The report form {@code %#x(%pGg)} used by {@code warn_alloc} and the OOM report:
     * {@code 0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)}; 0 prints {@code 0x0()}.
     */
    public static String report(int gfp) {
        return report(gfp, Order.CURRENT);
    }

    /** The report form with a chosen table order. */
    public static String report(int gfp, Order order) {
        StringBuilder sb = new StringBuilder(48);
        appendReport(sb, gfp, order);
        return sb.toString();
    }

    /** Appends the report form to {@code sb} (no intermediate strings). */
    public static StringBuilder appendReport(StringBuilder sb, int gfp, Order order) {
        appendHex(sb, gfp).append('(');
        append(sb, gfp, order);
        return sb.append(')');
    }

    /** Appends the {@code %pGg} names of {@code gfp} to {@code sb} (nothing for 0). */
    public static StringBuilder append(StringBuilder sb, int gfp, Order order) {
        int[] masks = order == Order.CURRENT ? CUR_MASKS : LEG_MASKS;
        String[] names = order == Order.CURRENT ? CUR_NAMES : LEG_NAMES;
        int left = gfp;
        boolean first = true;
        for (int i = 0; i < masks.length && left != 0; i++) {
            int m = masks[i];
            if ((left & m) == m) {
                if (!first) {
                    sb.append('|');
                }
                sb.append(names[i]);
                left &= ~m;
                first = false;
            }
        }
        if (left != 0) {
            if (!first) {
                sb.append('|');
            }
            appendHex(sb, left);
        }
        return sb;
    }

    /** Appends {@code 0x} and the unsigned lowercase hex of {@code v} ({@code %#x}, but {@code 0x0} for 0 as in reports). */
    static StringBuilder appendHex(StringBuilder sb, int v) {
        sb.append("0x");
        if (v == 0) {
            return sb.append('0');
        }
        for (int shift = (31 - Integer.numberOfLeadingZeros(v)) & ~3; shift >= 0; shift -= 4) {
            sb.append(Character.forDigit((v >>> shift) & 0xf, 16));
        }
        return sb;
    }

    private static String names(int gfp, Order order) {
        return append(new StringBuilder(40), gfp, order).toString();
    }

    /** The kernel name of single bit number {@code bit} ({@code __GFP_FS}), or null when no flag uses it. */
    public static String bitName(int bit) {
        return bit >= 0 && bit < BIT_NAMES.length ? BIT_NAMES[bit] : null;
    }

    /** A one-line meaning of single bit number {@code bit}, or null when no flag uses it. */
    public static String bitMeaning(int bit) {
        return bit >= 0 && bit < BIT_MEANINGS.length ? BIT_MEANINGS[bit] : null;
    }

    /** The names in the current table, in table order (composites first). A fresh copy. */
    public static String[] tableNames(Order order) {
        return (order == Order.CURRENT ? CUR_NAMES : LEG_NAMES).clone();
    }

    /** The masks in the current table, parallel to {@link #tableNames}. A fresh copy. */
    public static int[] tableMasks(Order order) {
        return (order == Order.CURRENT ? CUR_MASKS : LEG_MASKS).clone();
    }

    /** The value of a kernel flag name from the table ({@code GFP_KERNEL}, {@code __GFP_FS}), or -1 if unknown. */
    public static int valueOf(String kernelName) {
        for (int i = 0; i < CUR_NAMES.length; i++) {
            if (CUR_NAMES[i].equals(kernelName)) {
                return CUR_MASKS[i];
            }
        }
        return -1;
    }

    /** Parses a mask; see {@link GfpParser#parse(String)}. */
    public static int parse(String text) {
        return GfpParser.parse(text);
    }
}
