package io.memscope.page;

import static io.memscope.page.PageTableDescriptor.STATE_QUARANTINE;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Debug mode of the page allocator: page poisoning ({@code mm/page_poison.c}: free pages are filled
 * with {@code PAGE_POISON} 0xaa and checked when allocated again), allocation and free stacks for
 * every block ({@code page_owner}), and a quarantine of freed blocks (KASAN's idea) that keeps them
 * out of circulation so a stale handle is caught with certainty while its block is quarantined.
 *
 * <p>Costs: a stack capture per allocation and free, a pass over each block's bytes on free and
 * allocation. Never enabled in benchmarks. Thread-safe (maps are concurrent, the quarantine is
 * guarded by its own monitor, which is never held while calling back into the allocator's locks).
 */
final class PageDebug {
    /** {@code PAGE_POISON}. */
    static final byte PAGE_POISON = (byte) 0xaa;

    private final PageAllocator a;
    private final Map<Integer, Throwable> allocStacks = new ConcurrentHashMap<>();
    private final Map<Integer, Throwable> freeStacks = new ConcurrentHashMap<>();
    private final ArrayDeque<long[]> quarantine = new ArrayDeque<>();
    private long quarantined;
    private final Ratelimit corruptionRs = new Ratelimit();

    /** Poisoning report ratelimit: a plain counter, 60 reports per machine. */
    private static final class Ratelimit {
        private int left = 60;

        synchronized boolean allow() {
            return left-- > 0;
        }
    }

    PageDebug(PageAllocator a) {
        this.a = a;
        a.memory.fill(PAGE_POISON); // every free page starts poisoned
    }

    /** A stack record for page_owner: a throwable whose message names the thread. */
    private static Throwable stack(String what) {
        return new Throwable(what + " by thread " + Thread.currentThread().getName() + " (tid "
                + Thread.currentThread().threadId() + ")");
    }

    /** {@code check_poison_mem()} then {@code set_page_owner()}. */
    void onAlloc(int pfn, int order) {
        MemorySegment block = a.memory.asSlice((long) pfn << PageAllocConfig.PAGE_SHIFT,
                (long) PageAllocConfig.PAGE_SIZE << order);
        long bad = -1;
        long last = -1;
        long n = block.byteSize();
        for (long i = 0; i < n; i += 8) {
            if (block.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i) != 0xaaaaaaaaaaaaaaaaL) {
                for (long j = i; j < i + 8; j++) {
                    if (block.get(java.lang.foreign.ValueLayout.JAVA_BYTE, j) != PAGE_POISON) {
                        if (bad < 0) {
                            bad = j;
                        }
                        last = j;
                    }
                }
            }
        }
        if (bad >= 0 && corruptionRs.allow()) {
            a.log.warn(poisonReport(block, pfn, bad, last));
        }
        allocStacks.put(pfn, stack("allocated"));
    }

    /** The {@code pagealloc:} report: single bit error vs memory corruption, with a hex dump. */
    static String poisonReport(MemorySegment block, int pfn, long start, long end) {
        byte b = block.get(java.lang.foreign.ValueLayout.JAVA_BYTE, start);
        boolean singleBit = start == end && Integer.bitCount((b ^ PAGE_POISON) & 0xff) == 1;
        StringBuilder sb = new StringBuilder(singleBit ? "pagealloc: single bit error" : "pagealloc: memory corruption");
        long from = start & ~15L;
        for (long line = from; line <= end; line += 16) {
            sb.append('\n').append(String.format("%08x:", ((long) pfn << PageAllocConfig.PAGE_SHIFT) + line));
            for (long k = line; k < line + 16 && k < block.byteSize(); k++) {
                sb.append(String.format(" %02x", block.get(java.lang.foreign.ValueLayout.JAVA_BYTE, k) & 0xff));
            }
        }
        sb.append("\npage: pfn:0x").append(Integer.toHexString(pfn)).append("\npagealloc: corrupted page details");
        return sb.toString();
    }

    /** After {@code split_page}: every page of the block gets the head's allocation stack. */
    void onSplit(int pfn, int order) {
        Throwable t = allocStacks.get(pfn);
        for (int i = 1; i < (1 << order) && t != null; i++) {
            allocStacks.put(pfn + i, t);
        }
    }

    /**
     * Records the free stack, poisons the block and, with a quarantine, parks it (state QUARANTINE,
     * generation bumped so the handle is stale at once). Returns true when the block was parked; the
     * oldest parked blocks are released to the allocator when the quarantine overflows.
     */
    boolean onFree(int pfn, int order) {
        freeStacks.put(pfn, stack("freed"));
        a.memory.asSlice((long) pfn << PageAllocConfig.PAGE_SHIFT, (long) PageAllocConfig.PAGE_SIZE << order)
                .fill(PAGE_POISON);
        int cap = a.cfg.quarantinePages();
        if (cap == 0) {
            return false;
        }
        a.pt.setBlock(pfn, STATE_QUARANTINE, order, a.pt.listMt(pfn));
        a.pt.bumpGen(pfn);
        java.util.List<long[]> release = new java.util.ArrayList<>();
        synchronized (quarantine) {
            quarantine.addLast(new long[] {pfn, order});
            quarantined += 1L << order;
            while (quarantined > cap) {
                long[] e = quarantine.removeFirst();
                quarantined -= 1L << e[1];
                release.add(e);
            }
        }
        for (long[] e : release) {
            release((int) e[0], (int) e[1]);
        }
        return true;
    }

    private void release(int pfn, int order) {
        a.pt.setBlock(pfn, PageTableDescriptor.STATE_ALLOC, order, a.pt.listMt(pfn));
        a.releaseBlock(pfn, order, false);
    }

    /** Releases every quarantined block (close, drain). */
    void flushQuarantine() {
        java.util.List<long[]> all;
        synchronized (quarantine) {
            all = new java.util.ArrayList<>(quarantine);
            quarantine.clear();
            quarantined = 0;
        }
        for (long[] e : all) {
            release((int) e[0], (int) e[1]);
        }
    }

    /** Pages in quarantine. */
    long quarantinedPages() {
        synchronized (quarantine) {
            return quarantined;
        }
    }

    /** Both stacks of {@code pfn}, for misuse reports. */
    String stacks(int pfn) {
        StringBuilder sb = new StringBuilder();
        append(sb, allocStacks.get(pfn), "allocation");
        append(sb, freeStacks.get(pfn), "last free");
        return sb.toString();
    }

    private static void append(StringBuilder sb, Throwable t, String what) {
        sb.append("\n").append(what).append(" stack: ");
        if (t == null) {
            sb.append("(none)");
            return;
        }
        sb.append(t.getMessage());
        int n = 0;
        for (StackTraceElement e : t.getStackTrace()) {
            if (AllocReports.isAllocatorFrame(e.getClassName())) {
                continue;
            }
            sb.append("\n  at ").append(e);
            if (++n == 8) {
                break;
            }
        }
    }

    /** The {@code allocinfo}-style top allocation sites of live blocks: bytes, calls, site. */
    String topAllocationSites(int top) {
        Map<String, long[]> bySite = new HashMap<>();
        PageTable pt = a.pt;
        for (Map.Entry<Integer, Throwable> e : allocStacks.entrySet()) {
            int pfn = e.getKey();
            if (pt.state(pfn) != PageTableDescriptor.STATE_ALLOC) {
                continue;
            }
            String site = "?";
            for (StackTraceElement f : e.getValue().getStackTrace()) {
                if (!AllocReports.isAllocatorFrame(f.getClassName())) {
                    site = f.getFileName() + ":" + f.getLineNumber() + " func:" + f.getMethodName();
                    break;
                }
            }
            long[] v = bySite.computeIfAbsent(site, k -> new long[2]);
            v[0] += (long) PageAllocConfig.PAGE_SIZE << pt.order(pfn);
            v[1]++;
        }
        return bySite.entrySet().stream()
                .sorted(Comparator.comparingLong((Map.Entry<String, long[]> e) -> -e.getValue()[0]))
                .limit(top)
                .map(e -> String.format("%12d %8d %s", e.getValue()[0], e.getValue()[1], e.getKey()))
                .collect(Collectors.joining("\n"));
    }
}
