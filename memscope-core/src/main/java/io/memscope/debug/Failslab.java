package io.memscope.debug;

import io.memscope.gfp.Gfp;
import java.util.Objects;

/**
 * Fault injection for slab caches and kmalloc: memscope's {@code failslab}
 * ({@code mm/failslab.c}, {@code should_failslab}).
 *
 * <p>The slab layer asks {@link #shouldFailslab} before allocating an object. The kernel
 * exempts its bootstrap {@code kmem_cache} cache; memscope's slab layer must likewise not call
 * this for its own bootstrap cache. A request is exempt, in this order, when:
 * <ul>
 *   <li>it has {@code __GFP_NOFAIL};</li>
 *   <li>{@code ignore-gfp-wait} (default Y; field {@code ignore_gfp_reclaim}) and the mask
 *       has {@code __GFP_DIRECT_RECLAIM};</li>
 *   <li>{@code cache-filter} (default N) is on and the cache lacks {@code SLAB_FAILSLAB}.</li>
 * </ul>
 * Otherwise the decision is {@link FaultAttr#shouldFailEx} with the object size, silent when
 * the mask has {@code __GFP_NOWARN} (KERNEL.md T70).
 *
 * <p>One instance per machine; the knobs are volatile and may change at any time.
 */
public final class Failslab {
    /** The debugfs directory name, printed in reports. */
    public static final String NAME = "failslab";

    private final FaultAttr attr;
    private volatile boolean ignoreGfpWait = true;
    private volatile boolean cacheFilter;

    /** A failslab with the kernel's defaults (probability 0, so off until set). */
    public Failslab(KernelLog log, long seed) {
        this(new FaultAttr(NAME, log, seed));
    }

    /** A failslab around an existing attribute. */
    public Failslab(FaultAttr attr) {
        this.attr = Objects.requireNonNull(attr, "attr");
    }

    /**
     * {@code should_failslab(s, gfpflags)}: true when this object allocation must fail.
     * Never sleeps, never throws; may print an injection report.
     *
     * @param objectSize           the cache's {@code object_size}, consumed from {@code space}
     * @param cacheHasFailslabFlag whether the cache was created with {@code SLAB_FAILSLAB}
     */
    public boolean shouldFailslab(int gfp, long objectSize, boolean cacheHasFailslabFlag) {
        if ((gfp & Gfp.NOFAIL) != 0) {
            return false;
        }
        if (ignoreGfpWait && (gfp & Gfp.DIRECT_RECLAIM) != 0) {
            return false;
        }
        if (cacheFilter && !cacheHasFailslabFlag) {
            return false;
        }
        // __GFP_NOWARN means "print nothing at all" for callers that cannot afford printing.
        int flags = (gfp & Gfp.NOWARN) != 0 ? FaultAttr.FAULT_NOWARN : 0;
        return attr.shouldFailEx(objectSize, flags);
    }

    /** The common knobs. */
    public FaultAttr attr() {
        return attr;
    }

    /** {@code ignore-gfp-wait}. */
    public boolean ignoreGfpWait() {
        return ignoreGfpWait;
    }

    /** Sets {@code ignore-gfp-wait}. */
    public Failslab setIgnoreGfpWait(boolean on) {
        this.ignoreGfpWait = on;
        return this;
    }

    /** {@code cache-filter}: when on, only caches with {@code SLAB_FAILSLAB} can fail. */
    public boolean cacheFilter() {
        return cacheFilter;
    }

    /** Sets {@code cache-filter}. */
    public Failslab setCacheFilter(boolean on) {
        this.cacheFilter = on;
        return this;
    }
}
