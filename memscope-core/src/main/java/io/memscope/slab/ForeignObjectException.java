package io.memscope.slab;

/** A free, ksize or krealloc of an address that is not an object from this machine's slab layer (kernel: "kfree: bad pointer", "Wrong slab cache", "Invalid object pointer"). */
public final class ForeignObjectException extends SlabMisuseException {
    private static final long serialVersionUID = 1L;

    public ForeignObjectException(String message) {
        super(message);
    }
}
