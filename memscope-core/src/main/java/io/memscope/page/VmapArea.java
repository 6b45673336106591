package io.memscope.page;

import static io.memscope.page.MemfdRegion.PAGE_SHIFT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import java.util.Optional;

/**
 * A contiguous vmap of scattered memfd frames: one {@link MemorySegment} whose page {@code i} is
 * frame {@code pfns[i]} — the counterpart of the kernel's {@code struct vmap_area} and the page
 * tables {@code vmap_pages_range()} fills.
 *
 * <p>How it is built ({@link #map}):
 * <ol>
 *   <li>reserve {@code n} pages of address space: {@code mmap(NULL, n*4096, PROT_NONE,
 *       MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE)}. The reservation is what makes the next step
 *       safe: {@code MAP_FIXED} replaces whatever is mapped at the target, and only our own
 *       reservation is there;</li>
 *   <li>for each run of consecutive pfns {@code [p, p+k)} at view page {@code i}:
 *       {@code mmap(base + i*4096, k*4096, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED, memfd,
 *       p*4096)} — one call per run, not per page;</li>
 *   <li>wrap {@code [base, base + n*4096)} in a segment of a new shared arena whose cleanup
 *       munmaps the whole range; {@link #vunmap()} closes that arena.</li>
 * </ol>
 * If any step fails the whole reservation is unmapped before the {@link NativeCallException}
 * propagates, so a failed vmap leaves nothing mapped.
 *
 * <p>Invariant: while mapped, {@code segment} covers exactly {@code nrPages()*4096} bytes at
 * {@code base}, and {@code base} is page aligned (the kernel returns page-aligned mmap results).
 */
public final class VmapArea extends AbstractVmap {
    private final long base;
    private final Arena arena;
    private final MemorySegment segment;

    private VmapArea(MemfdRegion region, int[] pfns, long base, Arena arena, MemorySegment segment) {
        super(region, pfns);
        this.base = base;
        this.arena = arena;
        this.segment = segment;
    }

    /** Builds the mapping (see class doc). Called under the region's shared lifecycle lock. */
    @SuppressWarnings("restricted") // wraps our own mmap result: size and lifetime are ours
    static VmapArea map(MemfdRegion region, Libc libc, int fd, int[] pfns) {
        long bytes = (long) pfns.length << PAGE_SHIFT;
        long base;
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(scratch);
            base = libc.mmap(state, 0L, bytes, Libc.PROT_NONE,
                    Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0L);
            try {
                int start = 0;
                for (int i = 1; i <= pfns.length; i++) {
                    if (i == pfns.length || pfns[i] != pfns[i - 1] + 1) {
                        long at = base + ((long) start << PAGE_SHIFT);
                        long len = (long) (i - start) << PAGE_SHIFT;
                        long got = libc.mmap(state, at, len, Libc.PROT_READ | Libc.PROT_WRITE,
                                Libc.MAP_SHARED | Libc.MAP_FIXED, fd, (long) pfns[start] << PAGE_SHIFT);
                        region.countRunMmap();
                        if (got != at) {
                            throw new IllegalStateException("mmap(MAP_FIXED) returned 0x" + Long.toHexString(got)
                                    + ", expected 0x" + Long.toHexString(at));
                        }
                        start = i;
                    }
                }
            } catch (RuntimeException | Error e) {
                libc.munmap(state, base, bytes);
                throw e;
            }
        }
        Arena arena = Arena.ofShared();
        long b = base;
        // Closing a shared arena first waits until no thread is inside an access to its segments
        // (a handshake), then runs this cleanup: an access racing with vunmap either completes
        // before the munmap or fails with IllegalStateException, never faults.
        MemorySegment segment = MemorySegment.ofAddress(b).reinterpret(bytes, arena, s -> libc.munmap(b, bytes));
        return new VmapArea(region, pfns, b, arena, segment);
    }

    /** The start address of the mapping (as the kernel's vmap returns it). */
    public long address() {
        return base;
    }

    @Override
    String describe() {
        return "0x" + Long.toHexString(base);
    }

    @Override
    void releaseMapping() {
        arena.close();
    }

    @Override
    MemorySegment pageUnchecked(int i) {
        return segment.asSlice((long) i << PAGE_SHIFT, MemfdRegion.PAGE_SIZE);
    }

    /** Always present while mapped. */
    @Override
    public Optional<MemorySegment> contiguous() {
        checkMapped("contiguous");
        return Optional.of(segment);
    }

    /** The contiguous segment itself, without the Optional. */
    public MemorySegment segment() {
        checkMapped("segment");
        return segment;
    }

    @Override
    public byte getByte(long offset) {
        checkMapped("getByte");
        try {
            return segment.get(ValueLayout.JAVA_BYTE, offset);
        } catch (IllegalStateException e) {
            throw translate(e, "getByte");
        }
    }

    @Override
    public void putByte(long offset, byte value) {
        checkMapped("putByte");
        try {
            segment.set(ValueLayout.JAVA_BYTE, offset, value);
        } catch (IllegalStateException e) {
            throw translate(e, "putByte");
        }
    }

    @Override
    public int getInt(long offset) {
        checkMapped("getInt");
        try {
            return segment.get(INT, offset);
        } catch (IllegalStateException e) {
            throw translate(e, "getInt");
        }
    }

    @Override
    public void putInt(long offset, int value) {
        checkMapped("putInt");
        try {
            segment.set(INT, offset, value);
        } catch (IllegalStateException e) {
            throw translate(e, "putInt");
        }
    }

    @Override
    public long getLong(long offset) {
        checkMapped("getLong");
        try {
            return segment.get(LONG, offset);
        } catch (IllegalStateException e) {
            throw translate(e, "getLong");
        }
    }

    @Override
    public void putLong(long offset, long value) {
        checkMapped("putLong");
        try {
            segment.set(LONG, offset, value);
        } catch (IllegalStateException e) {
            throw translate(e, "putLong");
        }
    }

    @Override
    public void copyFrom(MemorySegment src, long offset) {
        checkMapped("copyFrom");
        Objects.checkFromIndexSize(offset, src.byteSize(), byteSize());
        try {
            MemorySegment.copy(src, 0, segment, offset, src.byteSize());
        } catch (IllegalStateException e) {
            throw translate(e, "copyFrom");
        }
    }

    @Override
    public void copyTo(long offset, MemorySegment dst) {
        checkMapped("copyTo");
        Objects.checkFromIndexSize(offset, dst.byteSize(), byteSize());
        try {
            MemorySegment.copy(segment, offset, dst, 0, dst.byteSize());
        } catch (IllegalStateException e) {
            throw translate(e, "copyTo");
        }
    }

    @Override
    public void fill(byte value) {
        checkMapped("fill");
        try {
            segment.fill(value);
        } catch (IllegalStateException e) {
            throw translate(e, "fill");
        }
    }
}
