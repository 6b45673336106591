package io.memscope.page;

/**
 * A libc call behind the physical memory ({@code memfd_create}, {@code ftruncate}, {@code mmap},
 * {@code munmap}, {@code close}) failed. The message names the call, its arguments, and the
 * {@code errno} by name and number, e.g.
 * {@code mmap(addr=0x0, len=4096, prot=0x3, flags=0x1, fd=7, off=0) failed: ENOMEM (12) Cannot allocate memory}.
 */
public final class NativeCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    NativeCallException(String call, int errno, String strerror) {
        super(call + " failed: " + Errno.name(errno) + " (" + errno + ")"
                + (strerror.isEmpty() ? "" : " " + strerror));
        this.call = call;
        this.errno = errno;
    }

    /** The call with its arguments, as printed in the message. */
    public String call() {
        return call;
    }

    /** The {@code errno} the call left behind. */
    public int errno() {
        return errno;
    }

    /** The symbolic name of {@link #errno()} ({@code ENOMEM}, {@code EINVAL}, ...). */
    public String errnoName() {
        return Errno.name(errno);
    }
}
