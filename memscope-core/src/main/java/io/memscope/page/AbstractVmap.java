package io.memscope.page;

import static io.memscope.page.MemfdRegion.PAGE_SHIFT;
import static io.memscope.page.MemfdRegion.PAGE_SIZE;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * What both kinds of {@link VmapView} share: the pfn list, the mapped/unmapped state and its
 * guards, and page-walking accessors that a contiguous view overrides with direct ones — the
 * counterpart of {@code struct vm_struct} ({@code pages}, {@code nr_pages}).
 *
 * <p>Invariant: the state goes MAPPED → UNMAPPED exactly once, by the one caller whose
 * {@link #claimUnmap} CAS wins; only that caller runs {@link #releaseMapping()}.
 */
abstract class AbstractVmap implements VmapView {
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private static final int MAPPED = 0;
    private static final int UNMAPPED = 1;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(AbstractVmap.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final MemfdRegion region;
    final int[] pfns;
    final int runs;
    /** MAPPED or UNMAPPED; accessed through {@link #STATE}. */
    @SuppressWarnings("unused")
    private volatile int state;

    AbstractVmap(MemfdRegion region, int[] pfns) {
        this.region = region;
        this.pfns = pfns;
        this.runs = countRuns(pfns);
    }

    /** Runs of consecutive ascending pfns: {@code [7, 3, 4, 5, 100]} has three. */
    static int countRuns(int[] pfns) {
        int runs = 1;
        for (int i = 1; i < pfns.length; i++) {
            if (pfns[i] != pfns[i - 1] + 1) {
                runs++;
            }
        }
        return runs;
    }

    /** How messages name this view ({@code 0x7f12...} or {@code scatter@...}). */
    abstract String describe();

    /** Undoes the mapping; called once, by the winner of {@link #claimUnmap}. */
    abstract void releaseMapping();

    /** Page {@code i} without the mapped check (callers have checked). */
    abstract MemorySegment pageUnchecked(int i);

    /**
     * Moves MAPPED → UNMAPPED. The CAS is the one point that decides who releases: a concurrent
     * second vunmap (or close) loses and gets the kernel's warning as an exception instead of
     * unmapping twice.
     */
    final void claimUnmap(String op) {
        if (!STATE.compareAndSet(this, MAPPED, UNMAPPED)) {
            throw new VmapReleasedException(op + ": Trying to vunmap() nonexistent vm area (" + describe() + ")");
        }
    }

    final void checkMapped(String op) {
        // Acquire read: pairs with the CAS in claimUnmap. It only picks the exception; a racing
        // unmap after this check is caught by the closed arena (see translate).
        if ((int) STATE.getAcquire(this) != MAPPED) {
            throw released(op);
        }
    }

    final VmapReleasedException released(String op) {
        return new VmapReleasedException(op + " on vmap area " + describe() + " (" + pfns.length
                + " pages): expected a mapped area, found it unmapped by vunmap()");
    }

    /** An access raced with vunmap and hit the closed arena: report it as the named misuse. */
    final RuntimeException translate(IllegalStateException e, String op) {
        return isMapped() ? e : released(op);
    }

    @Override
    public final int nrPages() {
        return pfns.length;
    }

    @Override
    public final long byteSize() {
        return (long) pfns.length << PAGE_SHIFT;
    }

    @Override
    public final int pfn(int i) {
        return pfns[Objects.checkIndex(i, pfns.length)];
    }

    @Override
    public final int runs() {
        return runs;
    }

    @Override
    public final boolean isMapped() {
        return (int) STATE.getAcquire(this) == MAPPED;
    }

    @Override
    public MemorySegment page(int i) {
        checkMapped("page");
        return pageUnchecked(Objects.checkIndex(i, pfns.length));
    }

    @Override
    public final void vunmap() {
        region.vunmap(this);
    }

    @Override
    public final void close() {
        if (isMapped()) {
            try {
                vunmap();
            } catch (VmapReleasedException lostRace) {
                // Another thread unmapped it between our check and our claim: the goal is met.
            }
        }
    }

    // ---- page-walking accessors (a scatter view uses these; VmapArea overrides them) ----

    @Override
    public byte getByte(long offset) {
        checkMapped("getByte");
        Objects.checkIndex(offset, byteSize());
        try {
            return pageUnchecked((int) (offset >>> PAGE_SHIFT)).get(ValueLayout.JAVA_BYTE, offset & (PAGE_SIZE - 1));
        } catch (IllegalStateException e) {
            throw translate(e, "getByte");
        }
    }

    @Override
    public void putByte(long offset, byte value) {
        checkMapped("putByte");
        Objects.checkIndex(offset, byteSize());
        try {
            pageUnchecked((int) (offset >>> PAGE_SHIFT)).set(ValueLayout.JAVA_BYTE, offset & (PAGE_SIZE - 1), value);
        } catch (IllegalStateException e) {
            throw translate(e, "putByte");
        }
    }

    @Override
    public int getInt(long offset) {
        return (int) getBytes(offset, Integer.BYTES, "getInt");
    }

    @Override
    public void putInt(long offset, int value) {
        putBytes(offset, Integer.BYTES, value, "putInt");
    }

    @Override
    public long getLong(long offset) {
        return getBytes(offset, Long.BYTES, "getLong");
    }

    @Override
    public void putLong(long offset, long value) {
        putBytes(offset, Long.BYTES, value, "putLong");
    }

    private long getBytes(long offset, int width, String op) {
        checkMapped(op);
        Objects.checkFromIndexSize(offset, width, byteSize());
        long in = offset & (PAGE_SIZE - 1);
        try {
            MemorySegment p = pageUnchecked((int) (offset >>> PAGE_SHIFT));
            if (in + width <= PAGE_SIZE) {
                return width == Long.BYTES ? p.get(LONG, in) : p.get(INT, in);
            }
            // Straddles two frames that are not adjacent in memory: assemble in native order.
            long v = 0;
            for (int b = 0; b < width; b++) {
                long o = offset + b;
                long unsigned = pageUnchecked((int) (o >>> PAGE_SHIFT)).get(ValueLayout.JAVA_BYTE, o & (PAGE_SIZE - 1)) & 0xffL;
                v |= unsigned << (8 * byteIndex(b, width));
            }
            return v;
        } catch (IllegalStateException e) {
            throw translate(e, op);
        }
    }

    private void putBytes(long offset, int width, long value, String op) {
        checkMapped(op);
        Objects.checkFromIndexSize(offset, width, byteSize());
        long in = offset & (PAGE_SIZE - 1);
        try {
            MemorySegment p = pageUnchecked((int) (offset >>> PAGE_SHIFT));
            if (in + width <= PAGE_SIZE) {
                if (width == Long.BYTES) {
                    p.set(LONG, in, value);
                } else {
                    p.set(INT, in, (int) value);
                }
                return;
            }
            for (int b = 0; b < width; b++) {
                long o = offset + b;
                byte v = (byte) (value >>> (8 * byteIndex(b, width)));
                pageUnchecked((int) (o >>> PAGE_SHIFT)).set(ValueLayout.JAVA_BYTE, o & (PAGE_SIZE - 1), v);
            }
        } catch (IllegalStateException e) {
            throw translate(e, op);
        }
    }

    /** Which byte of the value (0 = least significant) sits at memory position {@code b}. */
    private static int byteIndex(int b, int width) {
        return INT.order() == java.nio.ByteOrder.LITTLE_ENDIAN ? b : width - 1 - b;
    }

    @Override
    public void copyFrom(MemorySegment src, long offset) {
        checkMapped("copyFrom");
        long len = src.byteSize();
        Objects.checkFromIndexSize(offset, len, byteSize());
        try {
            long done = 0;
            while (done < len) {
                long pos = offset + done;
                long in = pos & (PAGE_SIZE - 1);
                long n = Math.min(PAGE_SIZE - in, len - done);
                MemorySegment.copy(src, done, pageUnchecked((int) (pos >>> PAGE_SHIFT)), in, n);
                done += n;
            }
        } catch (IllegalStateException e) {
            throw translate(e, "copyFrom");
        }
    }

    @Override
    public void copyTo(long offset, MemorySegment dst) {
        checkMapped("copyTo");
        long len = dst.byteSize();
        Objects.checkFromIndexSize(offset, len, byteSize());
        try {
            long done = 0;
            while (done < len) {
                long pos = offset + done;
                long in = pos & (PAGE_SIZE - 1);
                long n = Math.min(PAGE_SIZE - in, len - done);
                MemorySegment.copy(pageUnchecked((int) (pos >>> PAGE_SHIFT)), in, dst, done, n);
                done += n;
            }
        } catch (IllegalStateException e) {
            throw translate(e, "copyTo");
        }
    }

    @Override
    public void fill(byte value) {
        checkMapped("fill");
        try {
            for (int i = 0; i < pfns.length; i++) {
                pageUnchecked(i).fill(value);
            }
        } catch (IllegalStateException e) {
            throw translate(e, "fill");
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + describe() + ", " + pfns.length + " pages, " + runs + " runs, "
                + (isMapped() ? "mapped" : "unmapped") + "]";
    }
}
