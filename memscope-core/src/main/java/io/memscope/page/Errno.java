package io.memscope.page;

/**
 * The Linux {@code errno} values the physical-memory syscalls can return, by name — the
 * counterpart of include/uapi/asm-generic/errno-base.h and errno.h (x86-64 and arm64 share these
 * numbers). Used only to print a failed call the way a kernel developer reads it
 * ({@code mmap failed: ENOMEM (12)}).
 */
final class Errno {
    private Errno() {}

    /** Index = errno number; null where the number has no entry here. */
    private static final String[] NAMES = new String[76];

    static {
        put(1, "EPERM");
        put(2, "ENOENT");
        put(4, "EINTR");
        put(5, "EIO");
        put(9, "EBADF");
        put(11, "EAGAIN");
        put(12, "ENOMEM");
        put(13, "EACCES");
        put(14, "EFAULT");
        put(16, "EBUSY");
        put(17, "EEXIST");
        put(19, "ENODEV");
        put(22, "EINVAL");
        put(23, "ENFILE");
        put(24, "EMFILE");
        put(26, "ETXTBSY");
        put(27, "EFBIG");
        put(28, "ENOSPC");
        put(38, "ENOSYS");
        put(75, "EOVERFLOW");
    }

    private static void put(int errno, String name) {
        NAMES[errno] = name;
    }

    /** The symbolic name of {@code errno}, or {@code "errno"} when it is not one of ours. */
    static String name(int errno) {
        String n = errno >= 0 && errno < NAMES.length ? NAMES[errno] : null;
        return n != null ? n : "errno";
    }
}
