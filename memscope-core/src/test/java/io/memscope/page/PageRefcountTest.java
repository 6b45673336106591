package io.memscope.page;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.testkit.Machines;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The reference count on the free path: {@code ___free_pages()} frees only on
 * {@code put_page_testzero()}, {@code get_page()}/{@code put_page()} for a second holder, and
 * {@code free_pages_prepare()}'s bad-page check with {@code bad_page()}'s report and limit.
 */
@org.junit.jupiter.api.Timeout(value = 20, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
class PageRefcountTest {
    @RegisterExtension
    final Machines machines = new Machines();

    /** Without the debug quarantine, so that a freed block is back on a list at once. */
    private MemoryManager machine() {
        return machines.create(b -> b.debug(false));
    }

    @Test
    void aCompoundBlockWithASecondReferenceIsFreedByTheLastPut() {
        MemoryManager mm = machine();
        PageAllocator pa = mm.pages();
        long before = pa.allocatedPages();
        long h = mm.allocPages(Gfp.KERNEL | Gfp.COMP, 2);
        pa.getPage(h);
        assertThat(pa.pageTable().refcount(PageHandle.pfn(h))).isEqualTo(2);
        mm.freePages(h, 2);
        assertThat(pa.allocatedPages()).as("the other holder keeps the whole compound block").isEqualTo(before + 4);
        pa.putPage(h);
        assertThat(pa.allocatedPages()).as("freed by the last put").isEqualTo(before);
        assertThatThrownBy(() -> pa.putPage(h)).isInstanceOf(StaleHandleException.class);
    }

    @Test
    void aNonCompoundBlockWithASecondReferenceKeepsOnlyItsFirstPage() {
        MemoryManager mm = machine();
        PageAllocator pa = mm.pages();
        PageTable pt = pa.pageTable();
        long before = pa.allocatedPages();
        long h = mm.allocPages(Gfp.KERNEL, 3);
        int pfn = PageHandle.pfn(h);
        pa.getPage(h);
        mm.freePages(h, 3);
        // ___free_pages, !head: pages 4-7 (order 2), 2-3 (order 1) and 1 (order 0) go back now.
        assertThat(pa.allocatedPages()).isEqualTo(before + 1);
        assertThat(pt.state(pfn)).isEqualTo(PageTableDescriptor.STATE_ALLOC);
        assertThat(pt.order(pfn)).as("the first page is an order-0 page now").isZero();
        assertThat(pt.refcount(pfn)).isEqualTo(1);
        for (int i = 1; i < 8; i++) {
            assertThat(pt.state(pfn + i)).as("page %d", i).isNotEqualTo(PageTableDescriptor.STATE_ALLOC);
        }
        assertThat(pa.validate()).isZero();
        pa.putPage(h);
        assertThat(pa.allocatedPages()).isEqualTo(before);
    }

    @Test
    void aBadPageAmongTheTailsOfASharedBlockLeavesTheBlockAsItWas() {
        MemoryManager mm = machine();
        PageAllocator pa = mm.pages();
        PageTable pt = pa.pageTable();
        long h = mm.allocPages(Gfp.KERNEL, 2);
        int pfn = PageHandle.pfn(h);
        pa.getPage(h);
        long allocated = pa.allocatedPages();
        pt.setPageFlags(pfn + 2, PageTableDescriptor.FLAG_WRITEBACK); // the order-1 piece's first page
        assertThatThrownBy(() -> mm.freePages(h, 2)).isInstanceOf(BadPageStateException.class)
                .hasMessageContaining("on pfn 0x" + Integer.toHexString(pfn + 2));
        assertThat(pa.allocatedPages()).isEqualTo(allocated);
        assertThat(pt.order(pfn)).as("still the whole block").isEqualTo(2);
        assertThat(pt.refcount(pfn)).as("the caller's reference is still there").isEqualTo(2);
        assertThat(pa.validate()).isZero();
        pt.clearPageFlags(pfn + 2, PageTableDescriptor.FLAG_WRITEBACK);
        mm.freePages(h, 2);
        pa.putPage(h);
        assertThat(pa.validate()).isZero();
    }

    @Test
    void freePagesExactChecksEveryPageForBadStateBeforeFreeingAny() {
        MemoryManager mm = machine();
        PageAllocator pa = mm.pages();
        PageTable pt = pa.pageTable();
        long h = mm.pages().allocPagesExact(3 * 4096L, Gfp.KERNEL);
        int pfn = PageHandle.pfn(h);
        long allocated = pa.allocatedPages();
        pt.setMapping(pfn + 2, 5);
        assertThatThrownBy(() -> pa.freePagesExact(h, 3 * 4096L)).isInstanceOf(BadPageStateException.class)
                .hasMessageStartingWith("free_pages_exact: ").hasMessageContaining("found non-NULL mapping");
        assertThat(pa.allocatedPages()).as("nothing was freed").isEqualTo(allocated);
        pt.setMapping(pfn + 2, 0);
        pa.freePagesExact(h, 3 * 4096L);
        assertThat(pa.allocatedPages()).isEqualTo(allocated - 3);
    }

    @Test
    void theOwnersFreeOfAnUnsharedBlockFreesIt() {
        MemoryManager mm = machine();
        PageAllocator pa = mm.pages();
        long before = pa.allocatedPages();
        long h = mm.allocPages(Gfp.KERNEL, 1);
        pa.getPage(h);
        pa.putPage(h); // back to one reference
        mm.freePages(h, 1);
        assertThat(pa.allocatedPages()).isEqualTo(before);
        assertThat(mm.log().dmesg()).doesNotContain("Bad page state");
    }

    @Test
    void aFlagThatMustBeClearAtFreeIsABadPageWithTheKernelsReport() {
        MemoryManager mm = machine();
        PageAllocator pa = mm.pages();
        PageTable pt = pa.pageTable();
        long h = mm.allocPages(Gfp.KERNEL, 0);
        int pfn = PageHandle.pfn(h);
        long allocated = pa.allocatedPages();
        pt.setPageFlags(pfn, PageTableDescriptor.FLAG_LRU);
        assertThatThrownBy(() -> mm.freePages(h, 0)).isInstanceOf(BadPageStateException.class)
                .hasMessageStartingWith("__free_pages: expected a page with no mapping, no other reference and none of"
                        + " PAGE_FLAGS_CHECK_AT_FREE when its last reference goes, found PAGE_FLAGS_CHECK_AT_FREE"
                        + " flag(s) set on pfn 0x" + Integer.toHexString(pfn));
        List<String> lines = mm.log().lines();
        int title = lines.indexOf(String.format("BUG: Bad page state in process %s  pfn:%05x",
                Thread.currentThread().getName(), pfn));
        assertThat(title).as("title line in %s", lines).isNotNegative();
        assertThat(lines.get(title + 1)).isEqualTo(String.format(
                "page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:%#x", pfn));
        assertThat(lines.get(title + 2)).startsWith("flags: 0x10(lru|node=0|zone=");
        assertThat(lines.get(title + 3)).startsWith("raw: ");
        assertThat(lines.get(title + 4)).isEqualTo("page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set");
        assertThat(lines.get(title + 5)).startsWith("CPU: 0 UID: 0 PID: ");
        // Nothing changed: the caller still holds its reference and can clean up and free.
        assertThat(pt.refcount(pfn)).isEqualTo(1);
        assertThat(pa.allocatedPages()).isEqualTo(allocated);
        assertThat(pa.validate()).isZero();
        pt.clearPageFlags(pfn, PageTableDescriptor.FLAG_LRU);
        mm.freePages(h, 0);
    }

    @Test
    void theLastApplicableReasonIsPrintedAsInPageBadReason() {
        MemoryManager mm = machine();
        PageTable pt = mm.pages().pageTable();
        long h = mm.allocPages(Gfp.KERNEL, 0);
        int pfn = PageHandle.pfn(h);
        pt.setMapping(pfn, 7);
        assertThatThrownBy(() -> mm.freePages(h, 0)).isInstanceOf(BadPageStateException.class)
                .hasMessageContaining("found non-NULL mapping");
        pt.setPageFlags(pfn, PageTableDescriptor.FLAG_WRITEBACK);
        assertThatThrownBy(() -> mm.freePages(h, 0)).isInstanceOf(BadPageStateException.class)
                .hasMessageContaining("found PAGE_FLAGS_CHECK_AT_FREE flag(s) set"); // flags are checked last
        assertThat(mm.log().dmesg()).contains("page dumped because: non-NULL mapping",
                "page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set");
        pt.setMapping(pfn, 0);
        pt.clearPageFlags(pfn, PageTableDescriptor.FLAG_WRITEBACK);
        mm.freePages(h, 0);
    }

    @Test
    void flagsThatMayRemainAtFreeAreNotBad() {
        MemoryManager mm = machine();
        PageTable pt = mm.pages().pageTable();
        long h = mm.allocPages(Gfp.KERNEL, 0);
        pt.setPageFlags(PageHandle.pfn(h), PageTableDescriptor.FLAG_UPTODATE | PageTableDescriptor.FLAG_DIRTY
                | PageTableDescriptor.FLAG_REFERENCED);
        mm.freePages(h, 0); // none of them is in PAGE_FLAGS_CHECK_AT_FREE
        assertThat(mm.log().dmesg()).doesNotContain("Bad page state");
    }

    @Test
    void aFrozenCountIsNotTheCallersToFree() {
        MemoryManager mm = machine();
        PageAllocator pa = mm.pages();
        PageTable pt = pa.pageTable();
        long h = mm.allocPages(Gfp.KERNEL, 0);
        int pfn = PageHandle.pfn(h);
        assertThat(pt.refcountFreeze(pfn, 1)).isTrue();
        assertThatThrownBy(() -> mm.freePages(h, 0)).isInstanceOf(BadPageStateException.class)
                .hasMessageContaining("found nonzero _refcount"); // the kernel's name for a count that is wrong
        assertThatThrownBy(() -> pa.getPage(h)).isInstanceOf(BadPageStateException.class);
        assertThat(pt.refcount(pfn)).as("still frozen").isZero();
        pa.freeFrozenPages(h, 0); // the freezer's way to free it
        assertThat(pa.validate()).isZero();
    }

    @Test
    void freeFrozenPagesOfAReferencedPageIsABadPage() {
        MemoryManager mm = machine();
        PageAllocator pa = mm.pages();
        long h = mm.allocPages(Gfp.KERNEL, 0);
        assertThatThrownBy(() -> pa.freeFrozenPages(h, 0)).isInstanceOf(BadPageStateException.class)
                .hasMessageStartingWith("free_frozen_pages: ").hasMessageContaining("found nonzero _refcount");
        assertThat(mm.log().dmesg()).contains("page dumped because: nonzero _refcount");
        assertThat(pa.pageTable().refcount(PageHandle.pfn(h))).isEqualTo(1);
        mm.freePages(h, 0);
    }

    @Test
    void badPageReportsAreLimitedToSixtyAMinuteThenOneSuppressedLine() {
        MemoryManager mm = machine();
        PageAllocator pa = mm.pages();
        PageTable pt = pa.pageTable();
        AtomicLong now = new AtomicLong(1);
        pa.badPage.useClock(now::get);
        long h = mm.allocPages(Gfp.KERNEL, 0);
        int pfn = PageHandle.pfn(h);
        pt.setPageFlags(pfn, PageTableDescriptor.FLAG_LOCKED);
        for (int i = 0; i < 65; i++) {
            assertThatThrownBy(() -> mm.freePages(h, 0)).isInstanceOf(BadPageStateException.class);
        }
        String title = String.format("BUG: Bad page state in process %s  pfn:%05x", Thread.currentThread().getName(), pfn);
        assertThat(mm.log().lines().stream().filter(title::equals).count()).isEqualTo(60);
        now.addAndGet(BadPage.WINDOW_NANOS);
        assertThatThrownBy(() -> mm.freePages(h, 0)).isInstanceOf(BadPageStateException.class);
        List<String> lines = mm.log().lines();
        assertThat(lines).contains("BUG: Bad page state: 5 messages suppressed");
        assertThat(lines.get(lines.indexOf("BUG: Bad page state: 5 messages suppressed") + 1)).isEqualTo(title);
        assertThat(lines.stream().filter(title::equals).count()).isEqualTo(61);
        pt.clearPageFlags(pfn, PageTableDescriptor.FLAG_LOCKED);
        mm.freePages(h, 0);
    }

    /**
     * Owner and second holder drop their references at the same time on two threads, 20 000 times
     * for each shape (order 0, a non-compound order-2 block, a compound one): every block is freed
     * exactly once, whichever drops last, and nothing is lost.
     */
    @Test
    void ownerAndSecondHolderRacingToDropTheirReferencesFreeEachBlockOnce() throws Exception {
        MemoryManager mm = machine();
        PageAllocator pa = mm.pages();
        long before = pa.allocatedPages();
        java.util.concurrent.SynchronousQueue<Long> handoff = new java.util.concurrent.SynchronousQueue<>();
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        int rounds = 20_000;
        int[][] shapes = {{Gfp.KERNEL, 0}, {Gfp.KERNEL, 2}, {Gfp.KERNEL | Gfp.COMP, 2}};
        Thread holder = Thread.ofPlatform().name("second-holder").start(() -> {
            try {
                for (int i = 0; i < rounds * shapes.length; i++) {
                    pa.putPage(handoff.take());
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        for (int[] shape : shapes) {
            for (int i = 0; i < rounds; i++) {
                long h = mm.allocPages(shape[0], shape[1]);
                pa.getPage(h); // the second holder's reference, taken for it before the handoff
                handoff.put(h);
                mm.freePages(h, shape[1]);
            }
        }
        holder.join();
        assertThat(failure.get()).isNull();
        assertThat(pa.allocatedPages()).isEqualTo(before);
        assertThat(pa.validate()).isZero();
        assertThat(mm.log().dmesg()).doesNotContain("Bad page state");
    }

    @Test
    void putAndGetOfAStaleHandleAreNamedErrors() {
        MemoryManager mm = machines.create(); // debug on: the freed block sits in quarantine
        PageAllocator pa = mm.pages();
        long h = mm.allocPages(Gfp.KERNEL, 0);
        mm.freePages(h, 0);
        assertThatThrownBy(() -> pa.putPage(h)).isInstanceOf(StaleHandleException.class);
        assertThatThrownBy(() -> pa.getPage(h)).isInstanceOf(StaleHandleException.class);
        assertThat(pa.validate()).isZero();
    }
}
