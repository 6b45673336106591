package io.memscope.slab;

import io.memscope.debug.DumpStack;
import io.memscope.debug.KernelLog;
import io.memscope.debug.Ratelimit;
import io.memscope.gfp.Gfp;
import io.memscope.gfp.GfpFormat;
import io.memscope.sched.Task;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The slab layer's reports, in the kernel's words and shapes: {@code kmalloc_fix_flags()},
 * {@code slab_out_of_memory()}, {@code slab_bug()}/{@code object_err()}/{@code print_trailer()},
 * {@code check_bytes_and_report()}, the hex dumps of {@code print_section()}, and the named
 * exceptions memscope raises for misuse (what was expected, what was found).
 *
 * <p>Reports go to the machine's {@link KernelLog}: {@code pr_warn}/{@code pr_err} lines, not
 * {@code WARN}, so {@code panicOnWarn} does not turn them into panics (as in the kernel).
 */
final class SlabReports {
    /** {@code DEFAULT_RATELIMIT_INTERVAL} (5 s) and {@code DEFAULT_RATELIMIT_BURST} (10) of {@code slub_oom_rs}. */
    private final Ratelimit oomRs = new Ratelimit("slab_out_of_memory", 5_000_000_000L, 10, System::nanoTime);
    private final KernelLog log;
    private final Slab slab;

    SlabReports(Slab slab, KernelLog log) {
        this.slab = slab;
        this.log = log;
    }

    /**
     * {@code kmalloc_fix_flags()}: strips {@code GFP_SLAB_BUG_MASK} bits with
     * "Unexpected gfp: %#x (%pGg). Fixing up to gfp: %#x (%pGg). Fix your code!" and a stack dump.
     * Returns the fixed mask.
     */
    int kmallocFixFlags(int gfp) {
        int invalid = gfp & Slab.GFP_SLAB_BUG_MASK;
        int fixed = gfp & ~Slab.GFP_SLAB_BUG_MASK;
        List<String> lines = new ArrayList<>();
        lines.add(fixFlagsLine(invalid, fixed));
        lines.addAll(DumpStack.lines(Task.current(), SlabReports.class));
        log.printk(KernelLog.Level.WARNING, lines);
        return fixed;
    }

    static String fixFlagsLine(int invalid, int fixed) {
        return "Unexpected gfp: 0x" + Integer.toHexString(invalid) + " (" + GfpFormat.formatFlags(invalid)
                + "). Fixing up to gfp: 0x" + Integer.toHexString(fixed) + " (" + GfpFormat.formatFlags(fixed)
                + "). Fix your code!";
    }

    /** {@code slab_out_of_memory()}: rate-limited, silent with {@code __GFP_NOWARN}. */
    void slabOutOfMemory(KmemCache s, int gfp, int nid) {
        if ((gfp & Gfp.NOWARN) != 0 || !oomRs.allow()) {
            return;
        }
        List<String> lines = new ArrayList<>();
        int slot = slab.pages().cpuSlot(Task.current());
        lines.add("SLUB: Unable to allocate memory on CPU " + slot + " (of node " + slab.pages().slotNode(slot)
                + ") on node " + nid + ", gfp=" + GfpFormat.report(gfp));
        lines.add("  cache: " + s.name() + ", object size: " + s.objectSize + ", buffer size: " + s.size
                + ", default order: " + s.order + ", min order: " + s.minOrder);
        if (s.minOrder > SlabGeometry.getOrder(s.objectSize)) {
            lines.add("  " + s.name() + " debugging increased min order, use slab_debug=O to disable.");
        }
        for (int n = 0; n < s.nodes.length; n++) {
            SlabNode node = s.nodes[n];
            long free;
            node.lock.lock();
            try {
                free = node.countFree();
            } finally {
                node.lock.unlock();
            }
            lines.add("  node " + n + ": slabs: " + node.nrSlabs + ", objs: " + node.totalObjects + ", free: " + free);
        }
        log.printk(KernelLog.Level.WARNING, lines);
    }

    // ---- misuse: named exceptions ----

    ForeignObjectException outsideMemory(String fn, long obj, long base, long size) {
        return new ForeignObjectException(fn + ": expected an object address in this machine's memory "
                + hex(base) + "-" + hex(base + size - 1) + ", found " + hex(obj));
    }

    ForeignObjectException notSlab(String fn, long obj, int pfn) {
        return new ForeignObjectException(fn + ": expected an object from kmalloc or a slab cache, found " + hex(obj)
                + " in pfn 0x" + Integer.toHexString(pfn) + ", which is not a slab or large kmalloc page");
    }

    ForeignObjectException notAnObject(KmemCache s, int head, long obj) {
        return new ForeignObjectException("kfree: expected the start of an object of " + s.name() + " (stride "
                + s.size + " B) in the slab at pfn 0x" + Integer.toHexString(head) + ", found " + hex(obj)
                + " (Invalid object pointer)");
    }

    ForeignObjectException notLargeStart(long obj, long start) {
        return new ForeignObjectException("kfree: expected the start " + hex(start)
                + " of a large kmalloc block, found " + hex(obj));
    }

    ForeignObjectException wrongCache(KmemCache expected, KmemCache found, long obj) {
        return new ForeignObjectException("kmem_cache_free: expected an object of " + expected.name() + ", found "
                + hex(obj) + " from " + (found == null ? "a destroyed cache" : found.name()) + " (Wrong slab cache)");
    }

    SlabDoubleFreeException naiveDoubleFree(KmemCache s, long obj) {
        return new SlabDoubleFreeException("kfree: expected an allocated object of " + s.name() + ", found " + hex(obj)
                + " already free (naive double-free check; enable slab debug for every case and both stacks)");
    }

    SlabCacheLeakException stillHasObjects(KmemCache s, long live) {
        StringBuilder sb = new StringBuilder("kmem_cache_destroy " + s.name()
                + ": Slab cache still has objects: expected 0 objects in use, found " + live);
        if (s.dbg != null) {
            String sites = s.dbg.liveAllocationSites(5);
            if (!sites.isEmpty()) {
                sb.append("; top allocation sites:\n").append(sites);
            }
        }
        log.printk(KernelLog.Level.ERR, sb.toString());
        return new SlabCacheLeakException(sb.toString());
    }

    // ---- SLUB debug reports ----

    /** {@code slab_bug()}'s banner. */
    static void bug(List<String> out, KmemCache s, String what) {
        out.add("=============================================================================");
        out.add("BUG " + s.name() + " (Not tainted): " + what);
        out.add("-----------------------------------------------------------------------------");
        out.add("");
    }

    /** {@code print_section()}: a hex dump, 16 bytes a line, with the address and the printable bytes. */
    static void section(List<String> out, String text, MemorySegment mem, long base, long addr, int len) {
        for (int off = 0; off < len; off += 16) {
            StringBuilder hexs = new StringBuilder();
            StringBuilder ascii = new StringBuilder();
            int n = Math.min(16, len - off);
            for (int i = 0; i < n; i++) {
                int b = mem.get(ValueLayout.JAVA_BYTE, addr - base + off + i) & 0xff;
                hexs.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "%02x", b));
                ascii.append(b >= 0x20 && b < 0x7f ? (char) b : '.');
            }
            out.add(text + String.format(Locale.ROOT, "%016x", addr + off) + ": "
                    + String.format(Locale.ROOT, "%-47s", hexs) + "  " + ascii);
        }
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
