package io.memscope.sched;

/**
 * {@link Memalloc#memallocFlagsSave} was given PF bits that are not scope flags. Only
 * {@code PF_MEMALLOC}, {@code PF_MEMALLOC_NOFS}, {@code PF_MEMALLOC_NOIO} and
 * {@code PF_MEMALLOC_PIN} may be scoped; the others ({@code PF_KSWAPD}, {@code PF_KTHREAD}, ...)
 * describe what a task is, not a region of code.
 */
public final class InvalidScopeFlagsException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    InvalidScopeFlagsException(int given) {
        super(String.format("memalloc_flags_save(0x%x): expected only PF_MEMALLOC|PF_MEMALLOC_NOFS|PF_MEMALLOC_NOIO"
                + "|PF_MEMALLOC_PIN (0x%x), found non-scope bits 0x%x", given, Memalloc.PF_MEMALLOC_FLAGS,
                given & ~Memalloc.PF_MEMALLOC_FLAGS));
    }
}
