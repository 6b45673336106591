package io.memscope.vmalloc;

import io.memscope.debug.DumpStack;
import io.memscope.debug.KernelLog;
import io.memscope.debug.Ratelimit;
import io.memscope.gfp.Gfp;
import io.memscope.gfp.GfpFormat;
import io.memscope.locking.Lockdep;
import io.memscope.page.NativeCallException;
import io.memscope.page.PageAllocator;
import io.memscope.page.PageHandle;
import io.memscope.page.VmapArea;
import io.memscope.sched.Jiffies;
import io.memscope.sched.Memalloc;
import io.memscope.sched.Task;
import io.memscope.slab.KmemCache;
import io.memscope.slab.Slab;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A machine's vmalloc: virtually contiguous areas built from order-0 pages
 * ({@code mm/vmalloc.c}: {@code __vmalloc_node_range_noprof}, {@code __vmalloc_area_node},
 * {@code vm_area_alloc_pages}, {@code vfree}), and kvmalloc ({@code __kvmalloc_node_noprof},
 * now in {@code mm/slub.c}).
 *
 * <p><b>The seed's bug, and the cure.</b> The mapping step allocates page-table pages with a
 * hard-coded {@code GFP_KERNEL} ({@code pte_alloc_kernel}), whatever mask the caller passed. Before
 * Linux 5.17 that made {@code __vmalloc(size, GFP_NOFS)} able to recurse into the file system
 * (seeds/003). Since 5.17 {@code __vmalloc_area_node} wraps the mapping in a scope chosen from the
 * caller's mask ({@code memalloc_apply_gfp_scope}: non-blocking or {@code __GFP_NORETRY}/
 * {@code __GFP_RETRY_MAYFAIL} → {@code memalloc_noreclaim_save}; {@code GFP_NOFS} →
 * {@code memalloc_nofs_save}; {@code GFP_NOIO} → {@code memalloc_noio_save}), so the hard-coded
 * {@code GFP_KERNEL} becomes the caller's restriction through {@code current_gfp_context()}.
 * memscope does the same by default; {@code legacyVmallocGfp} reproduces the old behaviour (no
 * scope; and kvmalloc only falls back to vmalloc for masks that include {@code GFP_KERNEL}), so
 * lockdep's {@code fs_reclaim} annotation reports the seed's scenario.
 *
 * <p><b>Memory.</b> See {@link VmArea}: one contiguous segment on memfd machines, a scatter view
 * otherwise. Page-table pages are real pages holding one 8-byte PTE per page.
 *
 * <p><b>Threads.</b> Every method may be called from any thread. {@code vmalloc} may sleep (page
 * allocation, mmap); {@code vfree} may sleep in task context and is deferred from interrupt
 * context ({@code vfree_atomic}); from NMI it is refused.
 */
public final class Vmalloc implements AutoCloseable {
    /** Where memscope's synthetic vmalloc addresses start on machines without memfd (x86-64's {@code VMALLOC_START}). */
    public static final long VMALLOC_START = 0xffffc90000000000L;
    /** {@code PTRS_PER_PTE}: PTEs per page-table page. */
    public static final int PTRS_PER_PTE = 512;
    /** {@code GFP_VMALLOC_SUPPORTED} (mm/vmalloc.c, 6.19 with the {@code __GFP_RETRY_MAYFAIL} fix). */
    public static final int GFP_VMALLOC_SUPPORTED = Gfp.KERNEL | Gfp.ATOMIC | Gfp.NOWAIT | Gfp.NOFAIL | Gfp.ZERO
            | Gfp.NORETRY | Gfp.RETRY_MAYFAIL | Gfp.NOFS | Gfp.NOIO | Gfp.KERNEL_ACCOUNT | Gfp.USER | Gfp.NOLOCKDEP;
    /** {@code sizeof(struct vm_struct)} on x86-64. */
    static final int VM_STRUCT_SIZE = 72;
    private static final int PAGE_SIZE = 4096;

