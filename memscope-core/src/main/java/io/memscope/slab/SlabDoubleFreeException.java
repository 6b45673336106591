package io.memscope.slab;

/** An object freed twice (SLUB: "Object already free", or the freelist-hardened naive double-free check). */
public final class SlabDoubleFreeException extends SlabMisuseException {
    private static final long serialVersionUID = 1L;

    public SlabDoubleFreeException(String message) {
        super(message);
    }
}
