package io.memscope.page;

import static io.memscope.page.PageTableDescriptor.STATE_ALLOC;

import io.memscope.debug.DumpStack;
import io.memscope.debug.KernelLog;
import io.memscope.debug.Ratelimit;
import io.memscope.gfp.Gfp;
import io.memscope.gfp.MigrateType;
import io.memscope.gfp.ZoneType;
import io.memscope.sched.Task;
import io.memscope.stat.AllocFailureEvent;
import io.memscope.stat.KernelText;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The page allocator's reports in the kernel's formats: {@code warn_alloc()} with
 * {@code show_free_areas()} ({@code mm/page_alloc.c}, {@code mm/show_mem.c}), the might_sleep report,
 * lockdep's invalid-wait-context report, bad-free reports, {@code /proc/buddyinfo} and
 * {@code /proc/meminfo}.
 *
 * <p>Masks are printed by {@link #gfpReport(int)} only, the one place to swap in
 * {@code GfpFormat.report(int)} at merge.
 */
public final class AllocReports {
    private final PageAllocator a;
    /** {@code warn_alloc}'s interval: {@code DEFAULT_RATELIMIT_INTERVAL} (10 s). */
    static final long WARN_ALLOC_INTERVAL_NANOS = 10_000_000_000L;
    /**
     * {@code warn_alloc}'s {@code nopage_rs}: 10 s, burst 1. Volatile only so that
     * {@link #useWarnAllocClock} (set before any allocation) is seen by every allocating thread.
     */
    volatile Ratelimit warnAllocRs = new Ratelimit("warn_alloc", WARN_ALLOC_INTERVAL_NANOS, 1, System::nanoTime);

    /**
     * Replaces the clock of {@code warn_alloc}'s ratelimit (and resets it), so a test can step past
     * the 10 s interval without waiting. Call before the machine allocates.
     */
    void useWarnAllocClock(java.util.function.LongSupplier clock) {
        warnAllocRs = new Ratelimit("warn_alloc", WARN_ALLOC_INTERVAL_NANOS, 1, clock);
    }

    AllocReports(PageAllocator a) {
        this.a = a;
    }

    // ------------------------------------------------------------------ mask printing (replace at merge)

    private static final String[] NAMES = {"GFP_TRANSHUGE", "GFP_TRANSHUGE_LIGHT", "GFP_HIGHUSER_MOVABLE",
        "GFP_HIGHUSER", "GFP_USER", "GFP_KERNEL_ACCOUNT", "GFP_KERNEL", "GFP_NOFS", "GFP_ATOMIC", "GFP_NOIO",
        "GFP_NOWAIT", "GFP_DMA", "GFP_DMA32", "__GFP_RECLAIM"};
    private static final int[] MASKS = {Gfp.TRANSHUGE, Gfp.TRANSHUGE_LIGHT, Gfp.HIGHUSER_MOVABLE, Gfp.HIGHUSER,
        Gfp.USER, Gfp.KERNEL_ACCOUNT, Gfp.KERNEL, Gfp.NOFS, Gfp.ATOMIC, Gfp.NOIO, Gfp.NOWAIT, Gfp.DMA, Gfp.DMA32,
        Gfp.RECLAIM};
    private static final String[] BITS = {"__GFP_DMA", "__GFP_HIGHMEM", "__GFP_DMA32", "__GFP_MOVABLE",
        "__GFP_RECLAIMABLE", "__GFP_HIGH", "__GFP_IO", "__GFP_FS", "__GFP_ZERO", null, "__GFP_DIRECT_RECLAIM",
        "__GFP_KSWAPD_RECLAIM", "__GFP_WRITE", "__GFP_NOWARN", "__GFP_RETRY_MAYFAIL", "__GFP_NOFAIL",
        "__GFP_NORETRY", "__GFP_MEMALLOC", "__GFP_COMP", "__GFP_NOMEMALLOC", "__GFP_HARDWALL", "__GFP_THISNODE",
        "__GFP_ACCOUNT", "__GFP_ZEROTAGS", "__GFP_NOLOCKDEP"};

    /**
     * A mask as the kernel prints {@code mode:%#x(%pGg)}: {@code 0xcc0(GFP_KERNEL)}. Temporary
     * formatter of the page package: replaced by {@code GfpFormat.report(int)} at merge.
     */
    public static String gfpReport(int gfp) {
        StringBuilder sb = new StringBuilder("0x").append(Integer.toHexString(gfp)).append('(');
        int rest = gfp;
        boolean first = true;
        for (int i = 0; i < MASKS.length && rest != 0; i++) {
            if ((rest & MASKS[i]) == MASKS[i]) {
                sb.append(first ? "" : "|").append(NAMES[i]);
                first = false;
                rest &= ~MASKS[i];
            }
        }
        for (int b = 0; b < BITS.length && rest != 0; b++) {
            if (BITS[b] != null && (rest & (1 << b)) != 0) {
                sb.append(first ? "" : "|").append(BITS[b]);
                first = false;
                rest &= ~(1 << b);
            }
        }
        if (rest != 0) {
            sb.append(first ? "" : "|").append("0x").append(Integer.toHexString(rest));
        }
        return sb.append(')').toString();
    }

    // ------------------------------------------------------------------ warnings

    static String orderTooLarge(int order, int gfp) {
        return warning("__alloc_frozen_pages_noprof", "order " + order + " > MAX_PAGE_ORDER "
                + Gfp.MAX_PAGE_ORDER, gfp, order);
    }

    /** A WARN report: title line, the condition, and the request. */
    static String warning(String function, String what, int gfp, int order) {
        return "WARNING: CPU: 0 PID: " + Task.current().pid() + " at mm/page_alloc.c " + function + "\n"
                + what + ": order:" + order + ", mode:" + gfpReport(gfp);
    }

    static String nmiRefusal(int gfp, Task task) {
        return "WARNING: CPU: 0 PID: " + task.pid() + " at mm/page_alloc.c __alloc_frozen_pages_noprof\n"
                + "page allocation from NMI context refused: mode:" + gfpReport(gfp) + ", comm: " + task.comm();
    }

    /**
     * lockdep's {@code print_lock_invalid_wait_context()} ({@code kernel/locking/lockdep.c}) for
     * {@code zone->lock}, a spinlock_t (wait type {@code {3:3}}, LD_WAIT_CONFIG), taken where only
     * raw spinning is allowed (PREEMPT_RT). {@code context-{n:n}} is {@code task_wait_context()}:
     * 2 (LD_WAIT_SPIN) in hard interrupt context, 3 (LD_WAIT_CONFIG) in a softirq, else 5
     * (LD_WAIT_MAX) — the raw lock that makes the context invalid is in the held-lock count, not in
     * this number. memscope knows only the count of raw locks held, prints no lock addresses and no
     * held-lock list entries, and names the function without offsets.
     */
    static String invalidWaitContext(Task task, int cpu, String where) {
        int ctx = task.inHardirq() ? 2 : task.inServingSoftirq() ? 3 : 5;
        int held = task.rawLockDepth();
        String who = task.comm() + "/" + task.pid();
        List<String> out = new ArrayList<>();
        out.add("=============================");
        out.add("[ BUG: Invalid wait context ]");
        out.add("memscope lockdep Not tainted"); // print_kernel_ident(), as memscope's lockdep prints it
        out.add("-----------------------------");
        out.add(who + " is trying to lock:");
        out.add("(&zone->lock){....}-{3:3}, at: " + where);
        out.add("other info that might help us debug this:");
        out.add("context-{" + ctx + ":" + ctx + "}");
        out.add(held == 0 ? "no locks held by " + who + "."
                : held + " lock" + (held == 1 ? "" : "s") + " held by " + who + ":");
        out.add("stack backtrace:");
        out.addAll(DumpStack.lines(task, cpu, AllocReports.class));
        return String.join("\n", out);
    }

    /**
     * {@code __might_resched()}'s report (KERNEL.md §5.4, {@code kernel/sched/core.c}), located at
     * the caller's first frame outside memscope, then {@code dump_stack()}.
     */
    static String sleepingInAtomic(Task task, int cpu) {
        String at = StackWalker.getInstance().walk(s -> s
                .filter(f -> !isAllocatorFrame(f.getClassName()))
                .findFirst().map(f -> f.getFileName() + ":" + f.getLineNumber()).orElse("?"));
        List<String> out = new ArrayList<>();
        out.add("BUG: sleeping function called from invalid context at " + at);
        out.add("in_atomic(): " + (task.inAtomic() ? 1 : 0) + ", irqs_disabled(): " + (task.irqsDisabled() ? 1 : 0)
                + ", non_block: 0, pid: " + task.pid() + ", name: " + task.comm());
        out.add("preempt_count: " + Integer.toHexString(task.preemptCount()) + ", expected: 0");
        out.add("RCU nest depth: 0, expected: 0");
        out.addAll(DumpStack.lines(task, cpu, AllocReports.class));
        return String.join("\n", out);
    }

    /** True for frames of the allocator itself (skipped when reports name the caller). Test classes are callers. */
    static boolean isAllocatorFrame(String className) {
        return (className.startsWith("io.memscope.page.") && !className.contains("Test"))
                || className.startsWith("io.memscope.MemoryManager");
    }

    // ------------------------------------------------------------------ warn_alloc

    /**
     * {@code warn_alloc(gfp, nodemask, "page allocation failure: order:%u", order)} of
     * {@code mm/page_alloc.c}: silent with __GFP_NOWARN, when ratelimited (10 s, burst 1), or for a
     * __GFP_DMA request on a machine without a managed DMA zone ({@code !has_managed_dma()}; tested
     * after the ratelimit, as the kernel does, so such a call still uses up the interval's burst).
     * Else the failure line, {@code dump_stack()} ({@link DumpStack}) and
     * {@code warn_alloc_show_mem()}. Records a {@code memscope.AllocFailure} JFR event in every case.
     */
    void warnAlloc(int gfp, int order, long nodemask, Task task) {
        AllocFailureEvent ev = new AllocFailureEvent();
        if (ev.shouldCommit()) {
            ev.order = order;
            ev.gfp = gfp;
            ev.gfpText = gfpReport(gfp);
            ev.commit();
        }
        Ratelimit rs = warnAllocRs;
        if ((gfp & Gfp.NOWARN) != 0 || !rs.allow()) {
            return;
        }
        // ___ratelimit() prints "callbacks suppressed" itself when an interval with misses ends,
        // whatever its caller does next.
        int suppressed = rs.takeSuppressed();
        List<String> lines = new ArrayList<>();
        if (suppressed > 0) {
            lines.add(rs.suppressedLine(suppressed));
        }
        if ((gfp & Gfp.DMA) != 0 && !hasManagedDma()) {
            if (!lines.isEmpty()) {
                a.log.printk(KernelLog.Level.WARNING, lines);
            }
            return;
        }
        lines.add(failureLine(task.comm(), gfp, order, nodemask, task.memsAllowed()));
        lines.addAll(DumpStack.lines(task, a.currentSlot(), AllocReports.class));
        lines.addAll(warnAllocShowMem(gfp, nodemask, task).lines().toList());
        a.log.printk(KernelLog.Level.WARNING, lines);
    }

    /** {@code has_managed_dma()}: some node's ZONE_DMA has managed pages. */
    boolean hasManagedDma() {
        for (Zone z : a.zones) {
            if (z.type == ZoneType.DMA && z.managedPages() > 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code warn_alloc_show_mem()}: {@code show_mem} limited to the zones the request could use
     * ({@code gfp_zone(gfp)} and below) and, with {@code SHOW_MEM_FILTER_NODES}, to its nodes. The
     * node filter is dropped for PF_MEMALLOC, PF_EXITING and OOM-victim tasks (unless
     * __GFP_NOMEMALLOC), outside task context, and for requests that cannot reclaim directly.
     */
    String warnAllocShowMem(int gfp, long nodemask, Task task) {
        boolean filterNodes = true;
        if ((gfp & Gfp.NOMEMALLOC) == 0
                && (task.isOomVictim() || (task.flags() & (Task.PF_MEMALLOC | Task.PF_EXITING)) != 0)) {
            filterNodes = false;
        }
        if (!task.inTask() || (gfp & Gfp.DIRECT_RECLAIM) == 0) {
            filterNodes = false;
        }
        ZoneType highest = ZoneType.forGfp(gfp);
        int maxZoneIdx = highest.isReal() ? highest.ordinal() : ZoneType.COUNT - 1;
        long nodes = -1L;
        if (filterNodes) {
            nodes = nodemask != -1L ? nodemask
                    : task.memsAllowed() == Task.ALL_NODES ? -1L : task.memsAllowed();
        }
        return showMem(maxZoneIdx, nodes);
    }

    /** The first line of {@code warn_alloc}, e.g. {@code main: page allocation failure: order:0, mode:0x820(GFP_ATOMIC), nodemask=(null),cpuset=/,mems_allowed=0}. */
    public String failureLine(String comm, int gfp, int order, long nodemask, long memsAllowed) {
        return comm + ": page allocation failure: order:" + order + ", mode:" + gfpReport(gfp) + ", nodemask="
                + (nodemask == -1L ? "(null)" : nodeList(nodemask)) + ",cpuset=/,mems_allowed="
                + nodeList(memsAllowed == Task.ALL_NODES ? (1L << a.nodes()) - 1 : memsAllowed);
    }

    /** {@code %*pbl}: a bitmap as a range list, e.g. {@code 0-1,3}. */
    static String nodeList(long mask) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < 64) {
            if ((mask & (1L << i)) == 0) {
                i++;
                continue;
            }
            int j = i;
            while (j + 1 < 64 && (mask & (1L << (j + 1))) != 0) {
                j++;
            }
            sb.append(sb.isEmpty() ? "" : ",").append(i).append(i == j ? "" : "-" + j);
            i = j + 1;
        }
        return sb.toString();
    }

    /** {@code show_mem()}: every zone of every node (the part memscope's allocator knows; other counters print 0). */
    public String showMem() {
        return showMem(ZoneType.COUNT - 1, -1L);
    }

    /**
     * {@code __show_mem(filter, nodemask, max_zone_idx)} ({@code mm/show_mem.c}): the per-zone lines
     * and {@code free_pcp} cover only zones with index at most {@code maxZoneIdx} on the nodes of
     * {@code nodes} (-1 = all); the global {@code free:} and {@code pages RAM} count everything.
     */
    String showMem(int maxZoneIdx, long nodes) {
        StringBuilder sb = new StringBuilder("Mem-Info:\n");
        long free = 0;
        long pcp = 0;
        List<Zone> shown = new ArrayList<>();
        for (Zone z : a.zones) {
            free += z.freePages();
            if (z.idx <= maxZoneIdx && (nodes & (1L << z.nid)) != 0) {
                shown.add(z);
                pcp += a.pcpPages(z);
            }
        }
        sb.append("active_anon:0 inactive_anon:0 isolated_anon:0\n active_file:0 inactive_file:0 isolated_file:0\n")
                .append(" unevictable:0 dirty:0 writeback:0\n slab_reclaimable:0 slab_unreclaimable:0\n")
                .append(" mapped:0 shmem:0 pagetables:0\n sec_pagetables:0 bounce:0\n kernel_misc_reclaimable:0\n")
                .append(" free:").append(free).append(" free_pcp:").append(pcp).append(" free_cma:0\n");
        for (Zone z : shown) {
            long zpcp = a.pcpPages(z);
            sb.append("Node ").append(z.nid).append(' ').append(z.name())
                    .append(" free:").append(kb(z.freePages())).append("kB boost:0kB min:").append(kb(z.minWmark()))
                    .append("kB low:").append(kb(z.lowWmark())).append("kB high:").append(kb(z.highWmark()))
                    .append("kB reserved_highatomic:").append(kb(z.nrReservedHighatomic))
                    .append("KB free_highatomic:").append(kb(z.nrFreeHighatomic))
                    .append("KB active_anon:0kB inactive_anon:0kB active_file:0kB inactive_file:0kB unevictable:0kB")
                    .append(" writepending:0kB present:").append(kb(z.managedPages())).append("kB managed:")
                    .append(kb(z.managedPages())).append("kB mlocked:0kB bounce:0kB free_pcp:").append(kb(zpcp))
                    .append("kB local_pcp:").append(kb(z.pcp[a.currentSlot()].countRacy()))
                    .append("kB free_cma:0kB\n");
            sb.append("lowmem_reserve[]:");
            for (long r : z.lowmemReserve) {
                sb.append(' ').append(r);
            }
            sb.append('\n');
        }
        for (Zone z : shown) {
            sb.append(freeAreaLine(z)).append('\n');
        }
        sb.append(a.totalPages()).append(" pages RAM\n0 pages reserved");
        return sb.toString();
    }

    /** One zone's {@code "Node 0 Normal: 1*4kB (M) 0*8kB ... = 4kB"} line. Takes the zone lock. */
    String freeAreaLine(Zone z) {
        StringBuilder sb = new StringBuilder("Node " + z.nid + " " + z.name() + ": ");
        long total = 0;
        z.lock.lock();
        try {
            for (int o = 0; o <= Gfp.MAX_PAGE_ORDER; o++) {
                int n = z.area.countOrder(o);
                total += (long) n << o;
                sb.append(n).append('*').append(4L << o).append("kB ");
                if (n > 0) {
                    sb.append('(');
                    String letters = "UMEH";
                    for (int mt = 0; mt < MigrateType.COUNT; mt++) {
                        if (z.area.count(o, mt) > 0) {
                            sb.append(letters.charAt(mt));
                        }
                    }
                    sb.append(") ");
                }
            }
        } finally {
            z.lock.unlock();
        }
        return sb.append("= ").append(kb(total)).append("kB").toString();
    }

    private static long kb(long pages) {
        return pages * 4;
    }

    /** {@code /proc/buddyinfo}. */
    public String buddyinfo() {
        StringBuilder sb = new StringBuilder();
        for (Zone z : a.zones) {
            long[] n = new long[Gfp.NR_PAGE_ORDERS];
            z.lock.lock();
            try {
                for (int o = 0; o < n.length; o++) {
                    n[o] = z.area.countOrder(o);
                }
            } finally {
                z.lock.unlock();
            }
            sb.append(KernelText.buddyinfoLine(z.nid, z.name(), n)).append('\n');
        }
        return sb.toString();
    }

    /** {@code /proc/meminfo}: the lines the page allocator knows, in the kernel's order. */
    public Map<String, Long> meminfoValues() {
        long free = 0;
        long reserve = 0;
        for (Zone z : a.zones) {
            free += z.freePages();
            long maxRes = 0;
            for (long r : z.lowmemReserve) {
                maxRes = Math.max(maxRes, r);
            }
            reserve += Math.min(maxRes + z.highWmark(), z.managedPages()); // calculate_totalreserve_pages
        }
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("MemTotal", kb(a.totalPages()));
        m.put("MemFree", kb(free));
        m.put("MemAvailable", kb(Math.max(0, free - reserve)));
        m.put("Buffers", 0L);
        m.put("Cached", 0L);
        return m;
    }

    /** {@code /proc/meminfo} text. */
    public String meminfo() {
        return KernelText.meminfo(meminfoValues());
    }

    // ------------------------------------------------------------------ misuse

    /** Diagnoses a bad free and throws the matching named exception. */
    void badFree(long handle, int order) {
        PageTable pt = a.pt;
        int pfn = PageHandle.pfn(handle);
        int w = pt.flagsWord(pfn);
        int st = PageTableDescriptor.state(w);
        String stacks = a.debug != null ? a.debug.stacks(pfn) : "";
        String who = "__free_pages(" + PageHandle.toString(handle) + ", order " + order + "): ";
        if (st == STATE_ALLOC && pt.gen(pfn) == PageHandle.generation(handle)) {
            throw new WrongOrderFreeException(who + "expected order " + PageTableDescriptor.order(w)
                    + " (the allocation's), found order " + order + stacks);
        }
        if (st == PageTableDescriptor.STATE_NONE) {
            for (int o = 1; o <= Gfp.MAX_PAGE_ORDER; o++) {
                int head = pfn & ~((1 << o) - 1);
                int hw = pt.flagsWord(head);
                if (PageTableDescriptor.state(hw) == STATE_ALLOC && PageTableDescriptor.order(hw) >= o) {
                    throw new TailPageFreeException(who + "expected the head of a block, found page "
                            + (pfn - head) + " of the order-" + PageTableDescriptor.order(hw) + " block at pfn 0x"
                            + Integer.toHexString(head) + (a.debug != null ? a.debug.stacks(head) : ""));
                }
            }
        }
        int gen = pt.gen(pfn);
        if (st != STATE_ALLOC && gen == PageTableDescriptor.nextGen(PageHandle.generation(handle))) {
            throw new DoubleFreeException(who + "expected an allocated block, found it already freed ("
                    + PageTableDescriptor.stateName(st) + ")" + stacks);
        }
        if (gen != PageHandle.generation(handle) && (st == STATE_ALLOC || gen != 1)) {
            throw new StaleHandleException(who + "expected generation " + PageHandle.generation(handle)
                    + ", found " + gen + " (" + PageTableDescriptor.stateName(st) + "): the block was freed"
                    + " and possibly reused" + stacks);
        }
        throw new NotAllocatedFreeException(who + "expected an allocated block, found "
                + PageTableDescriptor.stateName(st) + " page" + stacks);
    }

    /** Throws {@link StaleHandleException} for a handle whose block is not live. */
    void staleHandle(long handle) {
        int pfn = PageHandle.pfn(handle);
        throw new StaleHandleException("use of " + PageHandle.toString(handle) + ": expected an allocated block of"
                + " generation " + PageHandle.generation(handle) + ", found "
                + PageTableDescriptor.stateName(a.pt.state(pfn)) + " page of generation " + a.pt.genOpaque(pfn)
                + (a.debug != null ? a.debug.stacks(pfn) : ""));
    }

    /** The GFP_ZONE_BAD misuse, built off the fast path (string concatenation makes a method too big to inline). */
    static InvalidGfpMaskException badZoneMask(int gfp) {
        return new InvalidGfpMaskException("gfp_zone: expected a valid zone-modifier combination, found "
                + gfpReport(gfp & Gfp.ZONEMASK) + " (GFP_ZONE_BAD)");
    }

    /**
     * __GFP_MOVABLE with __GFP_RECLAIMABLE: {@code gfp_migratetype()}'s VM_WARN_ON, after which the
     * kernel would index its per-type fallback table out of bounds. Refused before anything changes.
     */
    static InvalidGfpMaskException badMigratetypeMask(int gfp) {
        return new InvalidGfpMaskException("gfp_migratetype: expected at most one of __GFP_MOVABLE and "
                + "__GFP_RECLAIMABLE, found " + gfpReport(gfp & (Gfp.MOVABLE | Gfp.RECLAIMABLE)));
    }
}
