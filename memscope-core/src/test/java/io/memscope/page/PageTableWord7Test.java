package io.memscope.page;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.gfp.MigrateType;
import io.memscope.gfp.ZoneType;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Word 7 of a page record holds the generation, written by the page's owner, and, in a
 * pageblock's last page only, the pageblock type, written under the zone lock by whoever retypes
 * the pageblock (see {@link PageTableDescriptor}). These tests pin that neither disturbs the
 * other, and that a page's zone, which is not stored, is found from the zones' bounds.
 */
class PageTableWord7Test {
    private static final int PB = 1 << Zone.PAGEBLOCK_ORDER;

    @Test
    void generationWrapsWithin24BitsAndKeepsThePageblockType() {
        PageTable pt = new PageTable(2 * PB);
        int last = PB - 1;
        pt.setPageblockMt(0, MigrateType.HIGHATOMIC.ordinal());
        for (int pfn : new int[] {0, 1, last}) {
            for (int i = 0; i < PageTableDescriptor.GEN_MASK; i++) {
                pt.bumpGen(pfn);
            }
            // 2^24 - 1 bumps from 1 walk every value 1..2^21-1 once and come back to 1 (0 is skipped).
            assertThat(pt.gen(pfn)).as("pfn %d after a full cycle", pfn).isEqualTo(1);
            pt.bumpGen(pfn);
            assertThat(pt.gen(pfn)).isEqualTo(2);
        }
        assertThat(pt.pageblockMt(0)).isEqualTo(MigrateType.HIGHATOMIC.ordinal());
        assertThat(pt.pageblockMt(last)).isEqualTo(MigrateType.HIGHATOMIC.ordinal());
        assertThat(pt.pageblockMt(PB)).as("the next pageblock is untouched").isZero();
        assertThat(PageTableDescriptor.nextGen(PageTableDescriptor.GEN_MASK)).isEqualTo(1);
    }

    @Test
    void pageblockTypeIsReadFromTheBlocksLastPageOnly() {
        PageTable pt = new PageTable(2 * PB);
        pt.setPageblockMt(PB + 17, MigrateType.RECLAIMABLE.ordinal());
        for (int pfn = 0; pfn < 2 * PB; pfn++) {
            assertThat(pt.pageblockMt(pfn)).isEqualTo(pfn < PB ? 0 : MigrateType.RECLAIMABLE.ordinal());
            int pbmtBits = pt.word7(pfn) & PageTableDescriptor.PAGEBLOCK_MT_MASK;
            assertThat(pbmtBits).as("pfn %d", pfn)
                    .isEqualTo(pfn == 2 * PB - 1 ? MigrateType.RECLAIMABLE.ordinal() << PageTableDescriptor.PAGEBLOCK_MT_SHIFT : 0);
        }
    }

    /**
     * The race the compare-and-set exists for: one thread frees (bumps the generation of) a
     * pageblock's last page over and over while another retypes the pageblock and reads the type
     * back. A plain read-modify-write on either side loses the other's update.
     */
    @Test
    void concurrentGenerationBumpsAndRetypesLoseNothing() throws InterruptedException {
        PageTable pt = new PageTable(PB);
        int last = PB - 1;
        int bumps = 2_000_000;
        CountDownLatch start = new CountDownLatch(1);
        AtomicLong lost = new AtomicLong();
        AtomicLong progress = new AtomicLong();
        Thread owner = Thread.ofPlatform().start(() -> {
            await(start);
            for (int i = 0; i < bumps; i++) {
                // The volatile read and write around each bump keep the JIT from merging the
                // plain loads and stores of word 7 across iterations, as a real free path does.
                progress.get();
                pt.bumpGen(last);
                progress.set(i);
            }
        });
        Thread retyper = Thread.ofPlatform().start(() -> {
            await(start);
            for (int i = 0; owner.isAlive(); i++) {
                int mt = i % MigrateType.COUNT;
                pt.setPageblockMt(0, mt);
                if (pt.pageblockMt(0) != mt) {
                    lost.incrementAndGet();
                }
            }
        });
        start.countDown();
        owner.join();
        retyper.join();
        assertThat(lost.get()).as("retypes undone by a generation bump").isZero();
        assertThat(pt.gen(last)).as("generation bumps undone by a retype").isEqualTo(1 + bumps % PageTableDescriptor.GEN_MASK);
    }

    @Test
    void everyPageIsFoundInItsZoneOnEveryNode() {
        try (MemoryManager mm = MemoryManager.builder().memoryBytes(256L << 20).nodes(4).debug(false).lockdep(false)
                .build()) {
            PageAllocator pa = mm.pages();
            int checked = 0;
            for (int nid = 0; nid < 4; nid++) {
                for (int zi = 0; zi < ZoneType.COUNT; zi++) {
                    Zone z = pa.zone(nid, ZoneType.ofIndex(zi));
                    for (int p = z.startPfn(); p < z.startPfn() + z.managedPages(); p++) {
                        assertThat(pa.zoneOf(p)).isSameAs(z);
                        checked++;
                    }
                }
            }
            assertThat(checked).isEqualTo(pa.totalPages());
            assertThatThrownBy(() -> pa.zoneOf(pa.totalPages())).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> pa.zoneOf(-1)).isInstanceOf(IndexOutOfBoundsException.class);
            // Allocation and free bump generations and retype pageblocks; validate() checks word 7.
            long[] h = new long[64];
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < h.length; i++) {
                    h[i] = pa.allocPages(Gfp.KERNEL, i % 4);
                }
                for (int i = 0; i < h.length; i++) {
                    pa.freePages(h[i], i % 4);
                }
            }
            assertThat(pa.validate()).isZero();
        }
    }

    private static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
