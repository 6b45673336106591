package io.memscope.vmalloc;

/** Machine close with vmalloc areas still allocated. */
public final class VmallocLeakException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public VmallocLeakException(String message) {
        super(message);
    }
}
