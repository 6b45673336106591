package io.memscope.page;

/**
 * The memfd-backed physical memory was requested ({@code memscope.physmem=memfd} or
 * {@link MemfdRegion.Selection#MEMFD}) but this platform cannot provide it: not 64-bit Linux on
 * x86-64/arm64, a libc without {@code memfd_create}, a page size other than 4096, or a failed
 * {@code memfd_create}/{@code ftruncate}/{@code mmap} (then the {@link NativeCallException} is the
 * cause). In {@link MemfdRegion.Selection#AUTO} mode the same condition selects the arena fallback.
 */
public final class MemfdUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String reason;

    MemfdUnavailableException(String why) {
        this(why, null);
    }

    MemfdUnavailableException(String why, Throwable cause) {
        super("memfd physical memory unavailable: " + why, cause);
        this.reason = why;
    }

    /** Why memfd cannot be used, without the message prefix. */
    public String reason() {
        return reason;
    }
}
