package io.memscope.pagecache;

import static io.memscope.page.PageTableDescriptor.FLAG_DIRTY;
import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.debug.KernelLog;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * Writeback that involves other threads: on-demand writeback waits, thresholds wake the flusher,
 * writers are throttled and released, truncation waits for I/O. No timing assertions: every wait
 * polls a condition with a generous deadline.
 */
class WritebackTest {
    static final long DEADLINE_MS = 20_000;

    /** File-backed operations whose page writes block until the gate opens. */
    static final class GatedOps implements AddressSpaceOperations {
        final FileBackedOperations file;
        final CountDownLatch gate = new CountDownLatch(1);
        final AtomicInteger blocked = new AtomicInteger();

        GatedOps(FileChannel ch, KernelLog log) {
            this.file = new FileBackedOperations(ch, log);
        }

        @Override
        public void readFolio(AddressSpace m, int pfn) throws IOException {
            file.readFolio(m, pfn);
        }

        @Override
        public long writepages(AddressSpace m, WritebackControl wbc) throws IOException {
            long n = m.writeCachePages(wbc, (as, pfn, w) -> {
                as.folioStartWriteback(pfn);
                as.folioUnlock(pfn);
                blocked.incrementAndGet();
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    blocked.decrementAndGet();
                }
                try {
                    writeOne(as, pfn);
                } finally {
                    as.folioEndWriteback(pfn);
                }
            });
            if (wbc.syncMode() == WritebackControl.SyncMode.ALL) {
                file.channel().force(false);
            }
            return n;
        }

