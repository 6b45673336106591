package io.memscope.pagecache;

import static io.memscope.page.PageTableDescriptor.FLAG_DIRTY;
import static io.memscope.page.PageTableDescriptor.FLAG_RECLAIM;
import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.reclaim.FileOwner.PageoutResult;
import io.memscope.sched.Memalloc;
import io.memscope.sched.MemallocScope;
import io.memscope.sched.Task;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The page cache as reclaim sees it (FileOwner), and D2 fail-nth sweeps of find-or-create and buffered write. */
class PageCacheReclaimTest {

    @Test
    void removeMappingFreesOnlyCleanIdlePages_dirtyWrittenBeforeFreed() {
        try (PageCacheFixture f = new PageCacheFixture()) {
            AddressSpace as = f.file("reclaim");
            as.performWrite(0, new byte[3 * 4096], 0, 3 * 4096);
            int[] pfns = new int[3];
            for (int i = 0; i < 3; i++) {
                pfns[i] = as.filemapGetFolio(i, 0);
                as.folioPut(pfns[i]);
            }
            // Dirty: reclaim must not free it (its data is not on disk yet).
            assertThat(f.isolate(pfns[0])).isTrue();
            assertThat(f.cache.removeMapping(pfns[0])).isFalse();
            f.putback(pfns[0]);

            as.filemapWriteAndWait();
            // Clean but someone holds a reference: the 2 -> 0 freeze fails.
            int held = as.filemapGetFolio(1, 0);
            assertThat(f.isolate(pfns[1])).isTrue();
            assertThat(f.cache.removeMapping(pfns[1])).isFalse();
            f.putback(pfns[1]);
            as.folioPut(held);

            // Clean and idle: removed, count frozen at 0, reclaim frees it.
            assertThat(f.isolate(pfns[2])).isTrue();
            assertThat(f.cache.removeMapping(pfns[2])).isTrue();
            assertThat(f.mm.pages().pageTable().refcount(pfns[2])).isZero();
            f.freeReclaimed(pfns[2]);
            assertThat(as.nrpages()).isEqualTo(2);
            assertThat(f.cache.nrFilePages()).isEqualTo(2);
            assertThat(f.cache.validate()).isZero();
            byte[] back = new byte[4096];
            assertThat(as.read(2 * 4096, back, 0, 4096)).as("re-read from the file").isEqualTo(4096);
        }
    }

    @Test
    void randomWorkloadNeverFreesADirtyPageAndDiskMatches() {
        try (PageCacheFixture f = new PageCacheFixture()) {
            AddressSpace as = f.file("random");
            Random rnd = new Random(PageCacheFixture.SEED ^ 0x5eed);
            byte[] model = new byte[64 * 4096];
            for (int step = 0; step < 400; step++) {
                int op = rnd.nextInt(10);
                int index = rnd.nextInt(64);
                if (op < 5) {
                    byte[] b = new byte[1 + rnd.nextInt(6000)];
                    rnd.nextBytes(b);
                    int off = Math.min(index * 4096 + rnd.nextInt(4096), model.length - b.length);
                    System.arraycopy(b, 0, model, off, b.length);
                    as.performWrite(off, b, 0, b.length);
                } else if (op < 8) {
                    int pfn = as.filemapGetFolio(index, 0);
                    if (pfn < 0) {
                        continue;
                    }
                    boolean dirty = as.folioTest(pfn, FLAG_DIRTY);
                    as.folioPut(pfn);
                    if (!f.isolate(pfn)) {
                        continue;
                    }
                    if (f.cache.removeMapping(pfn)) {
                        assertThat(dirty).as("a dirty page was reclaimed").isFalse();
                        f.freeReclaimed(pfn);
                    } else {
                        f.putback(pfn);
                    }
                } else if (op == 8) {
                    as.filemapFlush();
                } else {
                    as.invalidateMappingPages(0, 63);
                }
            }
            as.filemapWriteAndWait();
            byte[] disk = f.onDisk("random");
            byte[] expect = java.util.Arrays.copyOf(model, (int) as.size());
            assertThat(disk).isEqualTo(expect);
            assertThat(f.log().warnCount()).isZero();
        }
    }

    @Test
    void vmscanReclaimsCleanPagesAndWakesFlushersForDirtyOnes() {
        try (PageCacheFixture f = new PageCacheFixture()) {
            AddressSpace clean = f.file("clean");
            AddressSpace dirty = f.file("dirty");
            clean.performWrite(0, new byte[64 * 4096], 0, 64 * 4096);
            clean.filemapWriteAndWait();
            dirty.performWrite(0, new byte[64 * 4096], 0, 64 * 4096);
            long freed = 0;
            for (int round = 0; round < 8 && clean.nrpages() > 0; round++) {
                freed += f.mm.reclaim().directReclaimer().tryToFreePages(f.mm.pages(), io.memscope.gfp.Gfp.KERNEL, 0, -1L);
            }
            assertThat(freed).isPositive();
            assertThat(clean.nrpages()).as("clean page cache reclaimed by vmscan").isLessThan(64);
            assertThat(f.log().warnCount()).as("no dirty page left the cache").isZero();
            assertThat(dirty.nrpages() + f.bdi.pagesWritten()).as("a dirty page leaves only after the flusher wrote it")
                    .isGreaterThanOrEqualTo(64);
            // Reclaim woke the flusher, which may still be writing: the books are only exact with
            // no write-back in flight (PageCache.validate), so wait for it before checking them.
            dirty.filemapWriteAndWait();
            assertThat(f.cache.validate()).as("page cache books after reclaim").isZero();
        }
    }

