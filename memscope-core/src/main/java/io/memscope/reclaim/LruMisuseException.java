package io.memscope.reclaim;

/**
 * A misuse of an {@link Lru}: adding a page that is already on a list or holds no reference,
 * using a page of another node, or dropping a reference that is not there. The message says what
 * was expected and what was found. The LRU is unchanged when this is thrown.
 */
public final class LruMisuseException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public LruMisuseException(String message) {
        super(message);
    }
}
