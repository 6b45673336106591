package io.memscope.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.gfp.MigrateType;
import io.memscope.testkit.Machines;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Retyping a pageblock ({@code set_pageblock_migratetype}, under the zone lock) must never lose a
 * page-flag update that another thread makes at the same moment, with the page cache's atomic
 * bit operations, on the pageblock's first page. (When the pageblock type lived in the first
 * page's flags word, retyping was a plain read-modify-write of that word and could undo a
 * concurrent {@code set_bit}.)
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PageblockTypeRaceTest {
    @RegisterExtension
    final Machines machines = new Machines();

    @Test
    void retypingAPageblockNeverLosesAConcurrentPageFlagUpdate() throws Exception {
        MemoryManager mm = machines.create(b -> b.zonePages(new long[][] {{0, 0, 4096, 0}}).cpuSlots(1));
        PageAllocator pa = mm.pages();
        long h = mm.allocPages(Gfp.KERNEL, Zone.PAGEBLOCK_ORDER); // a whole pageblock: pfn is its first page
        int pb = PageHandle.pfn(h);
        assertThat(pb % Zone.PAGEBLOCK_PAGES).isZero();
        Zone zone = pa.zoneOf(pb);
        int original = zone.pageblockMt(pb);
        PageTable pt = pa.pageTable();
        int flag = PageTableDescriptor.FLAG_PRIVATE;

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong lost = new AtomicLong();
        AtomicLong flips = new AtomicLong();
        CountDownLatch start = new CountDownLatch(2);
        Thread retyper = Thread.ofPlatform().start(() -> {
            start.countDown();
            int[] types = {MigrateType.UNMOVABLE.ordinal(), MigrateType.RECLAIMABLE.ordinal(), MigrateType.MOVABLE.ordinal()};
            while (!stop.get()) {
                zone.lock.lock(); // held for a burst of retypes, to make the window as wide as possible
                try {
                    for (int i = 0; i < 1024; i++) {
                        zone.setPageblockMt(pb, types[i % types.length]);
                    }
                } finally {
                    zone.lock.unlock();
                }
            }
        });
        Thread owner = Thread.ofPlatform().start(() -> {
            start.countDown();
            for (int i = 0; i < 2_000_000; i++) {
                if (pt.testAndSetPageFlag(pb, flag)) {
                    lost.incrementAndGet(); // a retype wrote back a stale word with the flag still set
                }
                if (!pt.testAndClearPageFlag(pb, flag)) {
                    lost.incrementAndGet(); // a retype wrote back a stale word without the flag
                }
                flips.incrementAndGet();
            }
            stop.set(true);
        });
        owner.join();
        retyper.join();

        assertThat(flips.get()).isEqualTo(2_000_000);
        assertThat(lost.get()).as("page-flag updates lost to concurrent pageblock retyping").isZero();
        zone.lock.lock();
        try {
            zone.setPageblockMt(pb, original);
        } finally {
            zone.lock.unlock();
        }
        mm.freePages(h);
    }
}
