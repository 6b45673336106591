package io.memscope.page;

/** A GFP mask the allocator cannot serve: a zone-modifier combination in GFP_ZONE_BAD. */
public final class InvalidGfpMaskException extends PageAllocException {
    private static final long serialVersionUID = 1L;

    public InvalidGfpMaskException(String message) {
        super(message);
    }

    public InvalidGfpMaskException(String message, Throwable cause) {
        super(message, cause);
    }
}
