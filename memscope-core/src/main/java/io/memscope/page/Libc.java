package io.memscope.page;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;

/**
 * Downcalls into the C library for the physical-memory syscalls — the user-space stand-in for
 * what the kernel does with page tables in mm/vmalloc.c ({@code vmap_pages_range}) and the
 * linear map. Every call that can fail captures {@code errno} through
 * {@link Linker.Option#captureCallState} and turns failure into a {@link NativeCallException}
 * naming the call and the errno.
 *
 * <p>Invariants: only built on 64-bit Linux (pointers and {@code size_t}/{@code off_t} are passed
 * as {@code long}); the flag constants below are the asm-generic values shared by x86-64 and arm64,
 * so {@link #load()} refuses every other architecture. An instance is immutable and thread-safe:
 * the caller passes the errno capture segment ({@link #newCallState}) so no state is shared
 * between threads.
 */
// Restricted FFM methods (downcallHandle, reinterpret) are the point of this class; the
// launcher and surefire grant native access (--enable-native-access).
@SuppressWarnings("restricted")
final class Libc {
    static final int PROT_NONE = 0x0;
    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int MAP_SHARED = 0x01;
    static final int MAP_PRIVATE = 0x02;
    static final int MAP_FIXED = 0x10;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;
    static final int MFD_CLOEXEC = 0x1;
    /** {@code _SC_PAGESIZE} in glibc's and musl's unistd.h. */
    static final int SC_PAGESIZE = 30;
    /** {@code MAP_FAILED}, i.e. {@code (void *) -1}. */
    static final long MAP_FAILED = -1L;

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private final MethodHandle sysconf;
    private final MethodHandle memfdCreate;
    private final MethodHandle ftruncate;
    private final MethodHandle mmap;
    private final MethodHandle munmap;
    private final MethodHandle close;
    private final MethodHandle strerror;

    private Libc(Linker linker, SymbolLookup libc) {
        Linker.Option errno = Linker.Option.captureCallState("errno");
        sysconf = linker.downcallHandle(find(libc, "sysconf"), FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
        memfdCreate = linker.downcallHandle(find(libc, "memfd_create"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), errno);
        ftruncate = linker.downcallHandle(find(libc, "ftruncate"),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), errno);
        mmap = linker.downcallHandle(find(libc, "mmap"),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), errno);
        munmap = linker.downcallHandle(find(libc, "munmap"),
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), errno);
        close = linker.downcallHandle(find(libc, "close"), FunctionDescriptor.of(JAVA_INT, JAVA_INT), errno);
        strerror = linker.downcallHandle(find(libc, "strerror"), FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    /** Holds the one outcome of loading libc: immutable once computed (class-init is thread-safe). */
    private static final class Holder {
        static final Libc LIBC;
        static final String UNAVAILABLE;

        static {
            Libc libc = null;
            String why = null;
            try {
                libc = loadNow();
            } catch (MemfdUnavailableException e) {
                why = e.reason();
            } catch (RuntimeException | LinkageError e) {
                why = "cannot link libc: " + e;
            }
            LIBC = libc;
            UNAVAILABLE = why;
        }
    }

    /**
     * The C library of this process.
     *
     * @throws MemfdUnavailableException not 64-bit Linux on x86-64/arm64, or a symbol is missing
     */
    static Libc load() {
        if (Holder.LIBC == null) {
            throw new MemfdUnavailableException(Holder.UNAVAILABLE);
        }
        return Holder.LIBC;
    }

    private static Libc loadNow() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.startsWith("linux")) {
            throw new MemfdUnavailableException("memfd needs Linux, this is " + os);
        }
        if (!arch.equals("amd64") && !arch.equals("x86_64") && !arch.equals("aarch64")) {
            throw new MemfdUnavailableException("mmap flag values are only known for amd64/aarch64, this is " + arch);
        }
        if (ADDRESS.byteSize() != Long.BYTES) {
            throw new MemfdUnavailableException("memfd mode needs 64-bit pointers");
        }
        Linker linker = Linker.nativeLinker();
        return new Libc(linker, linker.defaultLookup());
    }

    private static MemorySegment find(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(
                () -> new MemfdUnavailableException("libc has no symbol " + name));
    }

    /** A segment to capture errno into; one per thread and operation (never shared). */
    static MemorySegment newCallState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    /** {@code sysconf(_SC_PAGESIZE)}. */
    long pageSize() {
        try {
            return (long) sysconf.invokeExact(SC_PAGESIZE);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int memfdCreate(MemorySegment state, Arena arena, String name, int flags) {
        int fd;
        try {
            fd = (int) memfdCreate.invokeExact(state, arena.allocateFrom(name), flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (fd < 0) {
            throw failure(state, "memfd_create(\"" + name + "\", 0x" + Integer.toHexString(flags) + ")");
        }
        return fd;
    }

    void ftruncate(MemorySegment state, int fd, long length) {
        int rc;
        try {
            rc = (int) ftruncate.invokeExact(state, fd, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (rc != 0) {
            throw failure(state, "ftruncate(fd=" + fd + ", length=" + length + ")");
        }
    }

    /** {@code mmap}; returns the mapped address, never {@code MAP_FAILED}. */
    long mmap(MemorySegment state, long addr, long len, int prot, int flags, int fd, long off) {
        long rc;
        try {
            rc = (long) mmap.invokeExact(state, addr, len, prot, flags, fd, off);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (rc == MAP_FAILED) {
            throw failure(state, "mmap(addr=0x" + Long.toHexString(addr) + ", len=" + len + ", prot=0x"
                    + Integer.toHexString(prot) + ", flags=0x" + Integer.toHexString(flags) + ", fd=" + fd
                    + ", off=" + off + ")");
        }
        return rc;
    }

    void munmap(MemorySegment state, long addr, long len) {
        int rc;
        try {
            rc = (int) munmap.invokeExact(state, addr, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (rc != 0) {
            throw failure(state, "munmap(addr=0x" + Long.toHexString(addr) + ", len=" + len + ")");
        }
    }

    void close(MemorySegment state, int fd) {
        int rc;
        try {
            rc = (int) close.invokeExact(state, fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (rc != 0) {
            throw failure(state, "close(fd=" + fd + ")");
        }
    }

    /** Convenience for one-off calls: munmap with a private errno segment. */
    void munmap(long addr, long len) {
        try (Arena a = Arena.ofConfined()) {
            munmap(newCallState(a), addr, len);
        }
    }

    private NativeCallException failure(MemorySegment state, String call) {
        int errno = (int) ERRNO.get(state, 0L);
        return new NativeCallException(call, errno, describe(errno));
    }

    private String describe(int errno) {
        try {
            MemorySegment s = (MemorySegment) strerror.invokeExact(errno);
            // strerror returns a NUL-terminated string in libc's own storage; a bounded view is enough.
            return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "";
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("downcall threw a checked exception", t);
    }
}
