package io.memscope.debug;

/**
 * A kernel warning turned into a failure by {@code panic_on_warn} ({@code kernel/panic.c}:
 * {@code check_panic_on_warn}). The message is the whole report as it was printed.
 */
public final class KernelPanicException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public KernelPanicException(String report) {
        super("Kernel panic - not syncing: panic_on_warn set ...\n" + report);
    }
}