    private final PageAllocator pa;
    private final Slab slab;
    private final KernelLog log;
    private final Lockdep lockdep;
    private final boolean legacyGfp;
    private final KmemCache vmapAreaCache;
    private final MemorySegment mem;
    private final long base;
    private final ConcurrentSkipListMap<Long, VmArea> areas = new ConcurrentSkipListMap<>(Long::compareUnsigned);
    private final AtomicLong nextAddr = new AtomicLong(VMALLOC_START);
    private final ConcurrentLinkedQueue<VmArea> deferred = new ConcurrentLinkedQueue<>();
    private final AtomicLong nrPages = new AtomicLong();
    /** warn_alloc's {@code nopage_rs}: 10 s, burst 1. */
    private final Ratelimit warnRs = new Ratelimit("warn_alloc", 10_000_000_000L, 1, System::nanoTime);

    /**
     * vmalloc over {@code pa}, with metadata from {@code slab}.
     *
     * @param lockdep   for {@code might_sleep()} in vfree; null for none
     * @param legacyGfp reproduce the pre-5.17 behaviour (see the class comment)
     */
    public Vmalloc(PageAllocator pa, Slab slab, KernelLog log, Lockdep lockdep, boolean legacyGfp) {
        this.pa = Objects.requireNonNull(pa, "pa");
        this.slab = Objects.requireNonNull(slab, "slab");
        this.log = Objects.requireNonNull(log, "log");
        this.lockdep = lockdep;
        this.legacyGfp = legacyGfp;
        this.vmapAreaCache = slab.createCache("vmap_area", 64, 0, io.memscope.slab.SlabFlags.NO_MERGE, null);
        this.mem = pa.memory();
        this.base = mem.address();
    }

    // ================================================================== vmalloc

    /** {@code vmalloc(size)}: {@code GFP_KERNEL}; null on failure. May sleep. */
    public VmArea vmalloc(long size) {
        return vmallocNodeRange(size, Gfp.KERNEL, false);
    }

    /** {@code vzalloc(size)}: zeroed. */
    public VmArea vzalloc(long size) {
        return vmallocNodeRange(size, Gfp.KERNEL | Gfp.ZERO, false);
    }

    /**
     * {@code __vmalloc(size, gfp)}: bits outside {@link #GFP_VMALLOC_SUPPORTED} are stripped with
     * the kernel's WARN ({@code vmalloc_fix_flags}: "Unexpected gfp: ... Fix your code!"), then the
     * area is built with the caller's mask. Null on failure.
     */
    public VmArea vmallocGfp(long size, int gfp) {
        if ((gfp & ~GFP_VMALLOC_SUPPORTED) != 0) {
            int invalid = gfp & ~GFP_VMALLOC_SUPPORTED;
            gfp &= GFP_VMALLOC_SUPPORTED;
            log.warnOnce("vmalloc_fix_flags", fixFlagsLine(invalid, gfp));
        }
        return vmallocNodeRange(size, gfp, false);
    }

    static String fixFlagsLine(int invalid, int fixed) {
        return "Unexpected gfp: 0x" + Integer.toHexString(invalid) + " (" + GfpFormat.formatFlags(invalid)
                + "). Fixing up to gfp: 0x" + Integer.toHexString(fixed) + " (" + GfpFormat.formatFlags(fixed)
                + "). Fix your code!";
    }

