package io.memscope.page;

import static io.memscope.page.MemfdRegion.PAGE_SHIFT;
import static io.memscope.page.MemfdRegion.PAGE_SIZE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * The vmap of an {@link MemfdRegion.Mode#ARENA} region: the frames cannot be mapped a second
 * time, so the "area" is the list of their direct-map pages, and every access walks to the right
 * page. There is no kernel counterpart (the kernel can always remap); it is the portable stand-in
 * that keeps the {@link VmapView} contract: same aliasing (page {@code i} <em>is</em> the
 * direct-map page of {@code pfn(i)}), same lifetime rules.
 *
 * <p>Each page segment is the direct-map slice re-scoped to this view's own shared arena, so
 * {@link #vunmap()} (closing that arena) invalidates every page segment handed out. That re-scoping
 * is only sound because the region never releases its memory while a view is live:
 * {@link MemfdRegion#close()} unmaps all live views first, under its exclusive lock.
 */
public final class ScatterVmap extends AbstractVmap {
    private final Arena arena;
    private final MemorySegment[] pages;

    @SuppressWarnings("restricted") // re-scopes direct-map slices; sound because close unmaps views first
    ScatterVmap(MemfdRegion region, int[] pfns, MemorySegment directMap) {
        super(region, pfns);
        this.arena = Arena.ofShared();
        this.pages = new MemorySegment[pfns.length];
        for (int i = 0; i < pfns.length; i++) {
            pages[i] = directMap.asSlice((long) pfns[i] << PAGE_SHIFT, PAGE_SIZE).reinterpret(arena, null);
        }
    }

    @Override
    String describe() {
        return "scatter@" + Integer.toHexString(System.identityHashCode(this));
    }

    @Override
    void releaseMapping() {
        arena.close();
    }

    @Override
    MemorySegment pageUnchecked(int i) {
        return pages[i];
    }

    /** Always empty: the pages are not adjacent in memory. */
    @Override
    public Optional<MemorySegment> contiguous() {
        checkMapped("contiguous");
        return Optional.empty();
    }
}
