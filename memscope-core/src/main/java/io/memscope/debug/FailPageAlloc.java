package io.memscope.debug;

import io.memscope.gfp.Gfp;
import java.util.Objects;

/**
 * Fault injection for the page allocator: memscope's {@code fail_page_alloc}
 * ({@code mm/fail_page_alloc.c}, {@code __should_fail_alloc_page}).
 *
 * <p>The page allocator asks {@link #shouldFailAllocPage} on entry (the kernel does so in
 * {@code prepare_alloc_pages}, and not for {@code ALLOC_TRYLOCK} requests); the method fits
 * any functional hook of shape {@code (gfp, order) -> boolean}, for example
 * {@code failPageAlloc::shouldFailAllocPage}. A request is exempt, without touching the
 * attribute's counters, when any of these holds (checked in this order):
 * <ul>
 *   <li>{@code order < min-order} (default 1: order-0 requests never fail);</li>
 *   <li>{@code __GFP_NOFAIL};</li>
 *   <li>{@code ignore-gfp-highmem} (default Y) and {@code __GFP_HIGHMEM};</li>
 *   <li>{@code ignore-gfp-wait} (default Y; the kernel's field is {@code ignore_gfp_reclaim})
 *       and {@code __GFP_DIRECT_RECLAIM}.</li>
 * </ul>
 * Otherwise the decision is {@link FaultAttr#shouldFailEx} with size {@code 1 << order} pages,
 * silently ({@link FaultAttr#FAULT_NOWARN}) when the mask has {@code __GFP_NOWARN}. With the
 * defaults, therefore, {@code GFP_KERNEL} and every order-0 request never fail, while
 * {@code GFP_ATOMIC} at order ≥ 1 is eligible (KERNEL.md T69).
 *
 * <p>One instance per machine; the knobs are volatile and may change at any time.
 */
public final class FailPageAlloc {
    /** The debugfs directory name, printed in reports. */
    public static final String NAME = "fail_page_alloc";

    private final FaultAttr attr;
    private volatile boolean ignoreGfpHighmem = true;
    private volatile boolean ignoreGfpWait = true;
    private volatile int minOrder = 1;

    /** A fail_page_alloc with the kernel's defaults (probability 0, so off until set). */
    public FailPageAlloc(KernelLog log, long seed) {
        this(new FaultAttr(NAME, log, seed));
    }

    /** A fail_page_alloc around an existing attribute (its name is what reports print). */
    public FailPageAlloc(FaultAttr attr) {
        this.attr = Objects.requireNonNull(attr, "attr");
    }

    /**
     * {@code should_fail_alloc_page(gfp_mask, order)}: true when this allocation must fail.
     * Never sleeps, never throws; may print an injection report (a printk, not a WARN).
     */
    public boolean shouldFailAllocPage(int gfp, int order) {
        if (order < minOrder) {
            return false;
        }
        if ((gfp & Gfp.NOFAIL) != 0) {
            return false;
        }
        if (ignoreGfpHighmem && (gfp & Gfp.HIGHMEM) != 0) {
            return false;
        }
        if (ignoreGfpWait && (gfp & Gfp.DIRECT_RECLAIM) != 0) {
            return false;
        }
        // __GFP_NOWARN asks for silence, not just "no warning": printing from some callers
        // could deadlock (kernel commit 6b9dbedbe349), so the report is skipped entirely.
        int flags = (gfp & Gfp.NOWARN) != 0 ? FaultAttr.FAULT_NOWARN : 0;
        return attr.shouldFailEx(1L << order, flags);
    }

    /** The common knobs (probability, interval, times, space, verbose, ...). */
    public FaultAttr attr() {
        return attr;
    }

    /** {@code ignore-gfp-highmem}. */
    public boolean ignoreGfpHighmem() {
        return ignoreGfpHighmem;
    }

    /** Sets {@code ignore-gfp-highmem}. */
    public FailPageAlloc setIgnoreGfpHighmem(boolean on) {
        this.ignoreGfpHighmem = on;
        return this;
    }

    /** {@code ignore-gfp-wait}: requests that may direct-reclaim are exempt. */
    public boolean ignoreGfpWait() {
        return ignoreGfpWait;
    }

    /** Sets {@code ignore-gfp-wait}. */
    public FailPageAlloc setIgnoreGfpWait(boolean on) {
        this.ignoreGfpWait = on;
        return this;
    }

    /** {@code min-order}: requests below this order are exempt. */
    public int minOrder() {
        return minOrder;
    }

    /** Sets {@code min-order} (≥ 0). */
    public FailPageAlloc setMinOrder(int order) {
        if (order < 0) {
            throw new IllegalArgumentException("min-order must be >= 0, was " + order);
        }
        this.minOrder = order;
        return this;
    }
}