        private void writeOne(AddressSpace as, int pfn) throws IOException {
            long pos = (long) as.pageIndex(pfn) * 4096;
            long len = Math.min(4096, as.size() - pos);
            if (len > 0) {
                var buf = as.folioMemory(pfn).asSlice(0, len).asByteBuffer();
                while (buf.hasRemaining()) {
                    file.channel().write(buf, pos + buf.position());
                }
            }
        }
    }

    static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(2);
        }
    }

    private static byte[] pages(int n, int seed) {
        byte[] b = new byte[n * 4096];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    @Test
    void filemapWriteAndWaitWaitsForWritebackStartedElsewhere() throws Exception {
        try (PageCacheFixture f = new PageCacheFixture()) {
            GatedOps ops = f.gated(new GatedOps(f.channel("wait"), f.log()));
            AddressSpace as = f.mapping("wait", ops);
            byte[] data = pages(1, 5);
            as.performWrite(0, data, 0, data.length);
            Thread flusher = Thread.ofPlatform().start(as::filemapFlush); // WB_SYNC_NONE, blocks in the gate
            await(() -> ops.blocked.get() == 1, "first page under writeback");
            Thread syncer = Thread.ofPlatform().start(as::filemapWriteAndWait);
            await(() -> f.wait.waiters() > 0, "filemap_write_and_wait sleeping on PG_writeback");
            assertThat(syncer.isAlive()).as("must not return while a page is under writeback").isTrue();
            ops.gate.countDown();
            syncer.join(DEADLINE_MS);
            flusher.join(DEADLINE_MS);
            assertThat(syncer.isAlive()).isFalse();
            assertThat(f.cache.nrWriteback()).isZero();
            assertThat(f.cache.nrDirty()).isZero();
            assertThat(f.onDisk("wait")).isEqualTo(data);
        }
    }

    @Test
    void truncateWaitsOnWriteback() throws Exception {
        try (PageCacheFixture f = new PageCacheFixture()) {
            GatedOps ops = f.gated(new GatedOps(f.channel("trunc"), f.log()));
            AddressSpace as = f.mapping("trunc", ops);
            as.performWrite(0, pages(1, 1), 0, 4096);
            Thread flusher = Thread.ofPlatform().start(as::filemapFlush);
            await(() -> ops.blocked.get() == 1, "page under writeback");
            Thread truncater = Thread.ofPlatform().start(() -> as.truncateSetsize(0));
            await(() -> f.wait.waiters() > 0, "truncate sleeping on PG_writeback");
            assertThat(as.nrpages()).as("the page under I/O is still cached").isEqualTo(1);
            ops.gate.countDown();
            truncater.join(DEADLINE_MS);
            flusher.join(DEADLINE_MS);
            assertThat(truncater.isAlive()).isFalse();
            assertThat(as.nrpages()).isZero();
        }
    }

    @Test
    void dirtyPagesAboveBackgroundThresholdWakeTheFlusher() throws Exception {
        PageCache.Config cfg = PageCache.Config.defaults().withDirtyBytes(256 * 4096, 16 * 4096);
        try (PageCacheFixture f = new PageCacheFixture(cfg, true)) {
            AddressSpace as = f.file("bg");
            // The flusher checks the background threshold whenever it looks for work, its first look
            // at start-up included: let it get to its wait first, so that the only way it can learn
            // of the 40 dirty pages is the wake-up under test (a late-starting flusher wrote them on
            // its own before balance_dirty_pages looked, and no wake-up was counted).
            await(() -> f.bdi.thread().getState() == Thread.State.TIMED_WAITING, "the flusher idle");
            byte[] data = pages(40, 9);
            as.performWrite(0, data, 0, data.length);
            f.cache.dirtyThrottle().balanceDirtyPagesRatelimited(as);
            assertThat(f.cache.dirtyThrottle().backgroundWakeups()).isPositive();
            assertThat(f.cache.dirtyThrottle().pauses()).as("40 pages is below the freerun ceiling (136)").isZero();
            await(() -> f.cache.nrDirty() <= 16, "background writeback down to bg_thresh");
            // A page leaves the dirty count when its write-back starts and is counted written when
            // the write completes: wait for the first completion rather than race it.
            await(() -> f.bdi.pagesWritten() > 0, "the flusher's first completed write");
            assertThat(f.bdi.pagesWritten()).isPositive();
        }
    }

    @Test
    void belowTheBackgroundThresholdNothingIsWoken() {
        PageCache.Config cfg = PageCache.Config.defaults().withDirtyBytes(256 * 4096, 64 * 4096);
        try (PageCacheFixture f = new PageCacheFixture(cfg, true)) {
            AddressSpace as = f.file("quiet");
            as.performWrite(0, pages(40, 2), 0, 40 * 4096);
            f.cache.dirtyThrottle().balanceDirtyPagesRatelimited(as);
            assertThat(f.cache.dirtyThrottle().backgroundWakeups()).isZero();
            as.filemapWriteAndWait();
        }
    }

    @Test
    void writersAboveTheLimitAreThrottledAndReleasedByWriteback() throws Exception {
        PageCache.Config cfg = PageCache.Config.defaults().withDirtyBytes(32 * 4096, 8 * 4096);
        try (PageCacheFixture f = new PageCacheFixture(cfg, true)) {
            GatedOps ops = f.gated(new GatedOps(f.channel("thr"), f.log()));
            AddressSpace as = f.mapping("thr", ops);
            byte[] page = pages(1, 3);
            int total = 100;
            AtomicInteger done = new AtomicInteger();
            Thread writer = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < total; i++) {
                    as.performWrite((long) i * 4096, page, 0, 4096);
                    f.cache.dirtyThrottle().balanceDirtyPagesRatelimited(as);
                    done.incrementAndGet();
                }
            });
            await(() -> f.cache.dirtyThrottle().throttled() > 0 && f.cache.dirtyThrottle().dirtyExceeded(),
                    "writer throttled above thresh");
            int stuckAt = done.get();
            await(() -> f.cache.dirtyThrottle().pauses() >= 3, "several pauses while writeback is blocked");
            assertThat(done.get()).as("no progress while above the limit").isEqualTo(stuckAt);
            assertThat(writer.isAlive()).isTrue();
            assertThat(ops.blocked.get()).as("background writeback was started").isPositive();
            ops.gate.countDown();
            writer.join(DEADLINE_MS);
            assertThat(writer.isAlive()).isFalse();
            assertThat(done.get()).isEqualTo(total);
            as.filemapWriteAndWait();
            byte[] expect = new byte[total * 4096];
            for (int i = 0; i < total; i++) {
                System.arraycopy(page, 0, expect, i * 4096, 4096);
            }
            assertThat(f.onDisk("thr")).isEqualTo(expect);
        }
    }

    @Test
    void pauseGrowsLinearlyBetweenFreerunAndLimit() {
        assertThat(DirtyThrottle.pauseJiffies(101, 100, 200)).isEqualTo(1);
        assertThat(DirtyThrottle.pauseJiffies(150, 100, 200)).isEqualTo(DirtyThrottle.MAX_PAUSE_JIFFIES / 2);
        assertThat(DirtyThrottle.pauseJiffies(500, 100, 200)).isEqualTo(DirtyThrottle.MAX_PAUSE_JIFFIES);
    }

    @Test
    void syncAllWritesPagesDirtiedBeforeItStarted_tagged() {
        try (PageCacheFixture f = new PageCacheFixture()) {
            AddressSpace as = f.file("tags");
            byte[] data = pages(4, 7);
            as.performWrite(0, data, 0, data.length);
            int pfn = as.filemapGetFolio(2, 0);
            long n = as.filemapFdatawriteRange(4096, 2 * 4096 + 10);
            assertThat(n).as("pages 1 and 2 only").isEqualTo(2);
            assertThat(as.folioTest(pfn, FLAG_DIRTY)).isFalse();
            assertThat(f.cache.nrDirty()).isEqualTo(2);
            as.folioPut(pfn);
            as.filemapWriteAndWait();
            assertThat(Arrays.equals(f.onDisk("tags"), data)).isTrue();
        }
    }
}
