package io.memscope.page;

/** A {@link MemfdRegion} was used after {@link MemfdRegion#close()}. */
public final class RegionClosedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    RegionClosedException(String region, String op) {
        super(op + " on " + region + ": expected an open region, found it closed");
    }
}
