package io.memscope.slab;

/** Base of the slab layer's named misuse errors. The message says what was expected and what was found. */
public class SlabMisuseException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SlabMisuseException(String message) {
        super(message);
    }
}
