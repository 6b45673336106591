package io.memscope.gfp;

import java.util.List;

/**
 * Which GFP bits a scope may set and which it may clear, and why: the scope-safety policy from
 * Michal Hocko's review of scoped GFP flags (linux-mm, August 2024, "Switch to
 * memalloc_flags_do() for vmalloc allocations"), with the reasons restated in our own words.
 *
 * <p>A scope changes the mask of <em>every</em> allocation made inside it, including allocations
 * by code that knows nothing about the scope. So a change is safe only when no nested caller can
 * be hurt by it: it must not give a nested caller a failure mode it does not handle, make it sleep
 * where it cannot, recurse into reclaim it excluded, or hand it memory it cannot use. Making
 * reclaim more constrained (clearing {@code __GFP_FS}/{@code __GFP_IO}) is the classic safe case.
 *
 * <p>The kernel itself scopes only {@code __GFP_FS}, {@code __GFP_IO} (the NOFS/NOIO scopes),
 * {@code __GFP_MOVABLE} (PIN) and reserve access ({@code PF_MEMALLOC}). The other bits marked
 * {@link Verdict#ALLOWED} ({@code __GFP_NOWARN}, {@code __GFP_ZERO}, {@code __GFP_NOLOCKDEP},
 * {@code __GFP_ACCOUNT}) are judged safe in the review but have no kernel scope; memscope offers
 * them as an extension (see {@code Memalloc.gfpScope}). Clearing {@code __GFP_ZERO} is our own
 * judgement (unsafe): a nested caller that asked for zeroed memory would read stale data.
 */
public final class ScopePolicy {
    private ScopePolicy() {}

    /** Whether a scope may make a change. */
    public enum Verdict {
        /** Safe; a scope may do it. */
        ALLOWED,
        /** Safe only from user (process, non-kernel-thread) context. */
        USER_CONTEXT_ONLY,
        /** Would do no harm, but has no use that justifies a scope; refused. */
        NOT_OFFERED,
        /** Would break nested allocations; refused. */
        UNSAFE;

        /** True when a scope may make the change in the given context. */
        public boolean permits(boolean userContext) {
            return this == ALLOWED || (this == USER_CONTEXT_ONLY && userContext);
        }
    }

    /**
     * The policy for one GFP bit.
     *
     * @param bit        the one-bit mask
     * @param name       its kernel name
     * @param set        may a scope set it
     * @param setReason  why (our own sentence)
     * @param clear      may a scope clear it
     * @param clearReason why
     * @param mechanism  how memscope implements the allowed direction(s): a PF flag or the extension
     */
    public record Rule(int bit, String name, Verdict set, String setReason, Verdict clear, String clearReason,
                       String mechanism) {}

    private static final String EXT = "memscope extension scope (no kernel counterpart)";

