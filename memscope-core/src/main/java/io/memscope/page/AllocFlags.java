package io.memscope.page;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.MigrateType;
import io.memscope.sched.Task;

/**
 * The allocator-internal {@code ALLOC_*} flags of {@code mm/internal.h}, and the two functions of
 * {@code mm/page_alloc.c} that derive them from a GFP mask and the calling task:
 * {@code gfp_to_alloc_flags()} (slow path) and {@code __gfp_pfmemalloc_flags()} (reserve override).
 *
 * <p>They decide who may dip how far below the min watermark: see
 * {@link Watermarks#zoneWatermarkOk} for the arithmetic per reserve level.
 */
public final class AllocFlags {
    private AllocFlags() {}

    /** Index of the min watermark ({@code ALLOC_WMARK_MIN}). */
    public static final int WMARK_MIN = 0;
    /** {@code ALLOC_WMARK_LOW}: the fast path's watermark. */
    public static final int WMARK_LOW = 1;
    /** {@code ALLOC_WMARK_HIGH}: the last-chance attempt before the OOM killer. */
    public static final int WMARK_HIGH = 2;
    /** {@code ALLOC_WMARK_MASK}. */
    public static final int WMARK_MASK = 3;
    /** {@code ALLOC_NO_WATERMARKS}: skip the watermark check entirely. */
    public static final int NO_WATERMARKS = 0x04;
    /** {@code ALLOC_OOM}: an OOM victim's partial access to reserves. */
    public static final int OOM = 0x08;
    /** {@code ALLOC_NON_BLOCK}: the caller cannot block (was ALLOC_HARDER before v6.3). */
    public static final int NON_BLOCK = 0x10;
    /** {@code ALLOC_MIN_RESERVE}: __GFP_HIGH; the same bit value. */
    public static final int MIN_RESERVE = 0x20;
    /** {@code ALLOC_CPUSET}: check the cpuset. */
    public static final int CPUSET = 0x40;
    /** {@code ALLOC_CMA}: may use CMA (memscope has no CMA areas; the bit is carried for fidelity). */
    public static final int CMA = 0x80;
    /** {@code ALLOC_NOFRAGMENT}: avoid mixing pageblock types. */
    public static final int NOFRAGMENT = 0x100;
    /** {@code ALLOC_HIGHATOMIC}: may use and reserve MIGRATE_HIGHATOMIC blocks. */
    public static final int HIGHATOMIC = 0x200;
    /** {@code ALLOC_TRYLOCK}: trylock-only (alloc_pages_nolock). */
    public static final int TRYLOCK = 0x400;
    /** {@code ALLOC_KSWAPD}: may wake kswapd; the same bit as __GFP_KSWAPD_RECLAIM. */
    public static final int KSWAPD = 0x800;
    /** {@code ALLOC_RESERVES}: any of the flags that allow going below min. */
    public static final int RESERVES = NON_BLOCK | MIN_RESERVE | HIGHATOMIC | OOM;

    /**
     * {@code gfp_to_alloc_flags()}: the slow path's flags for {@code gfp} and {@code order} when called
     * by {@code task}. Test vectors (KERNEL.md T22): GFP_KERNEL → 0x840, GFP_ATOMIC → 0x830,
     * GFP_ATOMIC order 2 → 0xa30, GFP_NOWAIT → 0x850.
     */
    public static int gfpToAllocFlags(int gfp, int order, Task task) {
        int f = WMARK_MIN | CPUSET;
        // __GFP_HIGH and __GFP_KSWAPD_RECLAIM are bit-identical to ALLOC_MIN_RESERVE and ALLOC_KSWAPD.
        f |= gfp & (Gfp.HIGH | Gfp.KSWAPD_RECLAIM);
        if ((gfp & Gfp.DIRECT_RECLAIM) == 0) {
            // Not allowed to block: a little deeper into the reserve, unless the caller says no.
            if ((gfp & Gfp.NOMEMALLOC) == 0) {
                f |= NON_BLOCK;
                if (order > 0 && (f & MIN_RESERVE) != 0) {
                    f |= HIGHATOMIC;
                }
            }
            // Atomic high-priority requests ignore the cpuset: they cannot wait for it to change.
            if ((f & MIN_RESERVE) != 0) {
                f &= ~CPUSET;
            }
        } else if (task.isRtTask() && task.inTask()) {
            f |= MIN_RESERVE;
        }
        if (MigrateType.gfpMigratetypeIndex(gfp) == MigrateType.MOVABLE.ordinal()) {
            f |= CMA;
        }
        return f;
    }

    /**
     * {@code __gfp_pfmemalloc_flags()}: full or partial reserve access that overrides the normal
     * flags. __GFP_NOMEMALLOC → none; __GFP_MEMALLOC → NO_WATERMARKS; serving a softirq with
     * PF_MEMALLOC → NO_WATERMARKS; outside interrupts PF_MEMALLOC → NO_WATERMARKS, else an OOM
     * victim → ALLOC_OOM; otherwise 0.
     */
    public static int pfmemallocFlags(int gfp, Task task) {
        if ((gfp & Gfp.NOMEMALLOC) != 0) {
            return 0;
        }
        if ((gfp & Gfp.MEMALLOC) != 0) {
            return NO_WATERMARKS;
        }
        int pf = task.flags();
        if (task.inServingSoftirq() && (pf & Task.PF_MEMALLOC) != 0) {
            return NO_WATERMARKS;
        }
        if (!task.inInterrupt()) {
            if ((pf & Task.PF_MEMALLOC) != 0) {
                return NO_WATERMARKS;
            } else if (task.isOomVictim()) {
                return OOM;
            }
        }
        return 0;
    }

    /** {@code gfp_pfmemalloc_allowed()}: true when the request may use all reserves. */
    public static boolean pfmemallocAllowed(int gfp, Task task) {
        return (pfmemallocFlags(gfp, task) & NO_WATERMARKS) != 0;
    }
}
