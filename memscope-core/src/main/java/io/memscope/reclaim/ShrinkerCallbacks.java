package io.memscope.reclaim;

/**
 * The two operations a cache implements to give memory back under pressure: the
 * {@code count_objects} and {@code scan_objects} callbacks of {@code struct shrinker}
 * ({@code include/linux/shrinker.h}).
 *
 * <p>Contract, as in the kernel:
 * <ul>
 *   <li>{@link #countObjects} returns how many objects could be freed now, 0 when unknown or
 *       when the cache should be skipped, or {@link Shrinker#SHRINK_EMPTY} when it holds none.
 *       It must be cheap and must not take locks that reclaim's caller may hold; it is called
 *       even for contexts without {@code __GFP_FS} ({@code super_cache_count} does not test it).</li>
 *   <li>{@link #scanObjects} tries to free up to {@code sc.nrToScan()} objects and returns how
 *       many it freed, or {@link Shrinker#SHRINK_STOP} when it cannot make progress in this
 *       context (for example, a filesystem cache called without {@code __GFP_FS}, or a lock it
 *       only trylocks is busy). Reclaim then carries the unscanned work forward as deferred
 *       work for a later caller that may do it (kswapd runs with {@code GFP_KERNEL}).</li>
 * </ul>
 * Both run in the reclaiming thread with {@code PF_MEMALLOC} set, so allocations they make use
 * the reserves and never recurse into reclaim. They may sleep only if the reclaim context may
 * ({@code __GFP_DIRECT_RECLAIM}; kswapd always may).
 */
public interface ShrinkerCallbacks {
    /** {@code count_objects}: freeable objects now, 0, or {@link Shrinker#SHRINK_EMPTY}. */
    long countObjects(ShrinkControl sc);

    /** {@code scan_objects}: objects freed, or {@link Shrinker#SHRINK_STOP}. */
    long scanObjects(ShrinkControl sc);
}
