package io.memscope.page;

import static io.memscope.page.PageTableDescriptor.NIL;
import static io.memscope.page.PageTableDescriptor.STATE_ALLOC;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.MigrateType;
import io.memscope.sched.Task;
import java.lang.foreign.MemorySegment;

/**
 * The first attempt of an allocation, {@code get_page_from_freelist()} of {@code mm/page_alloc.c}:
 * walk the zonelist, skip zones the cpuset or the watermark rules out, take a block with
 * {@code rmqueue()} (the calling slot's per-CPU list, else the buddy under the zone lock) and
 * prepare it ({@code prep_new_page()}).
 *
 * <p>Why a class of its own: {@link PageAllocator} decides <em>what</em> to ask for (the context,
 * the zonelist, the alloc flags, the fast lane, the slow path); this is the one place that takes
 * pages off the free lists for it, shared by the general path, the fast lane
 * ({@link #prepNewPage}, {@link #zoneWatermarkOk}) and the slow path's retries. It holds no state
 * of its own beyond copies of the allocator's final fields.
 *
 * <p>Invariant: a block leaves here in state ALLOC with refcount 1 and the handle's generation, or
 * not at all; no check before {@code rmqueue} changes anything, so a caller may repeat the walk.
 */
final class Freelist {
    private final PageTable pt;
    private final CpuSlots slots;
    private final PageDebug debug;
    private final boolean initOnAlloc;
    private final boolean singleNode;
    private final MemorySegment memory;

    Freelist(PageAllocator a, CpuSlots slots) {
        this.pt = a.pt;
        this.slots = slots;
        this.debug = a.debug;
        this.initOnAlloc = a.cfg.initOnAlloc();
        this.singleNode = a.cfg.nodes() == 1;
        this.memory = a.memory();
    }

    /**
     * {@code get_page_from_freelist()}: the first zone of the zonelist (within {@code highest} and
     * {@code nodemask}, cpuset-allowed if ALLOC_CPUSET) whose watermark allows the request, then
     * {@code rmqueue}. Retries once without ALLOC_NOFRAGMENT before failing.
     */
    long getPageFromFreelist(int gfp, int order, int allocFlags, Zone[] zl, int highest, long nodemask, int mt,
                             Task task) {
        for (;;) {
            boolean noFallback = (allocFlags & AllocFlags.NOFRAGMENT) != 0;
            // Only a multi-node machine needs the preferred zone here (to stay on its node).
            Zone preferred = noFallback && !singleNode ? PageAllocator.firstZone(zl, highest, nodemask) : null;
            boolean restart = false;
            for (Zone zone : zl) {
                if (zone.idx > highest || (nodemask & (1L << zone.nid)) == 0) {
                    continue;
                }
                if ((allocFlags & AllocFlags.CPUSET) != 0 && !cpusetZoneAllowed(zone, gfp, task)) {
                    continue;
                }
                if (preferred != null && zone.nid != preferred.nid) {
                    // Fragmenting the local node is preferred over using a remote one.
                    allocFlags &= ~AllocFlags.NOFRAGMENT;
                    restart = true;
                    break;
                }
                long mark = zone.watermark[allocFlags & AllocFlags.WMARK_MASK];
                if (!zoneWatermarkFast(zone, order, mark, highest, allocFlags)
                        && (allocFlags & AllocFlags.NO_WATERMARKS) == 0) {
                    continue;
                }
                int pfn = rmqueue(zone, order, allocFlags, mt, task);
                if (pfn != NIL) {
                    long h = prepNewPage(pfn, order, gfp, mt);
                    if ((allocFlags & AllocFlags.HIGHATOMIC) != 0) {
                        zone.reserveHighatomic(pfn, order);
                    }
                    return h;
                }
            }
            if (restart) {
                continue;
            }
            if (noFallback) {
                allocFlags &= ~AllocFlags.NOFRAGMENT;
                continue;
            }
            return PageHandle.NULL;
        }
    }

    /** {@code __cpuset_zone_allowed()}: interrupts anywhere; mems_allowed; otherwise only without HARDWALL. */
    static boolean cpusetZoneAllowed(Zone zone, int gfp, Task task) {
        if (task.inInterrupt()) {
            return true;
        }
        if ((task.memsAllowed() & (1L << zone.nid)) != 0) {
            return true;
        }
        // Without __GFP_HARDWALL the nearest hardwalled ancestor (the root cpuset here) decides.
        return (gfp & Gfp.HARDWALL) == 0;
    }