    @Test
    void wakeupFlusherThreadsWakesTheDevice() {
        try (PageCacheFixture f = new PageCacheFixture()) {
            long before = f.bdi.wakeups();
            f.cache.wakeupFlusherThreads(0);
            assertThat(f.bdi.wakeups()).isEqualTo(before + 1);
        }
    }

    @Test
    void legacyWritepageRefusesDirectReclaimButServesKswapd() throws InterruptedException {
        try (PageCacheFixture f = new PageCacheFixture(PageCache.Config.defaults(), false)) {
            AddressSpace as = f.file("legacy");
            byte[] data = new byte[4096];
            data[7] = 42;
            as.performWrite(0, data, 0, data.length);
            int pfn = as.filemapGetFolio(0, 0);
            as.folioPut(pfn);
            assertThat(f.isolate(pfn)).isTrue();
            PageoutResult[] r = new PageoutResult[1];
            try {
                try (MemallocScope s = Memalloc.noreclaimScope()) { // PF_MEMALLOC alone: direct reclaim
                    r[0] = f.cache.writePage(pfn);
                }
                assertThat(r[0]).isEqualTo(PageoutResult.KEEP);
                assertThat(as.folioTest(pfn, FLAG_DIRTY)).as("redirtied").isTrue();
                assertThat(as.folioTest(pfn, FLAG_RECLAIM)).isFalse();
                assertThat(f.log().dmesg()).contains("writepage called from direct reclaim");
                Thread kswapd = Thread.ofPlatform().start(() -> {
                    Task.current().becomeKernelThread(Task.PF_KSWAPD | Task.PF_MEMALLOC);
                    r[0] = f.cache.writePage(pfn);
                });
                kswapd.join();
                assertThat(r[0]).as("kswapd may write").isEqualTo(PageoutResult.SUCCESS);
                assertThat(as.folioTest(pfn, FLAG_DIRTY)).isFalse();
                assertThat(f.onDisk("legacy")).isEqualTo(data);
                assertThat(f.wait.trylockPage(pfn)).as("the writer unlocked it").isTrue();
            } finally {
                f.wait.trylockPage(pfn);
                f.putback(pfn);
            }
        }
    }

    @Test
    void failNthSweep_findOrCreate_D2() {
        try (PageCacheFixture f = new PageCacheFixture()) {
            AddressSpace as = f.file("d2");
            Task t = Task.current();
            for (int n = 1; ; n++) {
                t.setFailNth(n);
                int r = as.filemapGetFolio(5, Fgp.LOCK | Fgp.CREAT);
                t.setFailNth(0);
                assertThat(f.mm.validate()).isZero();
                assertThat(f.cache.validate()).isZero();
                if (r == AddressSpace.ENOMEM) {
                    assertThat(as.nrpages()).as("failure %d left nothing behind", n).isZero();
                    continue;
                }
                assertThat(r).isNotNegative();
                assertThat(n).as("one internal allocation").isEqualTo(2);
                as.folioUnlock(r);
                as.folioPut(r);
                break;
            }
            assertThat(f.fail.attr().injectedCount()).isEqualTo(1);
        }
    }

    @Test
    void failNthSweep_bufferedWriteAndRead_D2() {
        try (PageCacheFixture f = new PageCacheFixture()) {
            AddressSpace as = f.file("d2w");
            byte[] data = new byte[3 * 4096 + 10];
            new Random(PageCacheFixture.SEED).nextBytes(data);
            Task t = Task.current();
            int failures = 0;
            for (int n = 1; ; n++) {
                as.truncateSetsize(0);
                t.setFailNth(n);
                try {
                    as.performWrite(0, data, 0, data.length);
                    t.setFailNth(0);
                    break;
                } catch (PageCacheNoMemoryException e) {
                    t.setFailNth(0);
                    failures++;
                    assertThat(e).hasMessageContaining("could not allocate page " + (n - 1));
                    assertThat(as.nrpages()).as("pages before the failure stay").isEqualTo(n - 1);
                    assertThat(as.size()).isEqualTo((n - 1) * 4096L);
                }
                assertThat(f.mm.validate()).isZero();
                assertThat(f.cache.validate()).isZero();
            }
            assertThat(failures).isEqualTo(4);
            as.filemapWriteAndWait();
            as.invalidateMappingPages(0, 10);
            t.setFailNth(1);
            try {
                as.read(0, new byte[10], 0, 10);
                throw new AssertionError("expected ENOMEM");
            } catch (PageCacheNoMemoryException e) {
                assertThat(as.nrpages()).isZero();
            } finally {
                t.setFailNth(0);
            }
            byte[] back = new byte[data.length];
            assertThat(as.read(0, back, 0, back.length)).isEqualTo(data.length);
            assertThat(back).isEqualTo(data);
        }
    }
}