    /** {@code __vmalloc_node_range_noprof()} + {@code __vmalloc_area_node()}: the unfiltered entry point. */
    VmArea vmallocNodeRange(long size, int gfp, boolean nested) {
        if (size < 0) {
            throw new IllegalArgumentException("vmalloc: expected a size >= 0, found " + size);
        }
        Task task = Task.current();
        if (!task.inInterrupt()) {
            drainDeferred();
        }
        long rounded = (size + PAGE_SIZE - 1) & -PAGE_SIZE;
        int nr = (int) Math.min(Integer.MAX_VALUE, rounded >>> 12);
        if (rounded >>> 12 > pa.totalPages()) {
            warnAlloc(gfp, "vmalloc error: size " + size + ", exceeds total pages");
            return null;
        }
        // get_vm_area: vm_struct and vmap_area with the caller's reclaim bits.
        int metaGfp = gfp & Gfp.RECLAIM_MASK;
        long vmStruct = size == 0 ? Slab.NULL : slab.kzalloc(VM_STRUCT_SIZE, metaGfp);
        long va = vmStruct == Slab.NULL ? KmemCache.NULL : vmapAreaCache.alloc(metaGfp);
        if (va == KmemCache.NULL) {
            if (vmStruct != Slab.NULL) {
                slab.kfree(vmStruct);
            }
            warnAlloc(gfp, "vmalloc error: size " + size + ", vm_struct allocation failed");
            return null;
        }
        VmArea area = new VmArea(0L, rounded, new long[nr], new int[nr], nested ? "__vmalloc_area_node" : caller(), gfp);
        area.vmStruct = vmStruct;
        area.vmapArea = va;
        // The pages array: kmalloc up to a page, a nested vmalloc above (the recursion is bounded).
        int nestedGfp = (gfp & Gfp.RECLAIM_MASK) | Gfp.ZERO;
        long arraySize = (long) nr * 8;
        if (arraySize > PAGE_SIZE) {
            area.pagesArrayArea = vmallocNodeRange(arraySize, nestedGfp, true);
        } else {
            area.pagesArray = slab.kmalloc(arraySize, nestedGfp);
        }
        if (area.pagesArrayArea == null && area.pagesArray == Slab.NULL) {
            warnAlloc(gfp, "vmalloc error: size " + rounded + ", failed to allocated page array size " + arraySize);
            freeArea(area, 0);
            return null;
        }
        // vm_area_alloc_pages: order-0 pages with the caller's mask, silently.
        int got = 0;
        while (got < nr) {
            long h = pa.allocPages(gfp | Gfp.NOWARN, 0);
            if (h == PageHandle.NULL) {
                break;
            }
            area.pages[got] = h;
            area.pfns[got] = PageHandle.pfn(h);
            putPageEntry(area, got, h);
            got++;
        }
        if (got != nr) {
            warnAlloc(gfp, "vmalloc error: size " + (long) got * PAGE_SIZE + ", failed to allocate pages");
            freeArea(area, got);
            return null;
        }
        sortByPfn(area);
        // Map: page tables inside the scope the caller's mask asks for (5.17+), or none (legacy).
        boolean nofail = (gfp & Gfp.NOFAIL) != 0 && (gfp & Gfp.DIRECT_RECLAIM) != 0;
        long scope = legacyGfp ? SCOPE_NONE : applyGfpScope(gfp);
        boolean mapped;
        try {
            do {
                mapped = mapPages(area);
                if (!mapped && nofail) {
                    sleepOneJiffy();
                }
            } while (!mapped && nofail);
        } finally {
            restoreScope(scope);
        }
        if (!mapped) {
            warnAlloc(gfp, "vmalloc error: size " + rounded + ", failed to map pages");
            freeArea(area, nr);
            return null;
        }
        long addr = area.view instanceof VmapArea v ? v.address() : nextAddr.getAndAdd(rounded + PAGE_SIZE);
        area.addr = addr;
        VmArea live = area;
        live.live = true;
        mem.set(ValueLayout.JAVA_LONG, vmStruct - base, addr); // vm_struct.addr, .size, .nr_pages
        mem.set(ValueLayout.JAVA_LONG, vmStruct - base + 8, rounded + PAGE_SIZE);
        mem.set(ValueLayout.JAVA_INT, vmStruct - base + 24, nr);
        mem.set(ValueLayout.JAVA_LONG, va - base, addr); // va_start, va_end
        mem.set(ValueLayout.JAVA_LONG, va - base + 8, addr + rounded + PAGE_SIZE);
        areas.put(addr, live);
        nrPages.addAndGet(nr);
        return live;
    }

    /**
     * Orders the area's pages by frame number. The kernel maps pages in the order the allocator
     * returned them; any order is correct, and ascending frames let memfd mapping cover each run of
     * neighbouring frames with one {@code mmap} instead of one per page.
     */
    private void sortByPfn(VmArea area) {
        int nr = area.pages.length;
        long[] keys = new long[nr];
        for (int i = 0; i < nr; i++) {
            keys[i] = ((long) area.pfns[i] << 32) | i;
        }
        java.util.Arrays.sort(keys);
        long[] sorted = new long[nr];
        for (int i = 0; i < nr; i++) {
            sorted[i] = area.pages[(int) keys[i]];
        }
        for (int i = 0; i < nr; i++) {
            area.pages[i] = sorted[i];
            area.pfns[i] = PageHandle.pfn(sorted[i]);
            putPageEntry(area, i, sorted[i]);
        }
    }

