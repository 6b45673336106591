package io.memscope.sched;

import io.memscope.gfp.Gfp;

/**
 * The scoped allocation-constraint API of {@code include/linux/sched/mm.h}:
 * {@code memalloc_nofs_save/restore}, {@code memalloc_noio_*}, {@code memalloc_pin_*},
 * {@code memalloc_noreclaim_*}, {@code memalloc_flags_*} and {@code current_gfp_context()}.
 *
 * <p>A layer that holds a lock which reclaim could need marks the region with a scope; every
 * allocation inside inherits the restriction, so reclaim can never recurse into that layer
 * (Documentation/core-api/gfp_mask-from-fs-io.rst).
 */
public final class Memalloc {
    private Memalloc() {}

    /**
     * {@code current_gfp_context()}: the mask an allocation really uses inside the calling
     * thread's scopes. NOIO clears {@code __GFP_IO|__GFP_FS}; otherwise NOFS clears
     * {@code __GFP_FS}; PIN clears {@code __GFP_MOVABLE}. It only ever clears bits.
     */
    public static int currentGfpContext(int gfp) {
        return gfpContext(Task.current().flags(), gfp);
    }

    /** {@code current_gfp_context()} for a given set of PF flags (the pure part). */
    public static int gfpContext(int pflags, int gfp) {
        if ((pflags & Task.PF_MEMALLOC_SCOPE_MASK) == 0) {
            return gfp;
        }
        if ((pflags & Task.PF_MEMALLOC_NOIO) != 0) {
            gfp &= ~(Gfp.IO | Gfp.FS);
        } else if ((pflags & Task.PF_MEMALLOC_NOFS) != 0) {
            gfp &= ~Gfp.FS;
        }
        if ((pflags & Task.PF_MEMALLOC_PIN) != 0) {
            gfp &= ~Gfp.MOVABLE;
        }
        return gfp;
    }
}
