package io.memscope.page;

/**
 * {@link MemfdRegion#close()} found vmap areas that were never unmapped. The region has unmapped
 * them and released everything before throwing (nothing is left mapped); the exception reports
 * the leak the way RELIABILITY.md A2 asks: count and pages.
 */
public final class VmapLeakException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final long areas;
    private final long pages;

    VmapLeakException(String region, long areas, long pages) {
        super("close() of " + region + ": expected 0 live vmap areas, found " + areas + " (" + pages
                + " pages); they have been unmapped");
        this.areas = areas;
        this.pages = pages;
    }

    /** Live vmap areas found at close. */
    public long areas() {
        return areas;
    }

    /** Pages they mapped. */
    public long pages() {
        return pages;
    }
}
