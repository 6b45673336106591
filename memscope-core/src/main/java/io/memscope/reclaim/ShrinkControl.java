package io.memscope.reclaim;

/**
 * What reclaim tells a shrinker on each call: {@code struct shrink_control} of
 * {@code include/linux/shrinker.h}.
 *
 * <p>{@link #gfpMask()} is the reclaim context's mask — for direct reclaim the allocating
 * caller's mask after {@code current_gfp_context()}, for kswapd and {@code drop_caches} always
 * {@code GFP_KERNEL}. A filesystem-style shrinker must check it: without {@code __GFP_FS} it
 * may not take filesystem locks and returns {@link Shrinker#SHRINK_STOP} from
 * {@code scanObjects} (as {@code super_cache_scan} does).
 *
 * <p>{@link #nrToScan()} is how many objects to scan in this call; a shrinker that scanned a
 * different number reports it through {@link #setNrScanned(long)}, which reclaim then uses for
 * its accounting (the kernel's {@code nr_scanned}). One instance is reused across the calls of
 * one {@code shrink_slab} pass; it is confined to the reclaiming thread.
 */
public final class ShrinkControl {
    private int gfpMask;
    private int nid;
    private long nrToScan;
    private long nrScanned;
    /** {@code current->reclaim_state->reclaimed}: pages the callbacks gave back to the page allocator. */
    private long reclaimedPages;

    ShrinkControl() {}

    /** A control for tests and for callers that drive a shrinker by hand. */
    public static ShrinkControl of(int gfpMask, int nid) {
        ShrinkControl sc = new ShrinkControl();
        sc.reset(gfpMask, nid);
        return sc;
    }

    void reset(int gfpMask, int nid) {
        this.gfpMask = gfpMask;
        this.nid = nid;
        this.nrToScan = 0;
        this.nrScanned = 0;
    }

    /**
     * {@code reclaim_state->reclaimed += n}: a shrinker whose objects live in pages it frees to the
     * page allocator reports those pages here, so they count as reclaim progress
     * ({@code flush_reclaim_state()}), as slab page frees do in the kernel.
     */
    public void addReclaimedPages(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("reclaimed pages must be >= 0, was " + n);
        }
        reclaimedPages += n;
    }

    /** Pages reported through {@link #addReclaimedPages} since this control was created. */
    long reclaimedPages() {
        return reclaimedPages;
    }

    /** {@code sc->gfp_mask}: the reclaim context's allocation mask. */
    public int gfpMask() {
        return gfpMask;
    }

    /** {@code sc->nid}: the node being reclaimed (0 for shrinkers that are not NUMA-aware). */
    public int nid() {
        return nid;
    }

    /** {@code sc->nr_to_scan}: objects to scan in this {@code scanObjects} call. */
    public long nrToScan() {
        return nrToScan;
    }

    /** {@code sc->nr_scanned}: preset to {@link #nrToScan()}; see {@link #setNrScanned}. */
    public long nrScanned() {
        return nrScanned;
    }

    /** Reports how many objects this call really scanned, when it differs from nrToScan. */
    public void setNrScanned(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("nr_scanned must be >= 0, was " + n);
        }
        this.nrScanned = n;
    }

    void setNrToScan(long n) {
        this.nrToScan = n;
        this.nrScanned = n;
    }

    @Override
    public String toString() {
        return "shrink_control{gfp_mask=0x" + Integer.toHexString(gfpMask) + ", nid=" + nid
                + ", nr_to_scan=" + nrToScan + ", nr_scanned=" + nrScanned + "}";
    }
}
