package io.memscope.page;

/**
 * A {@link VmapView} was unmapped twice or used after {@link VmapView#vunmap()} (or after its
 * region was closed). The double-unmap message is the kernel's own warning from mm/vmalloc.c,
 * {@code Trying to vunmap() nonexistent vm area (%p)}.
 */
public final class VmapReleasedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    VmapReleasedException(String message) {
        super(message);
    }
}
