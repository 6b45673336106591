package io.memscope.slab;

/** Use of a cache after kmem_cache_destroy. */
public final class SlabCacheDestroyedException extends SlabMisuseException {
    private static final long serialVersionUID = 1L;

    public SlabCacheDestroyedException(String message) {
        super(message);
    }
}
