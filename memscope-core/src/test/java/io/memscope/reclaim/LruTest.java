package io.memscope.reclaim;

import static io.memscope.page.PageTableDescriptor.FLAG_ACTIVE;
import static io.memscope.page.PageTableDescriptor.FLAG_LRU;
import static io.memscope.page.PageTableDescriptor.FLAG_RECLAIM;
import static io.memscope.page.PageTableDescriptor.FLAG_REFERENCED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.page.PageAllocConfig;
import io.memscope.page.PageAllocator;
import io.memscope.page.PageHandle;
import io.memscope.page.PageTable;
import io.memscope.stat.VmItem;
import io.memscope.stat.VmStat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The lruvec operations of mm/swap.c and mm_inline.h: add, mark_accessed, del, rotate, isolate/putback, put. */
class LruTest {
    private VmStat vmstat;
    private PageAllocator pa;
    private PageTable pt;
    private Lru lru;

    @BeforeEach
    void boot() {
        vmstat = new VmStat();
        pa = new PageAllocator(new PageAllocConfig(PageAllocConfig.defaultLayout(16L << 20, 1), 1, 0, 10,
                new int[] {256, 256, 32, 0}, false, 0, false, false), new KernelLog(64, true), vmstat,
                PageAllocator.Hooks.defaults());
        pt = pa.pageTable();
        lru = new Lru(0, pa, vmstat);
    }

    @AfterEach
    void close() {
        assertThat(lru.validate()).isZero();
        assertThat(pa.validate()).isZero();
        pa.close();
    }

    private int page() {
        return PageHandle.pfn(pa.allocPages(Gfp.KERNEL, 0));
    }

    @Test
    void newPagesGoToTheInactiveListWithPgLru() {
        int a = page();
        int b = page();
        lru.add(a);
        lru.add(b);
        assertThat(lru.nrInactiveFile()).isEqualTo(2);
        assertThat(lru.nrActiveFile()).isZero();
        assertThat(pt.testPageFlag(a, FLAG_LRU)).isTrue();
        assertThat(lru.snapshot(Lru.INACTIVE)).containsExactly(b, a); // newest at the head
        assertThat(vmstat.get(VmItem.NR_INACTIVE_FILE)).isEqualTo(2);
        lru.put(a);
        lru.put(b);
        assertThat(pa.allocatedPages()).isZero();
    }

    @Test
    void addingTwiceIsANamedMisuse() {
        int a = page();
        lru.add(a);
        assertThatThrownBy(() -> lru.add(a)).isInstanceOf(LruMisuseException.class)
                .hasMessageContaining("expected a page off the LRU, found PG_lru set");
        assertThat(lru.nrInactiveFile()).isEqualTo(1);
        lru.put(a);
    }

    @Test
    void secondAccessActivatesAndCountsPgactivate() {
        int a = page();
        lru.add(a);
        lru.markAccessed(a);
        assertThat(pt.testPageFlag(a, FLAG_REFERENCED)).isTrue();
        assertThat(pt.testPageFlag(a, FLAG_ACTIVE)).isFalse();
        lru.markAccessed(a);
        assertThat(pt.testPageFlag(a, FLAG_ACTIVE)).isTrue();
        assertThat(pt.testPageFlag(a, FLAG_REFERENCED)).isFalse();
        assertThat(lru.nrActiveFile()).isEqualTo(1);
        assertThat(vmstat.get(VmItem.PGACTIVATE)).isEqualTo(1);
        lru.put(a);
    }

    @Test
    void removeFailsWhileIsolatedAndReclaimFreesTheTruncatedPage() {
        int a = page();
        lru.add(a);
        int[] out = new int[4];
        long r = lru.isolate(Lru.INACTIVE, 4, 3, out);
        assertThat((int) r).isEqualTo(1);
        assertThat(lru.nrIsolatedFile()).isEqualTo(1);
        assertThat(pt.refcount(a)).isEqualTo(2);
        assertThat(lru.remove(a)).as("isolated: the page cache must let reclaim finish").isFalse();
        assertThat(lru.put(a)).as("page cache drops its reference").isFalse();
        assertThat(lru.putback(a)).as("reclaim's putback drops the last one and frees").isTrue();
        assertThat(pa.allocatedPages()).isZero();
        assertThat(lru.nrInactiveFile()).isZero();
    }

    @Test
    void removeTakesAPageOffItsList() {
        int a = page();
        lru.add(a);
        assertThat(lru.remove(a)).isTrue();
        assertThat(pt.testPageFlag(a, FLAG_LRU)).isFalse();
        assertThat(lru.nrInactiveFile()).isZero();
        assertThat(lru.put(a)).isTrue();
    }

    @Test
    void endOfWritebackRotatesAPgReclaimPageToTheInactiveTail() {
        int a = page();
        int b = page();
        lru.add(a);
        lru.add(b);
        lru.markAccessed(b);
        lru.markAccessed(b); // b active
        pt.setPageFlagAtomic(b, FLAG_RECLAIM);
        assertThat(lru.rotateReclaimable(b)).isTrue();
        assertThat(pt.testPageFlag(b, FLAG_RECLAIM | FLAG_ACTIVE)).isFalse();
        assertThat(lru.snapshot(Lru.INACTIVE)).containsExactly(a, b); // b at the tail: reclaimed first
        assertThat(vmstat.get(VmItem.PGROTATED)).isEqualTo(1);
        assertThat(lru.rotateReclaimable(a)).as("no PG_reclaim: no rotation").isFalse();
        lru.put(a);
        lru.put(b);
    }

    @Test
    void putOfTheLastReferenceTakesThePageOffTheListAndFreesIt() {
        int a = page();
        lru.add(a);
        assertThat(lru.put(a)).isTrue();
        assertThat(lru.nrInactiveFile()).isZero();
        assertThat(pa.allocatedPages()).isZero();
        assertThatThrownBy(() -> lru.put(a)).isInstanceOf(LruMisuseException.class);
    }
}
