package io.memscope.page;

import io.memscope.gfp.ZoneType;
import java.util.ArrayList;
import java.util.List;

/**
 * The machine's memory layout as boot builds it: nodes and their zones over contiguous pfn ranges
 * ({@code free_area_init}), the zonelists ({@code build_all_zonelists}), the watermarks, lowmem
 * reserves and per-CPU {@code high}/{@code batch} ({@code setup_per_zone_wmarks},
 * {@code setup_per_zone_lowmem_reserve}, {@code zone_pcp_init}), and the initial free lists
 * ({@code memblock_free_all}).
 *
 * <p>Why a class of its own: all of this runs once, before the first allocation, and is read-only
 * afterwards; {@link PageAllocator} copies the finished arrays into final fields and keeps only the
 * code that runs on every request. The figures it produces for the default machines are in
 * docs/page-allocator.md.
 */
final class MemoryLayout {
    /** {@code [nid][zoneIdx]}, empty zones included. */
    final Zone[][] nodeZones;
    /** Populated zones, node by node, lowest index first. */
    final Zone[] zones;
    /** ZONELIST_FALLBACK per node: local node first, then the others; each node's zones highest first. */
    final Zone[][] fallbackList;
    /** ZONELIST_NOFALLBACK per node (__GFP_THISNODE). */
    final Zone[][] noFallbackList;
    /** First pfn of each of {@link #zones}, ascending ({@code PageAllocator#zoneOf} searches it). */
    final int[] zoneStarts;
    /** The populated zone with the most pages (the highest on a tie), which {@code zoneOf} tries first. */
    final Zone largestZone;
    /** The effective {@code min_free_kbytes}. */
    final int minFreeKbytes;
    /**
     * {@code alloc_flags_nofragment()} for every (node, THISNODE, highest zone) with no nodemask —
     * the only case on the fast path: {@code [nid][thisNode ? 1 : 0][highest]}.
     */
    /** ALLOC_NOFRAGMENT per (node, THISNODE, highest zone) at {@code (nid << 1 | thisNode) * ZoneType.COUNT + highest}. */
    final int[] nofragmentFlags;

    /** Lays out {@code cfg}'s zones over {@code pt}, sets their limits, fills their free lists and creates {@code nSlots} pcp sets per zone. */
    MemoryLayout(PageAllocConfig cfg, PageTable pt, int nSlots) {
        int nodes = cfg.nodes();
        this.nodeZones = new Zone[nodes][ZoneType.COUNT];
        List<Zone> populated = new ArrayList<>();
        int pfn = 0;
        for (int n = 0; n < nodes; n++) {
            for (int z = 0; z < ZoneType.COUNT; z++) {
                int np = (int) cfg.zonePages()[n][z];
                Zone zone = new Zone(n, ZoneType.ofIndex(z), pfn, np, pt);
                nodeZones[n][z] = zone;
                if (np > 0) {
                    populated.add(zone);
                }
                pfn += np;
            }
        }
        this.zones = populated.toArray(Zone[]::new);
        this.zoneStarts = new int[zones.length];
        Zone largest = zones[0];
        for (int i = 0; i < zones.length; i++) {
            zoneStarts[i] = zones[i].startPfn;
            if (zones[i].pages >= largest.pages) {
                largest = zones[i];
            }
        }
        this.largestZone = largest;
        this.fallbackList = new Zone[nodes][];
        this.noFallbackList = new Zone[nodes][];
        for (int n = 0; n < nodes; n++) {
            List<Zone> fb = new ArrayList<>();
            for (int k = 0; k < nodes; k++) {
                int node = (n + k) % nodes; // equal distances: local first, then the next nodes in order
                for (int z = ZoneType.COUNT - 1; z >= 0; z--) {
                    if (nodeZones[node][z].populated()) {
                        fb.add(nodeZones[node][z]);
                    }
                }
                if (k == 0) {
                    noFallbackList[n] = fb.toArray(Zone[]::new);
                }
            }
            fallbackList[n] = fb.toArray(Zone[]::new);
        }
        this.minFreeKbytes = setupWatermarks(cfg, nSlots);
        this.nofragmentFlags = new int[nodes * 2 * ZoneType.COUNT];
        for (int n = 0; n < nodes; n++) {
            for (int z = 0; z < ZoneType.COUNT; z++) {
                nofragmentFlags[(n << 1) * ZoneType.COUNT + z] = nofragment(fallbackList[n], z, -1L);
                nofragmentFlags[(n << 1 | 1) * ZoneType.COUNT + z] = nofragment(noFallbackList[n], z, -1L);
            }
        }
        for (Zone z : zones) {
            z.populate();
            z.pcp = new PerCpuPages[nSlots];
            for (int s = 0; s < nSlots; s++) {
                z.pcp[s] = new PerCpuPages(z, s, pt);
            }
        }
    }

    /** Sets min/low/high, lowmem_reserve and pcp high/batch for every zone. Returns min_free_kbytes. */
    private int setupWatermarks(PageAllocConfig cfg, int nSlots) {
        long lowmem = 0;
        for (Zone z : zones) {
            if (z.idx != ZoneType.MOVABLE.ordinal()) {
                lowmem += z.managedPages();
            }
        }
        int mfk = cfg.minFreeKbytes() > 0 ? cfg.minFreeKbytes() : Watermarks.defaultMinFreeKbytes(lowmem);
        for (Zone z : zones) {
            long[] w = Watermarks.zoneWatermarks(z.managedPages(), z.idx, lowmem, mfk, cfg.watermarkScaleFactor());
            System.arraycopy(w, 0, z.watermark, 0, 4);
        }
        for (Zone[] nz : nodeZones) {
            long[] managed = new long[ZoneType.COUNT];
            for (int i = 0; i < managed.length; i++) {
                managed[i] = nz[i].managedPages();
            }
            long[][] r = Watermarks.lowmemReserve(managed, cfg.lowmemReserveRatio());
            for (int i = 0; i < managed.length; i++) {
                System.arraycopy(r[i], 0, nz[i].lowmemReserve, 0, managed.length);
            }
        }
        for (Zone z : zones) {
            z.pcpBatch = Watermarks.zoneBatchsize(z.managedPages());
            z.pcpHigh = Watermarks.zoneHighsize(z.lowWmark(), z.pcpBatch, nSlots);
        }
        return mfk;
    }

    /**
     * {@code alloc_flags_nofragment()}: ALLOC_NOFRAGMENT when the preferred zone is ZONE_NORMAL and a
     * populated zone lies below it (the DMA32 zone absorbs fallbacks instead of Normal's pageblocks).
     */
    int nofragment(Zone[] zl, int highest, long mask) {
        Zone pref = firstZone(zl, highest, mask);
        if (pref == null || pref.idx != ZoneType.NORMAL.ordinal()) {
            return 0;
        }
        Zone below = nodeZones[pref.nid][ZoneType.DMA32.ordinal()];
        return below.populated() || nodeZones[pref.nid][0].populated() ? AllocFlags.NOFRAGMENT : 0;
    }

    /** {@code first_zones_zonelist()}: the first zone within highest and nodemask, or null. */
    static Zone firstZone(Zone[] zl, int highest, long mask) {
        for (Zone z : zl) {
            if (z.idx <= highest && (mask & (1L << z.nid)) != 0) {
                return z;
            }
        }
        return null;
    }
}
