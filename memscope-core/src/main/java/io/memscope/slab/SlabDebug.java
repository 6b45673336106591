package io.memscope.slab;

import io.memscope.debug.KernelLog;
import io.memscope.page.PageTable;
import io.memscope.page.PageTableDescriptor;
import io.memscope.sched.Jiffies;
import io.memscope.sched.Task;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * SLUB debugging for one cache ({@code slab_debug=FZPU}; {@code mm/slub.c}
 * {@code alloc_debug_processing}, {@code free_debug_processing}, {@code check_object},
 * {@code init_object}, {@code set_track}, {@code on_freelist}).
 *
 * <p><b>What it catches.</b> With {@link SlabFlags#CONSISTENCY_CHECKS}, every double free
 * ("Object already free", found on the slab's free list) with the allocating and freeing stacks
 * ({@link SlabFlags#STORE_USER}); with {@link SlabFlags#RED_ZONE}, writes before or after an
 * object (guard bytes {@code 0xbb} while free, {@code 0xcc} while allocated); with
 * {@link SlabFlags#POISON}, writes to a free object — use after free — when the object is next
 * allocated or the cache is validated (free objects hold {@code 0x6b…0x6b 0xa5}). A double free is
 * refused (named exception, nothing changes); corrupted guard bytes are reported and restored, and
 * the operation goes on, as the kernel does.
 *
 * <p><b>Costs.</b> Debug caches bypass the per-CPU sheaves: every allocation and free takes the
 * node lock, walks the slab's free list and checks bytes; tracking captures a stack. Never used in
 * benchmarks. Tracks live in concurrent maps keyed by object address (the kernel keeps them in the
 * object's metadata area with stack-depot handles).
 */
final class SlabDebug {
    static final byte POISON_FREE = 0x6b;
    static final byte POISON_END = (byte) 0xa5;
    static final byte RED_INACTIVE = (byte) 0xbb;
    static final byte RED_ACTIVE = (byte) 0xcc;

    /** {@code struct track}: where, when, on which slot and task an object was allocated or freed. */
    record Track(StackTraceElement[] stack, long jiffies, int cpu, long pid) {}

    private final KmemCache s;
    private final Slab slab;
    private final MemorySegment mem;
    private final long base;
    private final PageTable pt;
    private final Map<Long, Track> allocTracks = new ConcurrentHashMap<>();
    private final Map<Long, Track> freeTracks = new ConcurrentHashMap<>();

    SlabDebug(KmemCache s, Slab slab) {
        this.s = s;
        this.slab = slab;
        this.mem = slab.pages().memory();
        this.base = mem.address();
        this.pt = slab.pages().pageTable();
    }

    private boolean has(int flag) {
        return (s.flags & flag) != 0;
    }

    /** {@code init_object(s, obj, SLUB_RED_INACTIVE)} for an object that becomes free. */
    void initFreeObject(long obj) {
        if (has(SlabFlags.RED_ZONE)) {
            fill(obj - s.redLeftPad, s.redLeftPad, RED_INACTIVE);
            fill(obj + s.objectSize, s.inuse - s.objectSize, RED_INACTIVE);
        }
        if (has(SlabFlags.POISON)) {
            fill(obj, s.objectSize - 1, POISON_FREE);
            mem.set(ValueLayout.JAVA_BYTE, obj - base + s.objectSize - 1, POISON_END);
        }
    }

    /** {@code alloc_debug_processing()}: the object taken from a slab must still be intact. */
    long alloc(int gfp, Task t) {
        long obj = s.allocFromSlab(gfp, slab.pages().slotNode(slab.pages().cpuSlot(t)));
        if (obj == KmemCache.NULL) {
            return obj;
        }
        List<String> report = new ArrayList<>();
        checkObject(obj, RED_INACTIVE, report);
        if (!report.isEmpty()) {
            slab.log().printk(KernelLog.Level.ERR, report);
        }
        if (has(SlabFlags.RED_ZONE)) {
            fill(obj - s.redLeftPad, s.redLeftPad, RED_ACTIVE);
            fill(obj + s.objectSize, s.inuse - s.objectSize, RED_ACTIVE);
        }
        if (has(SlabFlags.STORE_USER)) {
            allocTracks.put(obj, track(t));
        }
        return obj;
    }

    /**
     * {@code free_debug_processing()}: refuses an object already on its slab's free list
     * ("Object already free", both stacks), reports corrupted red zones, then poisons and frees.
     */
    void free(long obj, int head, Task t) {
        SlabNode n = s.nodes[slab.pages().zoneOf(head).nid()];
        int discard;
        List<String> report = new ArrayList<>();
        n.lock.lock();
        try {
            if (onFreelist(head, obj)) {
                List<String> out = new ArrayList<>();
                objectErr(out, head, obj, "Object already free");
                out.add("FIX " + s.name() + ": Object at " + SlabReports.hex(obj) + " not freed");
                slab.log().printk(KernelLog.Level.ERR, out);
                throw new SlabDoubleFreeException("kfree: expected an allocated object of " + s.name() + ", found "
                        + SlabReports.hex(obj) + " already free\n" + String.join("\n", out));
            }
            checkObject(obj, RED_ACTIVE, report);
            if (has(SlabFlags.STORE_USER)) {
                freeTracks.put(obj, track(t));
            }
            initFreeObject(obj);
            discard = n.freeObject(head, obj);
        } finally {
            n.lock.unlock();
        }
        if (!report.isEmpty()) {
            slab.log().printk(KernelLog.Level.ERR, report);
        }
        if (discard != PageTableDescriptor.NIL) {
            s.discardSlab(discard);
        }
    }

    /** {@code on_freelist()}: walks the slab's free list (bounded by its object count). */
    boolean onFreelist(int head, long obj) {
        int objects = SlabPages.objects(pt, head);
        int fp = SlabPages.freelist(pt, head);
        for (int steps = 0; fp != 0 && steps <= objects; steps++) {
            long o = s.objectAt(head, fp - 1);
            if (o == obj) {
                return true;
            }
            fp = s.getFreePointer(o);
        }
        return false;
    }

    /**
     * {@code check_object()}: red zones hold {@code red}; a free object ({@code red == RED_INACTIVE})
     * of a poisoned cache holds its poison. Each broken area is reported and restored. Returns true
     * when intact.
     */
    boolean checkObject(long obj, byte red, List<String> out) {
        boolean ok = true;
        if (has(SlabFlags.RED_ZONE)) {
            ok &= checkBytes(obj, "Left Redzone", obj - s.redLeftPad, red, s.redLeftPad, out);
            ok &= checkBytes(obj, "Right Redzone", obj + s.objectSize, red, s.inuse - s.objectSize, out);
        }
        if (has(SlabFlags.POISON) && red == RED_INACTIVE) {
            ok &= checkBytes(obj, "Poison", obj, POISON_FREE, s.objectSize - 1, out);
            ok &= checkBytes(obj, "End Poison", obj + s.objectSize - 1, POISON_END, 1, out);
        }
        return ok;
    }

    /** {@code check_bytes_and_report()}: the first and last wrong byte, the trailer, then {@code restore_bytes()}. */
    private boolean checkBytes(long obj, String what, long start, byte value, int len, List<String> out) {
        long fault = -1;
        for (int i = 0; i < len; i++) {
            if (mem.get(ValueLayout.JAVA_BYTE, start - base + i) != value) {
                fault = start + i;
                break;
            }
        }
        if (fault < 0) {
            return true;
        }
        long end = start + len;
        while (end > fault && mem.get(ValueLayout.JAVA_BYTE, end - 1 - base) == value) {
            end--;
        }
        int head = SlabPages.head(pt, (int) ((obj - base) >>> 12));
        int first = mem.get(ValueLayout.JAVA_BYTE, fault - base) & 0xff;
        out.add("[" + what + " overwritten] " + SlabReports.hex(fault) + "-" + SlabReports.hex(end - 1) + " @offset="
                + (fault - s.slabAddress(head)) + ". First byte 0x" + Integer.toHexString(first) + " instead of 0x"
                + Integer.toHexString(value & 0xff));
        objectErr(out, head, obj, "Object corrupt");
        out.add("FIX " + s.name() + ": Restoring " + what + " " + SlabReports.hex(fault) + "-" + SlabReports.hex(end - 1)
                + "=0x" + Integer.toHexString(value & 0xff));
        fill(fault, (int) (end - fault), value);
        return false;
    }

    /** {@code object_err()}: banner, tracks, slab and object lines, hex dumps, the reporting stack. */
    void objectErr(List<String> out, int head, long obj, String reason) {
        SlabReports.bug(out, s, reason);
        printTrack(out, "Allocated", allocTracks.get(obj));
        printTrack(out, "Freed", freeTracks.get(obj));
        out.add("Slab 0x" + Integer.toHexString(head) + " objects=" + SlabPages.objects(pt, head) + " used="
                + SlabPages.inuse(pt, head) + " fp=" + fpString(head, SlabPages.freelist(pt, head)) + " flags="
                + pt.flagNames(head));
        out.add("Object " + SlabReports.hex(obj) + " @offset=" + (obj - s.slabAddress(head)) + " fp="
                + fpString(head, s.getFreePointer(obj)));
        out.add("");
        if (has(SlabFlags.RED_ZONE)) {
            SlabReports.section(out, "Redzone  ", mem, base, obj - s.redLeftPad, s.redLeftPad);
        }
        SlabReports.section(out, "Object   ", mem, base, obj, Math.min(s.objectSize, 4096));
        if (has(SlabFlags.RED_ZONE)) {
            SlabReports.section(out, "Redzone  ", mem, base, obj + s.objectSize, s.inuse - s.objectSize);
        }
    }

    private String fpString(int head, int idxPlusOne) {
        return idxPlusOne == 0 ? "0x0" : SlabReports.hex(s.objectAt(head, idxPlusOne - 1));
    }

    private static void printTrack(List<String> out, String what, Track t) {
        if (t == null) {
            return;
        }
        StackTraceElement[] st = t.stack();
        String where = st.length > 0 ? st[0].toString() : "?";
        out.add(what + " in " + where + " age=" + (Jiffies.fromNanos(System.nanoTime()) - t.jiffies()) + " cpu=" + t.cpu() + " pid=" + t.pid());
        for (int i = 0; i < Math.min(st.length, 16); i++) {
            out.add(" " + st[i]);
        }
    }

    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);
    private static final java.net.URL CORE = codeSource(SlabDebug.class);
    /** Whether a class is memscope-core's own (same code source), so its frames are left out of tracks. */
    private static final ClassValue<Boolean> INTERNAL = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> c) {
            return CORE != null && CORE.equals(codeSource(c));
        }
    };

    private static java.net.URL codeSource(Class<?> c) {
        java.security.CodeSource cs = c.getProtectionDomain().getCodeSource();
        return cs == null ? null : cs.getLocation();
    }

    /** {@code set_track()}: the caller's frames, memscope-core's own frames left out. */
    private Track track(Task t) {
        StackTraceElement[] st = WALKER.walk(frames -> frames.dropWhile(f -> INTERNAL.get(f.getDeclaringClass()))
                .limit(16).map(StackWalker.StackFrame::toStackTraceElement).toArray(StackTraceElement[]::new));
        return new Track(st, Jiffies.fromNanos(System.nanoTime()), slab.pages().cpuSlot(t), t.pid());
    }

    /** The most frequent allocation sites of objects still allocated, for leak reports. */
    String liveAllocationSites(int top) {
        Map<String, Long> bySite = allocTracks.entrySet().stream()
                .filter(e -> isAllocated(e.getKey()))
                .collect(Collectors.groupingBy(e -> e.getValue().stack().length > 0
                        ? e.getValue().stack()[0].toString() : "?", Collectors.counting()));
        return bySite.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()))
                .limit(top).map(e -> "  " + e.getValue() + " x " + e.getKey()).collect(Collectors.joining("\n"));
    }

    /** True when {@code obj} is in a slab of this cache and not on its free list. */
    private boolean isAllocated(long obj) {
        int pfn = (int) ((obj - base) >>> 12);
        if (pfn < 0 || pfn >= pt.pages() || !SlabPages.isSlab(pt.mapping(pfn))
                || SlabPages.cacheId(pt.mapping(pfn)) != s.id) {
            return false;
        }
        int head = SlabPages.head(pt, pfn);
        SlabNode n = s.nodes[slab.pages().zoneOf(head).nid()];
        n.lock.lock();
        try {
            return !onFreelist(head, obj);
        } finally {
            n.lock.unlock();
        }
    }

    private void fill(long addr, int len, byte v) {
        if (len > 0) {
            mem.asSlice(addr - base, len).fill(v);
        }
    }
}
