package io.memscope.pagecache;

/** A call on an {@link AddressSpace} after {@link AddressSpace#evict()} (a use after {@code evict_inode}). */
public final class MappingEvictedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MappingEvictedException(String message) {
        super(message);
    }
}