    private void putPageEntry(VmArea area, int i, long h) {
        if (area.pagesArrayArea != null) {
            area.pagesArrayArea.view.putLong((long) i * 8, h);
        } else {
            mem.set(ValueLayout.JAVA_LONG, area.pagesArray - base + (long) i * 8, h);
        }
    }

    /**
     * {@code __vmap_pages_range()}: page-table pages allocated with the hard-coded
     * {@code GFP_KERNEL | __GFP_ZERO} of {@code pte_alloc_kernel} (so the current scope decides
     * what they may do), filled with PTEs, then the pages are mapped. False on failure (nothing
     * of this step is left allocated).
     */
    private boolean mapPages(VmArea area) {
        int nr = area.pfns.length;
        long[] ptes = new long[(nr + PTRS_PER_PTE - 1) / PTRS_PER_PTE];
        for (int i = 0; i < ptes.length; i++) {
            long h = pa.allocPages(Gfp.KERNEL | Gfp.ZERO, 0);
            if (h == PageHandle.NULL) {
                for (int j = 0; j < i; j++) {
                    pa.freePages(ptes[j]);
                }
                return false;
            }
            ptes[i] = h;
            long pteBase = ((long) PageHandle.pfn(h) << 12);
            for (int k = i * PTRS_PER_PTE, e = 0; k < Math.min(nr, (i + 1) * PTRS_PER_PTE); k++, e++) {
                mem.set(ValueLayout.JAVA_LONG, pteBase + e * 8L, ((long) area.pfns[k] << 12) | 0x63L); // present|rw|accessed|dirty
            }
        }
        try {
            area.view = pa.region().vmap(area.pfns);
        } catch (NativeCallException e) {
            for (long h : ptes) {
                pa.freePages(h);
            }
            return false;
        }
        area.ptePages = ptes;
        return true;
    }

    // ---- memalloc_apply_gfp_scope / memalloc_restore_scope ----
    static final int SCOPE_NONE = 0;
    static final int SCOPE_NORECLAIM = 1;
    static final int SCOPE_NOFS = 2;
    static final int SCOPE_NOIO = 3;

    /**
     * {@code memalloc_apply_gfp_scope(gfp)}: the first matching row wins — non-blocking or
     * {@code __GFP_NORETRY}/{@code __GFP_RETRY_MAYFAIL} → noreclaim; {@code IO} without {@code FS} →
     * nofs; neither → noio; else none. Returns the scope kind in the high word and its cookie in
     * the low word, for {@link #restoreScope}.
     */
    static long applyGfpScope(int gfp) {
        if ((gfp & Gfp.DIRECT_RECLAIM) == 0 || (gfp & (Gfp.RETRY_MAYFAIL | Gfp.NORETRY)) != 0) {
            return scope(SCOPE_NORECLAIM, Memalloc.memallocNoreclaimSave());
        }
        int fsio = gfp & (Gfp.FS | Gfp.IO);
        if (fsio == Gfp.IO) {
            return scope(SCOPE_NOFS, Memalloc.memallocNofsSave());
        }
        if (fsio == 0) {
            return scope(SCOPE_NOIO, Memalloc.memallocNoioSave());
        }
        return SCOPE_NONE;
    }

    private static long scope(int kind, int cookie) {
        return ((long) kind << 32) | (cookie & 0xffffffffL);
    }

    /** {@code memalloc_restore_scope()}. */
    static void restoreScope(long scope) {
        int cookie = (int) scope;
        switch ((int) (scope >>> 32)) {
            case SCOPE_NORECLAIM -> Memalloc.memallocNoreclaimRestore(cookie);
            case SCOPE_NOFS -> Memalloc.memallocNofsRestore(cookie);
            case SCOPE_NOIO -> Memalloc.memallocNoioRestore(cookie);
            default -> { }
        }
    }

