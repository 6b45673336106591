package io.memscope.reclaim;

/** The kernel's "System is deadlocked on memory" panic, raised only when {@link OomKiller#setPanicOnNoVictim} is on. */
public final class OomPanicException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public OomPanicException(String message) {
        super("Kernel panic - not syncing: " + message);
    }
}