    private static final List<Rule> RULES = List.of(
        r(Gfp.DMA, Verdict.NOT_OFFERED, "the lowest zone can serve every nested request, but nobody needs such a scope",
            Verdict.UNSAFE, "a nested caller whose device can only reach ZONE_DMA would get memory it cannot address", "-"),
        r(Gfp.HIGHMEM, Verdict.UNSAFE, "a nested request for a low zone would become a bad zone combination or land out of its device's reach",
            Verdict.NOT_OFFERED, "a lower zone can serve a highmem request, but nobody needs such a scope", "-"),
        r(Gfp.DMA32, Verdict.UNSAFE, "a nested __GFP_DMA request would become DMA|DMA32, which selects no zone",
            Verdict.UNSAFE, "a nested caller whose device needs memory below 4 GiB would get memory above it", "-"),
        r(Gfp.MOVABLE, Verdict.UNSAFE, "nested kernel allocations would pin pages in blocks reserved for migratable memory",
            Verdict.ALLOWED, "keeping pages out of ZONE_MOVABLE and CMA only restricts placement (the PIN scope)",
            "PF_MEMALLOC_PIN (memalloc_pin_save)"),
        r(Gfp.RECLAIMABLE, Verdict.UNSAFE, "it promises a shrinker can free the memory, which nested callers cannot promise",
            Verdict.NOT_OFFERED, "it would only misfile reclaimable slab as unmovable; nobody needs it", "-"),
        r(Gfp.HIGH, Verdict.NOT_OFFERED, "it would hand reserves to every nested allocation; possible, but nobody asked",
            Verdict.UNSAFE, "nested atomic callers would lose the reserve they rely on to succeed", "-"),
        r(Gfp.IO, Verdict.UNSAFE, "nested GFP_NOIO callers would start I/O they excluded and could deadlock",
            Verdict.ALLOWED, "it only constrains reclaim further and keeps every failure mode (the NOIO scope; clears __GFP_FS too)",
            "PF_MEMALLOC_NOIO (memalloc_noio_save)"),
        r(Gfp.FS, Verdict.UNSAFE, "nested GFP_NOFS callers would recurse into the filesystem they hold locks of",
            Verdict.ALLOWED, "it only constrains reclaim further and keeps every failure mode (the NOFS scope)",
            "PF_MEMALLOC_NOFS (memalloc_nofs_save)"),
        r(Gfp.ZERO, Verdict.ALLOWED, "zeroing changes only the initial contents, as the init_on_alloc switch does globally",
            Verdict.UNSAFE, "a nested caller that asked for zeroed memory would read stale data", EXT),
        r(Gfp.DIRECT_RECLAIM, Verdict.UNSAFE, "nested GFP_ATOMIC and GFP_NOWAIT callers may be in atomic context and must not sleep",
            Verdict.UNSAFE, "nested __GFP_NOFAIL allocations need it and would meet a failure they cannot handle", "-"),
        r(Gfp.KSWAPD_RECLAIM, Verdict.NOT_OFFERED, "waking kswapd changes neither failure nor direct reclaim; a scope for it is pointless",
            Verdict.UNSAFE, "kswapd would stop being woken and memory balance would drift", "-"),
        r(Gfp.WRITE, Verdict.NOT_OFFERED, "it only spreads dirty pages across nodes; harmless, but nobody needs it",
            Verdict.NOT_OFFERED, "it only spreads dirty pages across nodes; harmless, but nobody needs it", "-"),
        r(Gfp.NOWARN, Verdict.ALLOWED, "it silences failure reports and changes nothing else",
            Verdict.ALLOWED, "it restores failure reports and changes nothing else", EXT),
        r(Gfp.RETRY_MAYFAIL, Verdict.UNSAFE, "it changes the failure mode, which nested __GFP_NOFAIL allocations cannot accept",
            Verdict.NOT_OFFERED, "dropping it is safe but has no use", "-"),
        r(Gfp.NOFAIL, Verdict.UNSAFE, "nested non-blocking requests cannot honour it, and nested callers that handle failure gain nothing",
            Verdict.UNSAFE, "nested __GFP_NOFAIL callers would see a failure they do not handle", "-"),
        r(Gfp.NORETRY, Verdict.UNSAFE, "it changes the failure mode, which nested __GFP_NOFAIL allocations cannot accept",
            Verdict.NOT_OFFERED, "dropping it is safe but has no use", "-"),
        r(Gfp.MEMALLOC, Verdict.ALLOWED, "reserve access changes neither allocation nor reclaim semantics (the PF_MEMALLOC scope), though it is unbounded",
            Verdict.UNSAFE, "nested callers that need the reserves for forward progress would lose them",
            "PF_MEMALLOC (memalloc_noreclaim_save)"),
        r(Gfp.COMP, Verdict.UNSAFE, "it changes how tail pages are tracked, breaking nested high-order callers that do not expect it",
            Verdict.UNSAFE, "nested high-order callers that need compound pages would get plain blocks", "-"),
        r(Gfp.NOMEMALLOC, Verdict.NOT_OFFERED, "it exists to override PF_MEMALLOC per call; as a scope it makes no sense",
            Verdict.UNSAFE, "nested callers that refuse reserves on purpose (mempool) would drain them", "-"),
        r(Gfp.HARDWALL, Verdict.NOT_OFFERED, "it is meant for user-space allocations only; harmless, but nobody needs it",
            Verdict.UNSAFE, "user allocations would escape their cpuset's nodes", "-"),
        r(Gfp.THISNODE, Verdict.UNSAFE, "it changes the failure semantics: no fallback to other nodes",
            Verdict.UNSAFE, "allocator-internal node-local requests would silently get remote memory", "-"),
        r(Gfp.ACCOUNT, Verdict.USER_CONTEXT_ONLY, "charging the memory cgroup changes neither failure nor reclaim, but only a user task has a cgroup to charge",
            Verdict.UNSAFE, "accounted allocations would escape their memory cgroup limit", EXT),
        r(Gfp.ZEROTAGS, Verdict.NOT_OFFERED, "it only matters for memory tagging hardware; nobody needs it",
            Verdict.NOT_OFFERED, "it only matters for memory tagging hardware; nobody needs it", "-"),
        r(Gfp.NOLOCKDEP, Verdict.ALLOWED, "it only disables lockdep's reclaim-recursion tracking",
            Verdict.NOT_OFFERED, "it would revive reports a caller silenced on purpose; nobody needs it", EXT));