    private static void sleepOneJiffy() {
        try {
            Thread.sleep(Jiffies.toNanos(1) / 1_000_000, (int) (Jiffies.toNanos(1) % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ================================================================== vfree

    /**
     * {@code vfree(addr)}: releases a live area (its mapping, pages, page tables and metadata).
     * {@code 0} is ignored. From interrupt context the area is unlinked now and freed later by the
     * next task-context call ({@code vfree_atomic}); from NMI it is refused.
     *
     * @throws VmallocMisuseException {@code addr} is not the start of a live area, or NMI context
     */
    public void vfree(long addr) {
        if (addr == 0) {
            return;
        }
        Task task = Task.current();
        if (task.inNmi()) {
            throw new VmallocMisuseException("vfree: expected task or interrupt context, found NMI (BUG_ON(in_nmi()))");
        }
        VmArea area = areas.remove(addr);
        if (area == null) {
            throw new VmallocMisuseException("vfree: expected the start of a live vmalloc area, found 0x"
                    + Long.toHexString(addr) + " (Trying to vfree() nonexistent vm area)");
        }
        area.live = false;
        if (task.inInterrupt()) {
            deferred.add(area);
            return;
        }
        if (lockdep != null) {
            lockdep.mightSleep();
        }
        drainDeferred();
        release(area);
    }

    /** {@link #vfree(long)} of an area. */
    public void vfree(VmArea area) {
        if (area != null) {
            vfree(area.addr);
        }
    }

    private void drainDeferred() {
        VmArea a;
        while ((a = deferred.poll()) != null) {
            release(a);
        }
    }

    private void release(VmArea area) {
        area.view.vunmap();
        for (long h : area.ptePages) {
            pa.freePages(h);
        }
        freeArea(area, area.pages.length);
        nrPages.addAndGet(-area.pages.length);
    }

    /** Frees the first {@code pages} pages, the pages array and the metadata of a (partly built) area. */
    private void freeArea(VmArea area, int pages) {
        for (int i = 0; i < pages; i++) {
            pa.freePages(area.pages[i]);
        }
        if (area.pagesArrayArea != null) {
            vfree(area.pagesArrayArea.addr);
        } else if (area.pagesArray != Slab.NULL) {
            slab.kfree(area.pagesArray);
        }
        vmapAreaCache.free(area.vmapArea);
        slab.kfree(area.vmStruct);
    }

    // ================================================================== kvmalloc

    /**
     * {@code kvmalloc(size, gfp)}: kmalloc first — for more than a page with
     * {@code kmalloc_gfp_adjust} ({@code __GFP_NOWARN}, no {@code __GFP_NOFAIL}, and no direct
     * reclaim unless {@code __GFP_RETRY_MAYFAIL}) — then vmalloc with the caller's mask. Up to a
     * page the kmalloc result is final. Above {@code INT_MAX} bytes: a WARN (unless
     * {@code __GFP_NOWARN}) and NULL. Returns an address ({@link #isVmallocAddr} tells which
     * allocator it came from), 0 on failure.
     */
    public long kvmalloc(long size, int gfp) {
        if (size < 0) {
            throw new IllegalArgumentException("kvmalloc: expected a size >= 0, found " + size);
        }
        if (size > Integer.MAX_VALUE) {
            if ((gfp & Gfp.NOWARN) == 0) {
                log.warnOnce("kvmalloc:INT_MAX", "WARNING: kvmalloc: size " + size + " exceeds INT_MAX");
            }
            return 0;
        }
        long p = slab.kmalloc(size, kmallocGfpAdjust(gfp, size));
        if (p != Slab.NULL || size <= PAGE_SIZE) {
            return p;
        }
        if (legacyGfp && (gfp & Gfp.KERNEL) != Gfp.KERNEL) {
            return 0; // <= 5.16: only GFP_KERNEL-compatible masks fall back to vmalloc
        }
        VmArea a = vmallocNodeRange(size, gfp, false);
        return a == null ? 0 : a.addr;
    }

    /** {@code kvzalloc(size, gfp)}. */
    public long kvzalloc(long size, int gfp) {
        return kvmalloc(size, gfp | Gfp.ZERO);
    }

    /** {@code kmalloc_gfp_adjust()}: the mask of kvmalloc's kmalloc attempt. */
    public static int kmallocGfpAdjust(int gfp, long size) {
        if (size > PAGE_SIZE) {
            gfp |= Gfp.NOWARN;
            if ((gfp & Gfp.RETRY_MAYFAIL) == 0) {
                gfp &= ~Gfp.DIRECT_RECLAIM;
            }
            gfp &= ~Gfp.NOFAIL;
        }
        return gfp;
    }

    /** {@code kvfree(addr)}: vfree for a vmalloc address, kfree otherwise. */
    public void kvfree(long addr) {
        if (isVmallocAddr(addr)) {
            vfree(addr);
        } else {
            slab.kfree(addr);
        }
    }

    // ================================================================== lookup, figures, books

    /** {@code is_vmalloc_addr()}: inside a live area (guard page included). */
    public boolean isVmallocAddr(long addr) {
        return find(addr) != null;
    }

    /** {@code find_vm_area()}: the live area containing {@code addr}, or null. */
    public VmArea find(long addr) {
        Map.Entry<Long, VmArea> e = areas.floorEntry(addr);
        if (e == null) {
            return null;
        }
        VmArea a = e.getValue();
        return Long.compareUnsigned(addr - a.addr, a.size + PAGE_SIZE) < 0 ? a : null;
    }

    /** Live areas. */
    public int nrAreas() {
        return areas.size();
    }

    /** Pages held by live areas (meminfo {@code VmallocUsed}). */
    public long nrPages() {
        return nrPages.get();
    }

    /** {@code /proc/vmallocinfo}: one line per area, size including the guard page. */
    public String vmallocinfo() {
        StringBuilder sb = new StringBuilder();
        for (VmArea a : areas.values()) {
            sb.append(String.format(Locale.ROOT, "0x%016x-0x%016x %7d %s pages=%d vmalloc N0=%d%n", a.addr,
                    a.addr + a.size + PAGE_SIZE, a.size + PAGE_SIZE, a.caller, a.pages.length, a.pages.length));
        }
        return sb.toString();
    }

    /** Checks that the live areas' pages add up; returns the number of errors (logged). */
    public int validate() {
        long sum = 0;
        for (VmArea a : areas.values()) {
            sum += a.pages.length;
        }
        for (VmArea a : deferred) {
            sum += a.pages.length;
        }
        if (sum != nrPages.get()) {
            log.printk(KernelLog.Level.ERR, "vmalloc: expected " + sum + " pages in live areas, found "
                    + nrPages.get() + " accounted");
            return 1;
        }
        return 0;
    }

    /** Frees deferred areas and fails with {@link VmallocLeakException} when areas are still live. */
    @Override
    public void close() {
        drainDeferred();
        if (!areas.isEmpty()) {
            StringBuilder sb = new StringBuilder("vmalloc close: expected 0 live areas, found " + areas.size() + ":");
            areas.values().stream().limit(5).forEach(a -> sb.append(' ').append(a.size).append(" B from ").append(a.caller).append(';'));
            throw new VmallocLeakException(sb.toString());
        }
        vmapAreaCache.destroy();
    }

    // ---- reports ----

    /** {@code warn_alloc(gfp, NULL, fmt)}: the message, mode and stack; silent with {@code __GFP_NOWARN} or when rate-limited. */
    private void warnAlloc(int gfp, String what) {
        if ((gfp & Gfp.NOWARN) != 0 || !warnRs.allow()) {
            return;
        }
        Task t = Task.current();
        List<String> lines = new ArrayList<>();
        lines.add(t.comm() + ": " + what + ", mode:" + GfpFormat.report(gfp) + ", nodemask=(null),cpuset=/,mems_allowed=0"
                + (pa.nodes() > 1 ? "-" + (pa.nodes() - 1) : ""));
        lines.addAll(DumpStack.lines(t, Vmalloc.class));
        log.printk(KernelLog.Level.WARNING, lines);
    }

    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

    /** The first frame outside memscope-core, as {@code %pS} of the caller. */
    private static String caller() {
        java.security.CodeSource own = Vmalloc.class.getProtectionDomain().getCodeSource();
        return WALKER.walk(s -> s.filter(f -> {
            java.security.CodeSource cs = f.getDeclaringClass().getProtectionDomain().getCodeSource();
            return own == null || cs == null || !Objects.equals(own.getLocation(), cs.getLocation());
        }).findFirst().map(f -> f.getClassName() + "." + f.getMethodName() + ":" + f.getLineNumber()).orElse("?"));
    }
}
