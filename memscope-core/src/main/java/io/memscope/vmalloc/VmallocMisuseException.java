package io.memscope.vmalloc;

/** A vfree (or kvfree) of an address that is not the start of a live vmalloc area, or a vfree from NMI. */
public final class VmallocMisuseException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public VmallocMisuseException(String message) {
        super(message);
    }
}
