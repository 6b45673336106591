package io.memscope.journal;

/**
 * A journal buffer or inode page could not be allocated. The store is unchanged by the failed
 * call (a write that failed part-way has written and logged the bytes before the failure).
 */
public final class JournalNoMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public JournalNoMemoryException(String message) {
        super(message);
    }
}
