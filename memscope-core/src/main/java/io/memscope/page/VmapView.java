package io.memscope.page;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * A virtually contiguous view of scattered page frames: what {@link MemfdRegion#vmap} returns
 * and what vmalloc hands its users — the counterpart of the kernel's {@code vmap()} result (an
 * address in the vmalloc range backed by a {@code struct vm_struct}).
 *
 * <p><b>Which one you get, and why.</b> With {@link MemfdRegion.Mode#MEMFD} physical memory (Linux)
 * the view is a {@link VmapArea}: the frames are file pages, so they are mapped again,
 * back to back, into one reserved address range, and {@link #contiguous()} returns that single
 * {@link MemorySegment} (hand it to any API that takes a segment; offsets cross page boundaries
 * freely). With {@link MemfdRegion.Mode#ARENA} memory (other platforms, or
 * {@code memscope.physmem=arena}) frames cannot be mapped twice, so the view is a
 * {@link ScatterVmap}: {@link #contiguous()} is empty and the data is reached per page
 * ({@link #page(int)}) or through the helpers below, which walk the pages. Code written against
 * the helpers runs unchanged on both; code that needs one segment checks {@link #contiguous()}.
 *
 * <p>In both, page {@code i} of the view and the direct-map page of {@link #pfn(int) pfn(i)}
 * are the same memory: a write through either is visible through the other (no copy is ever
 * made). Multi-byte accessors use native byte order and need no alignment.
 *
 * <p><b>Lifetime.</b> {@link #vunmap()} releases the mapping (the frames stay allocated: freeing
 * them is the caller's business, as with the kernel's {@code vunmap}, unlike {@code vfree}). After
 * it, every method here except {@link #isMapped()}, {@link #nrPages()}, {@link #byteSize()},
 * {@link #pfn(int)} and {@link #close()} throws {@link VmapReleasedException}, and segments
 * obtained earlier throw the JDK's {@link IllegalStateException} (their shared arena is closed;
 * closing it waits until no thread is inside an access, so a racing access never touches
 * unmapped memory). Views are safe to use from any thread.
 */
public interface VmapView extends AutoCloseable {
    /** Pages in the view ({@code vm_struct.nr_pages}). */
    int nrPages();

    /** {@code nrPages() * PAGE_SIZE}. */
    long byteSize();

    /** The frame behind page {@code i}. */
    int pfn(int i);

    /** Runs of consecutive pfns; in MEMFD mode, the number of {@code mmap} calls that built the view. */
    int runs();

    /** Whether the view is still mapped. */
    boolean isMapped();

    /** The single segment over all pages (MEMFD mode); empty for a scatter view. */
    Optional<MemorySegment> contiguous();

    /** The 4 KiB segment of page {@code i}. */
    MemorySegment page(int i);

    byte getByte(long offset);

    void putByte(long offset, byte value);

    int getInt(long offset);

    void putInt(long offset, int value);

    long getLong(long offset);

    void putLong(long offset, long value);

    /** Copies all of {@code src} into the view starting at {@code offset}. */
    void copyFrom(MemorySegment src, long offset);

    /** Fills all of {@code dst} from the view starting at {@code offset}. */
    void copyTo(long offset, MemorySegment dst);

    /** Sets every byte of the view to {@code value}. */
    void fill(byte value);

    /**
     * Releases the mapping ({@code vunmap}). May sleep (munmap, arena handshake).
     *
     * @throws VmapReleasedException already unmapped (the kernel warns
     *         {@code Trying to vunmap() nonexistent vm area})
     */
    void vunmap();

    /** {@link #vunmap()} if still mapped; a no-op otherwise (for try-with-resources). */
    @Override
    void close();
}