    /** {@code zone_watermark_fast()}: an order-0 shortcut, then {@code __zone_watermark_ok}. */
    boolean zoneWatermarkFast(Zone z, int order, long mark, int highest, int allocFlags) {
        long free = z.freePages();
        long reserve = z.lowmemReserve[highest];
        if (order == 0) {
            long unusable = (allocFlags & AllocFlags.RESERVES) == 0 ? z.nrFreeHighatomic : 0;
            long usable = free - Math.min(free, unusable);
            if (usable > mark + reserve) {
                return true;
            }
        }
        return zoneWatermarkOk(z, order, mark, highest, allocFlags, free);
    }

    /** {@code __zone_watermark_ok()} against a live zone. */
    boolean zoneWatermarkOk(Zone z, int order, long mark, int highest, int allocFlags, long free) {
        // The zone is its own probe: a capturing lambda here would allocate on every order > 0 check.
        return Watermarks.zoneWatermarkOk(free, mark, z.lowmemReserve[highest], z.nrFreeHighatomic, order, allocFlags, z);
    }

    /** {@code rmqueue()}: per-CPU list for pcp orders, else the buddy under the zone lock. */
    int rmqueue(Zone zone, int order, int allocFlags, int mt, Task task) {
        if (PerCpuPages.allowedOrder(order)) {
            PerCpuPages pcp = slots.lockSlot(zone, task);
            if (pcp != null) {
                int pfn;
                try {
                    pfn = pcp.rmqueue(order, mt, allocFlags);
                } finally {
                    pcp.unlock();
                }
                if (pfn != NIL) {
                    return pfn;
                }
            }
        }
        return rmqueueBuddy(zone, order, allocFlags, mt);
    }

    /** {@code rmqueue_buddy()}: HIGHATOMIC first for ALLOC_HIGHATOMIC; HIGHATOMIC last for OOM/NON_BLOCK. */
    private int rmqueueBuddy(Zone zone, int order, int allocFlags, int mt) {
        zone.lock.lock();
        try {
            int pfn = NIL;
            if ((allocFlags & AllocFlags.HIGHATOMIC) != 0) {
                pfn = zone.rmqueueSmallest(order, MigrateType.HIGHATOMIC.ordinal());
            }
            if (pfn == NIL) {
                pfn = zone.rmqueue(order, mt, allocFlags);
                if (pfn == NIL && (allocFlags & (AllocFlags.OOM | AllocFlags.NON_BLOCK)) != 0) {
                    pfn = zone.rmqueueSmallest(order, MigrateType.HIGHATOMIC.ordinal());
                }
            }
            if (pfn != NIL) {
                zone.buddyPgalloc += 1L << order;
            }
            return pfn;
        } finally {
            zone.lock.unlock();
        }
    }

    /** {@code prep_new_page()}: refcount 1, debug checks, zeroing, compound marking. Returns the handle. */
    long prepNewPage(int pfn, int order, int gfp, int mt) {
        int gen = pt.prepAllocated(pfn, STATE_ALLOC, order, mt);
        if (debug != null || initOnAlloc || (gfp & (Gfp.ZERO | Gfp.COMP)) != 0) {
            prepNewPageExtra(pfn, order, gfp);
        }
        return PageHandle.of(pfn, order, gen);
    }

    /** The rest of {@code prep_new_page()}: debug checks, zeroing, compound marking (out of line: rare, and large once compiled). */
    private void prepNewPageExtra(int pfn, int order, int gfp) {
        if (debug != null) {
            debug.onAlloc(pfn, order);
        }
        if ((gfp & Gfp.ZERO) != 0 || initOnAlloc) {
            memory.asSlice((long) pfn << PageAllocConfig.PAGE_SHIFT, (long) PageAllocConfig.PAGE_SIZE << order).fill((byte) 0);
        }
        if ((gfp & Gfp.COMP) != 0 && order > 0) {
            pt.setPageFlags(pfn, PageTableDescriptor.FLAG_HEAD);
            for (int i = 1; i < (1 << order); i++) {
                pt.setPageFlags(pfn + i, PageTableDescriptor.FLAG_TAIL);
            }
        }
    }
}
