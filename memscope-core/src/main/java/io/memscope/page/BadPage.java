package io.memscope.page;

import static io.memscope.page.PageTableDescriptor.FLAG_ACTIVE;
import static io.memscope.page.PageTableDescriptor.FLAG_LOCKED;
import static io.memscope.page.PageTableDescriptor.FLAG_LRU;
import static io.memscope.page.PageTableDescriptor.FLAG_MLOCKED;
import static io.memscope.page.PageTableDescriptor.FLAG_PRIVATE;
import static io.memscope.page.PageTableDescriptor.FLAG_RESERVED;
import static io.memscope.page.PageTableDescriptor.FLAG_UNEVICTABLE;
import static io.memscope.page.PageTableDescriptor.FLAG_WRITEBACK;

import io.memscope.debug.DumpStack;
import io.memscope.debug.KernelLog;
import io.memscope.debug.Ratelimit;
import io.memscope.sched.Task;
import java.util.ArrayList;
import java.util.List;

/**
 * The check every block passes when its last reference goes, and the report when it fails:
 * {@code page_bad_reason()}, {@code free_page_is_bad()} and {@code bad_page()} of
 * {@code mm/page_alloc.c}.
 *
 * <p>Why it exists: a page freed while something still uses it — still in a mapping, still on an
 * LRU list, locked, under writeback, or with a reference someone else holds — is the first symptom
 * of a use-after-free. The kernel looks at every page leaving its last holder
 * ({@code free_pages_prepare}) and, rather than put a page in that state on a free list, prints
 * {@code BUG: Bad page state} and keeps it out of circulation. memscope makes the same check at the
 * same point and prints the same report; then, as with every misuse of the free path, it throws
 * {@link BadPageStateException} before the books change, so the caller still holds its reference
 * and {@code validate()} still balances.
 *
 * <p>Reports are limited as the kernel limits them: a burst of 60 in a minute, then silence until
 * the minute is over, and then one {@code BUG: Bad page state: N messages suppressed} line.
 */
final class BadPage {
    /**
     * {@code PAGE_FLAGS_CHECK_AT_FREE} ({@code include/linux/page-flags.h}) restricted to the flags
     * memscope's page table has: lru, locked, private, writeback, reserved, active, unevictable,
     * mlocked ({@code PG_private_2} and the multi-generational LRU bits do not exist here).
     */
    static final int CHECK_AT_FREE = FLAG_LRU | FLAG_LOCKED | FLAG_PRIVATE | FLAG_WRITEBACK | FLAG_RESERVED
            | FLAG_ACTIVE | FLAG_UNEVICTABLE | FLAG_MLOCKED;

    /** {@code bad_page()}'s window: 60 reports per {@code 60 * HZ}. */
    static final long WINDOW_NANOS = 60_000_000_000L;
    static final int BURST = 60;

    private final PageAllocator a;
    private volatile Ratelimit rs = new Ratelimit("bad_page", WINDOW_NANOS, BURST, System::nanoTime);

    BadPage(PageAllocator a) {
        this.a = a;
    }

    /** Replaces the report clock (and resets the limit), so a test can step past the minute. */
    void useClock(java.util.function.LongSupplier clock) {
        rs = new Ratelimit("bad_page", WINDOW_NANOS, BURST, clock);
    }

    /**
     * {@code page_bad_reason(page, PAGE_FLAGS_CHECK_AT_FREE)}: null when the page may be freed.
     * Like the kernel's, the later checks override the earlier ones, so the reason printed is the
     * last that applies: flags, then the reference count, then the mapping.
     */
    static String reasonAtFree(PageTable pt, int pfn) {
        return reasonAtFree(pt, pfn, 0);
    }

    /**
     * {@link #reasonAtFree(PageTable, int)} for a page whose count still shows the {@code held}
     * reference the caller is about to drop (a check made before the decrement).
     */
    static String reasonAtFree(PageTable pt, int pfn, int held) {
        String reason = null;
        if (pt.mapping(pfn) != 0) {
            reason = "non-NULL mapping";
        }
        if (pt.refcount(pfn) != held) {
            reason = "nonzero _refcount";
        }
        if ((pt.pageFlags(pfn) & CHECK_AT_FREE) != 0) {
            reason = "PAGE_FLAGS_CHECK_AT_FREE flag(s) set";
        }
        return reason;
    }

    /** {@code bad_page(page, reason)}, then the named error. */
    void fail(int pfn, String op, String reason) {
        fail(pfn, op, reason, 0);
    }

    /**
     * {@code bad_page(page, reason)} as the page is now, then gives the caller's reference back
     * ({@code restore} added to the count) and throws the named error.
     */
    void fail(int pfn, String op, String reason, int restore) {
        PageTable pt = a.pt;
        String state = "refcount " + pt.refcount(pfn) + ", mapping 0x" + Integer.toHexString(pt.mapping(pfn))
                + ", flags 0x" + Integer.toHexString(pt.pageFlags(pfn)) + "(" + pt.flagNames(pfn) + ")";
        report(pfn, reason);
        if (restore != 0) {
            pt.refcountAddAndGet(pfn, restore);
        }
        throw new BadPageStateException(op + ": expected a page with no mapping, no other reference and none of"
                + " PAGE_FLAGS_CHECK_AT_FREE when its last reference goes, found " + reason + " on pfn 0x"
                + Integer.toHexString(pfn) + " (" + state + ")");
    }

    private void report(int pfn, String reason) {
        Ratelimit limit = rs;
        if (!limit.allow()) {
            return;
        }
        List<String> out = new ArrayList<>();
        int suppressed = limit.takeSuppressed();
        if (suppressed > 0) {
            out.add("BUG: Bad page state: " + suppressed + " messages suppressed");
        }
        out.addAll(lines(a, pfn, reason));
        a.log.printk(KernelLog.Level.ALERT, out);
    }

    /** The report's lines: the title, {@code dump_page()}, and {@code dump_stack()}. */
    static List<String> lines(PageAllocator a, int pfn, String reason) {
        PageTable pt = a.pt;
        Task task = Task.current();
        List<String> out = new ArrayList<>();
        out.add(String.format("BUG: Bad page state in process %s  pfn:%05x", task.comm(), pfn));
        out.add(String.format("page: refcount:%d mapcount:0 mapping:%016x index:%#x pfn:%#x",
                pt.refcount(pfn), pt.mapping(pfn) & 0xffffffffL, pt.index(pfn) & 0xffffffffL, pfn));
        Zone z = a.zoneOf(pfn);
        String names = pt.flagNames(pfn);
        out.add(String.format("flags: %#x(%s%snode=%d|zone=%d)", pt.pageFlags(pfn), names,
                names.isEmpty() ? "" : "|", z.nid(), z.type().ordinal()));
        out.add(String.format("raw: %016x %016x %016x %016x", pt.rawWord(pfn, 0), pt.rawWord(pfn, 1),
                pt.rawWord(pfn, 2), pt.rawWord(pfn, 3)));
        out.add("page dumped because: " + reason);
        out.addAll(DumpStack.lines(task, a.currentSlot(), BadPage.class));
        return out;
    }
}