    private static Rule r(int bit, Verdict set, String setReason, Verdict clear, String clearReason, String mechanism) {
        return new Rule(bit, GfpFormat.bitName(Integer.numberOfTrailingZeros(bit)), set, setReason, clear, clearReason,
                mechanism);
    }

    private static final Rule[] BY_BIT = new Rule[Gfp.BITS_SHIFT];
    private static final int SET_ALLOWED;
    private static final int SET_USER_ONLY;
    private static final int CLEAR_ALLOWED;

    static {
        int set = 0;
        int setUser = 0;
        int clear = 0;
        for (Rule r : RULES) {
            BY_BIT[Integer.numberOfTrailingZeros(r.bit())] = r;
            if (r.set() == Verdict.ALLOWED) {
                set |= r.bit();
            } else if (r.set() == Verdict.USER_CONTEXT_ONLY) {
                setUser |= r.bit();
            }
            if (r.clear() == Verdict.ALLOWED) {
                clear |= r.bit();
            }
        }
        SET_ALLOWED = set;
        SET_USER_ONLY = setUser;
        CLEAR_ALLOWED = clear;
    }

    /** Every rule, in bit order (one per defined GFP bit). */
    public static List<Rule> rules() {
        return RULES;
    }

    /** The rule for a one-bit mask, or null when the bit is no GFP flag. */
    public static Rule of(int bit) {
        if (Integer.bitCount(bit) != 1) {
            throw new IllegalArgumentException("expected a one-bit mask, found " + GfpFormat.report(bit));
        }
        int b = Integer.numberOfTrailingZeros(bit);
        return b < BY_BIT.length ? BY_BIT[b] : null;
    }

    /** The bits a scope may set: {@code __GFP_ZERO|__GFP_NOWARN|__GFP_MEMALLOC|__GFP_NOLOCKDEP}, plus {@code __GFP_ACCOUNT} in user context. */
    public static int settable(boolean userContext) {
        return userContext ? SET_ALLOWED | SET_USER_ONLY : SET_ALLOWED;
    }

    /** The bits a scope may clear: {@code __GFP_MOVABLE|__GFP_IO|__GFP_FS|__GFP_NOWARN}. */
    public static int clearable() {
        return CLEAR_ALLOWED;
    }

    /**
     * Checks a requested scope: set {@code setBits} and clear {@code clearBits} on every nested
     * allocation. Returns normally when the policy allows both.
     *
     * @throws UnsafeScopeException for the lowest refused bit (set checked before clear), with its reason;
     *         also when a bit is both set and cleared, or is no GFP flag
     */
    public static void check(int setBits, int clearBits, boolean userContext) {
        int both = setBits & clearBits;
        if (both != 0) {
            throw new UnsafeScopeException(Integer.lowestOneBit(both), true,
                    "the same scope cannot both set and clear it");
        }
        int badSet = setBits & ~settable(userContext);
        if (badSet != 0) {
            throw new UnsafeScopeException(Integer.lowestOneBit(badSet), true, reason(Integer.lowestOneBit(badSet), true));
        }
        int badClear = clearBits & ~CLEAR_ALLOWED;
        if (badClear != 0) {
            throw new UnsafeScopeException(Integer.lowestOneBit(badClear), false,
                    reason(Integer.lowestOneBit(badClear), false));
        }
    }

    private static String reason(int bit, boolean set) {
        int b = Integer.numberOfTrailingZeros(bit);
        Rule r = b < BY_BIT.length ? BY_BIT[b] : null;
        if (r == null) {
            return "it is no GFP flag in this configuration";
        }
        if (set && r.set() == Verdict.USER_CONTEXT_ONLY) {
            return "only from user context: " + r.setReason();
        }
        return set ? r.setReason() : r.clearReason();
    }
}
