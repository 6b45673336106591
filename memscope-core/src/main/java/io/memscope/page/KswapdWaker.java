package io.memscope.page;

/**
 * The allocator's way to wake background reclaim: {@code wakeup_kswapd()} as called from
 * {@code wake_all_kswapds()} in the slow path when {@code ALLOC_KSWAPD} is set. The reclaim layer
 * implements it with a real kswapd thread per node; the default does nothing.
 */
@FunctionalInterface
public interface KswapdWaker {
    /** Does nothing. */
    KswapdWaker NONE = (zone, gfp, order, highestZoneIdx) -> { };

    /** Wakes the kswapd of {@code zone}'s node. Must not block or allocate with direct reclaim. */
    void wakeupKswapd(Zone zone, int gfp, int order, int highestZoneIdx);
}
