package io.memscope.reclaim;

/**
 * What kswapd needs from the node it balances: the parts of {@code pg_data_t} and of
 * {@code balance_pgdat()} that live with the zones and the LRU. The reclaim core implements it;
 * {@link Kswapd} owns only the thread and its wake/sleep protocol.
 */
public interface KswapdNode {
    /** The node id. */
    int nid();

    /** {@code pgdat_balanced()}: some eligible zone up to {@code highestZoneIdx} is at its high watermark for {@code order}. */
    boolean balanced(int order, int highestZoneIdx);

    /** {@code pgdat_watermark_boosted()}. */
    default boolean watermarkBoosted(int highestZoneIdx) {
        return false;
    }

    /** {@code kswapd_test_hopeless()}: {@code kswapd_failures >= MAX_RECLAIM_RETRIES}. */
    boolean hopeless();

    /**
     * {@code balance_pgdat()}: reclaims until the node is balanced or reclaim is hopeless, with
     * {@code GFP_KERNEL} as the reclaim context. Runs on the kswapd thread.
     *
     * @return the order reclaim ended at (0 when it fell back to order-0 balancing)
     */
    int balance(int order, int highestZoneIdx);

    /** Wakes tasks throttled in {@code throttle_direct_reclaim} ({@code pfmemalloc_wait}). */
    default void wakePfmemallocWaiters() {}
}
