package io.memscope.slab;

/** kmem_cache_destroy of a cache that still has objects (kernel: "Slab cache still has objects"). */
public final class SlabCacheLeakException extends SlabMisuseException {
    private static final long serialVersionUID = 1L;

    public SlabCacheLeakException(String message) {
        super(message);
    }
}
