package io.memscope.page;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A machine's physical memory: one region of 4 KiB page frames numbered by pfn, and the
 * "direct map" through which the page allocator reaches each frame — the counterpart of the
 * kernel's memory map plus its linear mapping ({@code page_address()}, {@code __va(PFN_PHYS(pfn))}).
 *
 * <h2>Two backings</h2>
 * <ul>
 *   <li><b>{@link Mode#MEMFD}</b> (Linux x86-64/arm64): the memory is an anonymous file from
 *       {@code memfd_create(MFD_CLOEXEC)}, sized with {@code ftruncate} and mapped whole with
 *       {@code mmap(MAP_SHARED)}; that mapping is the direct map. Because the frames are file
 *       pages, any set of them can be mapped a second time at new, contiguous addresses:
 *       {@link #vmap} returns a {@link VmapArea} whose one {@link MemorySegment} aliases scattered
 *       frames, as the kernel's {@code vmap()} does with page tables. Pages are committed on first
 *       touch (shmem), not at creation.</li>
 *   <li><b>{@link Mode#ARENA}</b> (everywhere else, or when a memfd call fails): one
 *       {@code Arena.ofShared().allocate(size, 4096)} block. Frames cannot be mapped twice, so
 *       {@link #supportsRemap()} is false and {@link #vmap} returns a {@link ScatterVmap}: one
 *       segment per page, with copy helpers that walk the pages.</li>
 * </ul>
 * Selection ({@link Selection}) is automatic by default and reported by {@link #mode()} and
 * {@link #fallbackReason()}; the system property {@value #PHYSMEM_PROPERTY} ({@code arena},
 * {@code memfd} or {@code auto}) forces one through {@link #create(long)}.
 *
 * <h2>Invariants</h2>
 * <ul>
 *   <li>{@code size() == nrPages() * PAGE_SIZE}; pfns are {@code int}s in {@code [0, nrPages)}
 *       (the page allocator's handle keeps the pfn in its low 32 bits).</li>
 *   <li>The OS page size is {@value #PAGE_SIZE}; memfd mode refuses to start otherwise.</li>
 *   <li>Every vmap area is either live (counted in {@link #nrVmaps()} and {@link #vmapPages()})
 *       or unmapped, never both; {@link #close()} unmaps the live ones before it releases the
 *       direct map, so no view ever outlives the memory it aliases.</li>
 *   <li>After {@link #close()}, every method but {@code close()} and the read-only figures throws
 *       {@link RegionClosedException}; segments handed out earlier throw the JDK's
 *       {@link IllegalStateException} (their arena is closed).</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * All methods are thread-safe. {@code vmap}, {@code vunmap} and {@code close} serialise through a
 * read-write lock: map and unmap share it, close takes it exclusively. That keeps the memfd
 * descriptor from being closed (and its number reused) under an in-flight {@code mmap}, and
 * keeps close from releasing the direct map while a scatter view built on it is being released.
 * {@link #segmentOf} takes no lock: it is the allocator's fast path, and the arena, not our
 * flag, is what makes a racing access safe.
 */
public final class MemfdRegion implements AutoCloseable {
    /** {@code PAGE_SHIFT}: frames are 4 KiB. */
    public static final int PAGE_SHIFT = 12;
    /** {@code PAGE_SIZE}. */
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    /** {@code MAX_PAGE_ORDER} of the default kernel configuration (KERNEL.md §0). */
    public static final int MAX_PAGE_ORDER = 10;
    /** System property that forces the backing: {@code arena}, {@code memfd} or {@code auto}. */
    public static final String PHYSMEM_PROPERTY = "memscope.physmem";
    /** The memfd name used by {@link #create(long)}; visible in {@code /proc/self/maps}. */
    public static final String DEFAULT_NAME = "memscope-physmem";

    /** What backs the frames. */
    public enum Mode {
        /** A memfd mapped {@code MAP_SHARED}: frames can be remapped, {@code vmap} is contiguous. */
        MEMFD,
        /** A plain shared arena: no remapping, {@code vmap} returns a scatter view. */
        ARENA
    }

    /** How {@link #create(long, String, Selection)} chooses the {@link Mode}. */
    public enum Selection {
        /** memfd when the platform provides it, else the arena (the reason is kept). */
        AUTO,
        /** memfd or {@link MemfdUnavailableException}. */
        MEMFD,
        /** the arena, always. */
        ARENA;

        /**
         * The selection named by {@value MemfdRegion#PHYSMEM_PROPERTY}; {@link #AUTO} when unset.
         *
         * @throws IllegalArgumentException the property holds anything but arena, memfd or auto
         */
        public static Selection fromSystemProperty() {
            String v = System.getProperty(PHYSMEM_PROPERTY);
            if (v == null || v.isBlank()) {
                return AUTO;
            }
            return switch (v.trim().toLowerCase(Locale.ROOT)) {
                case "auto" -> AUTO;
                case "memfd" -> MEMFD;
                case "arena" -> ARENA;
                default -> throw new IllegalArgumentException(PHYSMEM_PROPERTY
                        + ": expected arena, memfd or auto, found '" + v + "'");
            };
        }
    }

    private final String name;
    private final Mode mode;
    private final String fallbackReason;
    private final long size;
    private final int nrPages;
    /** Null in ARENA mode. */
    private final Libc libc;
    /** The memfd; -1 in ARENA mode. Only read under the lifecycle lock. */
    private final int fd;
    private final Arena arena;
    private final MemorySegment directMap;

    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    /**
     * Written once, under the write lock. Volatile so that the lock-free {@link #segmentOf} sees
     * it promptly; the check there only chooses the exception, safety comes from the arena.
     */
    private volatile boolean closed;

    private final Set<AbstractVmap> live = ConcurrentHashMap.newKeySet();
    // Statistics: each counter is updated atomically on its own; readers may see them a moment
    // apart (like the kernel's vmstat), nothing orders one against another.
    private final AtomicLong nrVmaps = new AtomicLong();
    private final AtomicLong vmapPages = new AtomicLong();
    private final AtomicLong vmapsTotal = new AtomicLong();
    private final AtomicLong runMmaps = new AtomicLong();

    private MemfdRegion(String name, Mode mode, String fallbackReason, long size, Libc libc, int fd,
                        Arena arena, MemorySegment directMap) {
        this.name = name;
        this.mode = mode;
        this.fallbackReason = fallbackReason;
        this.size = size;
        this.nrPages = (int) (size >>> PAGE_SHIFT);
        this.libc = libc;
        this.fd = fd;
        this.arena = arena;
        this.directMap = directMap;
    }

    /**
     * A region of {@code size} bytes, its backing chosen by {@value #PHYSMEM_PROPERTY}
     * (default: automatic). May fail; never sleeps beyond the syscalls.
     *
     * @throws IllegalArgumentException size not a positive multiple of 4096, or above 2^31 pages
     * @throws MemfdUnavailableException memfd forced but unavailable
     */
    public static MemfdRegion create(long size) {
        return create(size, DEFAULT_NAME, Selection.fromSystemProperty());
    }

    /**
     * A region of {@code size} bytes named {@code name} (the memfd name) with the given selection.
     *
     * @throws IllegalArgumentException size not a positive multiple of 4096, or above 2^31 pages
     * @throws MemfdUnavailableException {@link Selection#MEMFD} and memfd is unavailable
     * @throws OutOfMemoryError the arena cannot allocate {@code size} bytes
     */
    public static MemfdRegion create(long size, String name, Selection selection) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(selection, "selection");
        if (size <= 0 || (size & (PAGE_SIZE - 1)) != 0 || (size >>> PAGE_SHIFT) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("region size: expected a positive multiple of " + PAGE_SIZE
                    + " of at most 2^31-1 pages, found " + size);
        }
        return switch (selection) {
            case ARENA -> arenaRegion(name, size, null);
            case MEMFD -> memfdRegion(name, size);
            case AUTO -> {
                try {
                    yield memfdRegion(name, size);
                } catch (MemfdUnavailableException e) {
                    yield arenaRegion(name, size, e.reason());
                }
            }
        };
    }

    private static MemfdRegion arenaRegion(String name, long size, String fallbackReason) {
        Arena arena = Arena.ofShared();
        try {
            return new MemfdRegion(name, Mode.ARENA, fallbackReason, size, null, -1, arena,
                    arena.allocate(size, PAGE_SIZE));
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    @SuppressWarnings("restricted") // wraps our own mmap result: size and lifetime are ours
    private static MemfdRegion memfdRegion(String name, long size) {
        Libc libc = Libc.load();
        long pageSize = libc.pageSize();
        if (pageSize != PAGE_SIZE) {
            throw new MemfdUnavailableException("sysconf(_SC_PAGESIZE) is " + pageSize
                    + ", memscope's frames need " + PAGE_SIZE);
        }
        int fd = -1;
        long addr = 0;
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(scratch);
            try {
                fd = libc.memfdCreate(state, scratch, name, Libc.MFD_CLOEXEC);
                libc.ftruncate(state, fd, size);
                addr = libc.mmap(state, 0L, size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0L);
            } catch (NativeCallException e) {
                if (fd >= 0) {
                    libc.close(state, fd);
                }
                throw new MemfdUnavailableException(e.getMessage(), e);
            }
        }
        Arena arena = Arena.ofShared();
        long base = addr;
        // The direct map is owned by a shared arena: closing it first waits (handshake) until no
        // thread is inside an access to it, then runs munmap, so no access can hit unmapped memory.
        MemorySegment directMap = MemorySegment.ofAddress(base).reinterpret(size, arena, s -> libc.munmap(base, size));
        return new MemfdRegion(name, Mode.MEMFD, null, size, libc, fd, arena, directMap);
    }

    /** The backing in use. */
    public Mode mode() {
        return mode;
    }

    /** Why {@link Selection#AUTO} fell back to the arena; empty when it did not. */
    public Optional<String> fallbackReason() {
        return Optional.ofNullable(fallbackReason);
    }

    /** Whether frames can be mapped a second time, i.e. {@link #vmap} is contiguous. */
    public boolean supportsRemap() {
        return mode == Mode.MEMFD;
    }

    /** Bytes of physical memory. */
    public long size() {
        return size;
    }

    /** Page frames: valid pfns are {@code [0, nrPages())}. */
    public int nrPages() {
        return nrPages;
    }

    /** The memfd name (also used in messages). */
    public String name() {
        return name;
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * The whole direct map, for an allocator that computes offsets itself ({@code pfn << PAGE_SHIFT})
     * without a slice per access.
     *
     * @throws RegionClosedException after close
     */
    public MemorySegment directMap() {
        checkOpen("directMap");
        return directMap;
    }

    /**
     * The direct-map view of the {@code 2^order} frames starting at {@code pfn}
     * ({@code page_address()}). Lock-free, never sleeps.
     *
     * @throws PfnOutOfRangeException the block is outside the region or order is outside [0, 10]
     * @throws RegionClosedException after close
     */
    public MemorySegment segmentOf(int pfn, int order) {
        checkOpen("segmentOf");
        if (order < 0 || order > MAX_PAGE_ORDER) {
            throw new PfnOutOfRangeException("segmentOf(" + pfn + ", " + order + "): expected order in [0, "
                    + MAX_PAGE_ORDER + "], found " + order);
        }
        long pages = 1L << order;
        if (pfn < 0 || pfn + pages > nrPages) {
            throw new PfnOutOfRangeException("segmentOf(" + pfn + ", " + order + "): expected frames in [0, "
                    + nrPages + ") of " + this + ", found [" + pfn + ", " + (pfn + pages) + ")");
        }
        return directMap.asSlice((long) pfn << PAGE_SHIFT, pages << PAGE_SHIFT);
    }

    /**
     * Maps the frames {@code pfns[0..n)} as one area of {@code n} pages, page {@code i} aliasing
     * frame {@code pfns[i]} — the kernel's {@code vmap(pages, count, VM_MAP, PAGE_KERNEL)}.
     * In {@link Mode#MEMFD} the result is a contiguous {@link VmapArea} (one address-space
     * reservation plus one {@code mmap} per run of consecutive pfns); in {@link Mode#ARENA} a
     * {@link ScatterVmap}. The caller owns the frames and keeps them allocated until
     * {@link VmapView#vunmap()}; the same frame may appear more than once. May sleep (syscalls).
     *
     * @throws IllegalArgumentException {@code pfns} is empty
     * @throws PfnOutOfRangeException a pfn outside {@code [0, nrPages)}
     * @throws RegionClosedException after close
     * @throws NativeCallException the address space could not be reserved or mapped (nothing is
     *         left mapped)
     */
    public VmapView vmap(int[] pfns) {
        Objects.requireNonNull(pfns, "pfns");
        if (pfns.length == 0) {
            throw new IllegalArgumentException("vmap: expected at least one pfn, found none");
        }
        int[] copy = pfns.clone();
        for (int i = 0; i < copy.length; i++) {
            if (copy[i] < 0 || copy[i] >= nrPages) {
                throw new PfnOutOfRangeException("vmap: expected pfns in [0, " + nrPages + ") of " + this
                        + ", found pfn " + copy[i] + " at index " + i);
            }
        }
        ReentrantReadWriteLock.ReadLock lock = lifecycle.readLock();
        lock.lock();
        try {
            checkOpen("vmap");
            AbstractVmap v = mode == Mode.MEMFD
                    ? VmapArea.map(this, libc, fd, copy)
                    : new ScatterVmap(this, copy, directMap);
            live.add(v);
            nrVmaps.incrementAndGet();
            vmapPages.addAndGet(copy.length);
            vmapsTotal.incrementAndGet();
            return v;
        } finally {
            lock.unlock();
        }
    }

    /** Called by a view's {@code vunmap}: releases it under the shared lock (see class doc). */
    void vunmap(AbstractVmap v) {
        ReentrantReadWriteLock.ReadLock lock = lifecycle.readLock();
        lock.lock();
        try {
            v.claimUnmap("vunmap");
            release(v);
        } finally {
            lock.unlock();
        }
    }

    private void release(AbstractVmap v) {
        try {
            v.releaseMapping();
        } finally {
            live.remove(v);
            nrVmaps.decrementAndGet();
            vmapPages.addAndGet(-v.nrPages());
        }
    }

    /** Counts one {@code mmap(MAP_FIXED)} of a run (see {@link #runMmaps()}). */
    void countRunMmap() {
        runMmaps.incrementAndGet();
    }

    /** Live vmap areas (the kernel's count of {@code VM_MAP} areas). */
    public long nrVmaps() {
        return nrVmaps.get();
    }

    /** Pages mapped by live vmap areas. */
    public long vmapPages() {
        return vmapPages.get();
    }

    /** Bytes mapped by live vmap areas: the {@code VmallocUsed} figure of meminfo. */
    public long vmapBytes() {
        return vmapPages.get() << PAGE_SHIFT;
    }

    /** vmap calls that succeeded since creation. */
    public long vmapsTotal() {
        return vmapsTotal.get();
    }

    /** {@code mmap(MAP_SHARED|MAP_FIXED)} calls made by vmap since creation: one per run. */
    public long runMmaps() {
        return runMmaps.get();
    }

    /**
     * Unmaps every live vmap area, then the direct map, then closes the memfd. Idempotent.
     * Waits for in-flight vmap/vunmap calls.
     *
     * @throws VmapLeakException live vmap areas were found (they are unmapped all the same)
     * @throws NativeCallException munmap or close failed (the region is closed regardless)
     */
    @Override
    public void close() {
        ReentrantReadWriteLock.WriteLock lock = lifecycle.writeLock();
        lock.lock();
        long leakedAreas = 0;
        long leakedPages = 0;
        try {
            if (closed) {
                return;
            }
            closed = true;
            List<AbstractVmap> leaked = new ArrayList<>(live);
            for (AbstractVmap v : leaked) {
                // Under the write lock no vunmap is in flight, so each claim succeeds.
                v.claimUnmap("close");
                leakedAreas++;
                leakedPages += v.nrPages();
                release(v);
            }
            try {
                arena.close();
            } finally {
                if (fd >= 0) {
                    try (Arena scratch = Arena.ofConfined()) {
                        libc.close(Libc.newCallState(scratch), fd);
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        if (leakedAreas > 0) {
            throw new VmapLeakException(toString(), leakedAreas, leakedPages);
        }
    }

    void checkOpen(String op) {
        if (closed) {
            throw new RegionClosedException(toString(), op);
        }
    }

    @Override
    public String toString() {
        return "region '" + name + "' (" + mode + ", " + nrPages + " pages)";
    }
}
