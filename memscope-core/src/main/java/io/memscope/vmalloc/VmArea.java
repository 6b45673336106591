package io.memscope.vmalloc;

import io.memscope.page.VmapView;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * One vmalloc area: the kernel's {@code struct vm_struct} with its {@code struct vmap_area}.
 * {@link #address()} is what {@code vmalloc()} returns; {@link #view()} reaches the memory.
 *
 * <p><b>Contiguous or scatter.</b> On Linux the machine's frames are a {@code memfd}, so the area's
 * pages are mapped a second time, back to back, and {@link #segment()} is one
 * {@link MemorySegment} over the whole area, at {@link #address()}. Where memfd is unavailable
 * (arena-backed memory) frames cannot be mapped twice: {@link #segment()} is empty, the view
 * reaches the data page by page ({@link VmapView#getLong}, {@link VmapView#copyFrom}, ...), and
 * {@link #address()} is a unique address in memscope's own vmalloc range
 * ({@link Vmalloc#VMALLOC_START}) that is not dereferenceable.
 *
 * <p><b>Metadata</b> lives where the kernel keeps it, in memory allocated on the way: the
 * {@code vm_struct} from kmalloc, the {@code vmap_area} from its slab cache, the pages array from
 * kmalloc (or a nested vmalloc above a page), and the page-table pages that hold one 8-byte PTE per
 * page ({@code pfn << 12 | present}).
 *
 * <p>Invariants: while live, the area is in its machine's area tree under {@link #address()}; its
 * pages, metadata and mapping are allocated; after {@code vfree} all of them are released and
 * {@link #isLive()} is false.
 */
public final class VmArea {
    /** Set once, before the area is published in the area tree. */
    long addr;
    final long size;
    final long[] pages;
    final int[] pfns;
    final String caller;
    final int gfp;
    VmapView view;
    long vmStruct;
    long vmapArea;
    long pagesArray;
    VmArea pagesArrayArea;
    long[] ptePages;
    volatile boolean live;

    VmArea(long addr, long size, long[] pages, int[] pfns, String caller, int gfp) {
        this.addr = addr;
        this.size = size;
        this.pages = pages;
        this.pfns = pfns;
        this.caller = caller;
        this.gfp = gfp;
    }

    /** The start address ({@code vm_struct.addr}). */
    public long address() {
        return addr;
    }

    /** Bytes the caller asked for, rounded up to pages ({@code get_vm_area_size}, without the guard page). */
    public long size() {
        return size;
    }

    /** Pages of the area ({@code vm_struct.nr_pages}). */
    public int nrPages() {
        return pages.length;
    }

    /** The frame behind page {@code i}. */
    public int pfn(int i) {
        return pfns[i];
    }

    /** Page-table pages the mapping used ({@code nr_pages / PTRS_PER_PTE}, rounded up). */
    public int nrPageTablePages() {
        return ptePages == null ? 0 : ptePages.length;
    }

    /** The memory: contiguous on memfd machines, page by page otherwise. */
    public VmapView view() {
        return view;
    }

    /** One segment over the whole area, when the machine's memory can be mapped twice (memfd). */
    public Optional<MemorySegment> segment() {
        return view.contiguous();
    }

    /** The caller that created the area (as {@code /proc/vmallocinfo} prints it). */
    public String caller() {
        return caller;
    }

    /** False after {@code vfree}. */
    public boolean isLive() {
        return live;
    }

    @Override
    public String toString() {
        return "VmArea[0x" + Long.toHexString(addr) + ", " + size + " B, " + pages.length + " pages, "
                + (view != null && view.contiguous().isPresent() ? "contiguous" : "scatter") + "]";
    }
}
