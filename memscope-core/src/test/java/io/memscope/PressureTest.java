package io.memscope;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.gfp.Gfp;
import io.memscope.locking.HungTaskDetector;
import io.memscope.page.PageHandle;
import io.memscope.pagecache.AddressSpace;
import io.memscope.pagecache.BdiWriteback;
import io.memscope.pagecache.FileBackedOperations;
import io.memscope.pagecache.PageCache;
import io.memscope.reclaim.ShrinkControl;
import io.memscope.reclaim.Shrinker;
import io.memscope.reclaim.ShrinkerCallbacks;
import io.memscope.stat.VmItem;
import io.memscope.testkit.ProgressWatchdog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY B2 (issue 4): 95 % memory pressure, 16 platform + 200 virtual threads, kswapd,
 * a shrinker-backed cache and file writeback, for {@code memscope.b2.seconds} (default 30).
 *
 * <ul>
 *   <li>0 deadlocks: two watchdogs run throughout. The hung-task detector reports tasks blocked in
 *       memscope's sleeping locks; a {@link ProgressWatchdog} over the writes and, separately, the
 *       reads done trips when either stops moving for {@code memscope.b2.stall.seconds} (default 20), whatever the threads
 *       wait on (page locks, writeback, throttles). Either fails the test, the second with a dump
 *       of every platform and virtual thread; threads that do not stop when asked fail it with the
 *       same dump;</li>
 *   <li>0 lost pages: {@code validate() == 0} and the machine closes without a leak;</li>
 *   <li>every dirty page written before it is freed: the page cache WARNs
 *       ({@code filemap_unaccount_folio}) when a dirty page leaves it, and the run must end with no
 *       warning at all; after the final writeback every clean→dirty transition was followed by a
 *       completed write ({@code nr_dirtied == nr_written}), and the file contents prove no newer
 *       version was dropped;</li>
 *   <li>the files on disk are byte-equal to the last version each block's owner wrote.</li>
 * </ul>
 * Each block has one writer (blocks are partitioned among writers), so "the last version written"
 * is well defined; readers read anything at any time, forcing evicted pages back in.
 */
class PressureTest {
    private static final int FILES = 4;
    private static final int BLOCKS = 4096; // 16 MiB per file, 64 MiB in all on a 64 MiB machine
    private static final int PLATFORM_WRITERS = 8;
    private static final int PLATFORM_READERS = 4;

    @TempDir
    Path dir;

    /** B2 (T1): 30 s, 16 platform + 200 virtual threads. */
    @Test
    void ninetyFivePercentPressureWithWritebackKswapdAndShrinkersLosesNothing() throws Exception {
        run(dir, Long.getLong("memscope.b2.seconds", 30), Long.getLong("memscope.test.seed", 1), 100, 100, false);
    }

    /** B3 (T3, {@code -Psoak}): the same for 30 minutes over 3 seeds. */
    @Test
    @org.junit.jupiter.api.Tag("soak")
    void soakThirtyMinutesThreeSeeds() throws Exception {
        long base = Long.getLong("memscope.test.seed", 1);
        for (int i = 0; i < 3; i++) {
            java.nio.file.Path d = java.nio.file.Files.createDirectories(dir.resolve("seed" + i));
            run(d, Long.getLong("memscope.b3.seconds", 600), base + i, 100, 100, true);
        }
    }

    /**
     * B3: 10 000 virtual threads (most of them readers) for five minutes; the per-CPU caches stay
     * bounded throughout and are drained on OOM.
     */
    @Test
    @org.junit.jupiter.api.Tag("soak")
    void soakTenThousandVirtualThreads() throws Exception {
        run(dir, Long.getLong("memscope.b3.seconds", 300), Long.getLong("memscope.test.seed", 1), 100, 9_900, true);
    }

    /**
     * The load. With {@code pcpChecks} (B3), a sampler checks every 50 ms that the pages on all
     * per-CPU lists never exceed {@code high} per slot, and at the end memory is exhausted with
     * GFP_KERNEL|__GFP_NORETRY allocations: the one that fails has gone through direct reclaim,
     * which drains every per-CPU list before giving up, so none may hold a page then.
     */
    private static void run(Path dir, long seconds, long seed, int virtualWriters, int virtualReaders,
                            boolean pcpChecks) throws Exception {
        final int writersTotal = PLATFORM_WRITERS + virtualWriters;
        List<String> failures = new CopyOnWriteArrayList<>();
        try (MemoryManager mm = MemoryManager.builder().memoryBytes(64L << 20).panicOnWarn(false).build()) {
            PageCache pc = mm.pageCache();
            BdiWriteback bdi = pc.newBdi("b2");
            List<FileChannel> channels = new ArrayList<>();
            List<AddressSpace> files = new ArrayList<>();
            AtomicIntegerArray[] version = new AtomicIntegerArray[FILES];
            for (int i = 0; i < FILES; i++) {
                FileChannel ch = FileChannel.open(dir.resolve("f" + i), StandardOpenOption.CREATE,
                        StandardOpenOption.READ, StandardOpenOption.WRITE);
                channels.add(ch);
                AddressSpace as = pc.newAddressSpace("f" + i, new FileBackedOperations(ch, mm.log()), bdi);
                as.setSize((long) BLOCKS * 4096);
                files.add(as);
                version[i] = new AtomicIntegerArray(BLOCKS);
            }
            // A cache of pinned pages that reclaim may take back.
            ConcurrentLinkedDeque<Long> cache = new ConcurrentLinkedDeque<>();
            Shrinker shrinker = mm.shrinkers().register("b2-cache", new ShrinkerCallbacks() {
                @Override public long countObjects(ShrinkControl sc) {
                    int n = cache.size();
                    return n == 0 ? Shrinker.SHRINK_EMPTY : n;
                }
                @Override public long scanObjects(ShrinkControl sc) {
                    long freed = 0;
                    for (Long h; freed < sc.nrToScan() && (h = cache.pollFirst()) != null; freed++) {
                        mm.freePages(h, 0);
                    }
                    sc.addReclaimedPages(freed);
                    return freed;
                }
            });
            long total = mm.pages().totalPages();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong writes = new AtomicLong();
            AtomicLong reads = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            Duration stall = Duration.ofSeconds(Long.getLong("memscope.b2.stall.seconds", 20));
            try (HungTaskDetector watchdog = new HungTaskDetector(mm.lockdep(), Duration.ofSeconds(10),
                    Duration.ofSeconds(1), 10).start();
                 ProgressWatchdog progress = ProgressWatchdog.start(stall, new String[] {"writes", "reads"},
                         writes::get, reads::get)) {
                for (int w = 0; w < writersTotal; w++) {
                    int me = w;
                    Runnable writer = () -> {
                        SplittableRandom rnd = new SplittableRandom(seed * 1_000_003L + me);
                        int perWriter = BLOCKS / writersTotal;
                        byte[] block = new byte[4096];
                        try {
                            while (!stop.get()) {
                                int f = rnd.nextInt(FILES);
                                int b = me + writersTotal * rnd.nextInt(perWriter);
                                int v = version[f].get(b) + 1;
                                fill(block, f, b, v);
                                files.get(f).performWrite((long) b * 4096, block, 0, 4096);
                                version[f].set(b, v); // published after the page cache has it
                                writes.incrementAndGet();
                            }
                        } catch (Throwable t) {
                            failures.add("writer " + me + ": " + t);
                        }
                    };
                    threads.add(me < PLATFORM_WRITERS ? Thread.ofPlatform().name("w" + me).start(writer)
                            : Thread.ofVirtual().name("vw" + me).start(writer));
                }
                for (int r = 0; r < PLATFORM_READERS + virtualReaders; r++) {
                    int me = r;
                    Runnable reader = () -> {
                        SplittableRandom rnd = new SplittableRandom(seed * 7_919L + me);
                        byte[] block = new byte[4096];
                        try {
                            while (!stop.get()) {
                                files.get(rnd.nextInt(FILES)).read((long) rnd.nextInt(BLOCKS) * 4096, block, 0, 4096);
                                reads.incrementAndGet();
                            }
                        } catch (Throwable t) {
                            failures.add("reader " + me + ": " + t);
                        }
                    };
                    threads.add(me < PLATFORM_READERS ? Thread.ofPlatform().name("r" + me).start(reader)
                            : Thread.ofVirtual().name("vr" + me).start(reader));
                }
                AtomicLong pcpMax = new AtomicLong();
                long pcpBound = 0;
                for (io.memscope.page.Zone z : mm.pages().zones()) {
                    pcpBound += (long) z.pcpHigh() * z.pcpSlots();
                }
                if (pcpChecks) {
                    threads.add(Thread.ofPlatform().name("pcp-sampler").start(() -> {
                        while (!stop.get()) {
                            long n = 0;
                            for (io.memscope.page.Zone z : mm.pages().zones()) {
                                n += z.pcpPagesRacy();
                            }
                            pcpMax.accumulateAndGet(n, Math::max);
                            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
                        }
                    }));
                }
                for (int c = 0; c < 4; c++) {
                    threads.add(Thread.ofPlatform().name("cache" + c).start(() -> {
                        while (!stop.get()) {
                            // Keep memory at ~95 %: fill the cache while free memory exceeds 5 %.
                            if (mm.vmstat().get(VmItem.NR_FREE_PAGES) > total / 20) {
                                long h = mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, 0);
                                if (h != PageHandle.NULL) {
                                    cache.addLast(h);
                                }
                            } else {
                                Thread.onSpinWait();
                            }
                        }
                    }));
                }
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
                while (System.nanoTime() < end && failures.isEmpty() && !progress.tripped()
                        && !mm.log().dmesg().contains("blocked for more than")) {
                    Thread.sleep(100);
                }
                if (progress.tripped()) {
                    failures.add("deadlock: " + io.memscope.page.ZoneLockProbe.describe(mm.pages()) + progress.dump());
                }
                stop.set(true);
                long joinDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                List<String> stuck = new ArrayList<>();
                for (Thread t : threads) {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(joinDeadline - System.nanoTime())));
                    if (t.isAlive()) {
                        stuck.add(t.getName());
                    }
                }
                if (!stuck.isEmpty()) {
                    failures.add(stuck.size() + " thread(s) did not stop within 60 s of the stop request: " + stuck
                            + "; all threads:\n" + ProgressWatchdog.allThreads());
                }
                assertThat(failures).isEmpty();
                assertThat(mm.log().dmesg()).as("hung-task watchdog").doesNotContain("blocked for more than");
                if (pcpChecks) {
                    assertThat(pcpMax.get()).as("pages on per-CPU lists, at most high x slots = %d", pcpBound)
                            .isPositive().isLessThanOrEqualTo(pcpBound);
                    List<Long> rest = new ArrayList<>();
                    for (long h; (h = mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, 0)) != PageHandle.NULL; ) {
                        rest.add(h);
                    }
                    long left = 0;
                    for (io.memscope.page.Zone z : mm.pages().zones()) {
                        left += z.pcpPagesRacy();
                    }
                    assertThat(left).as("per-CPU pages left after an allocation failed at OOM").isZero();
                    for (long h : rest) {
                        mm.freePages(h, 0);
                    }
                }
            }
            System.out.printf("B2: %d writes, %d reads, pgsteal kswapd %d direct %d, pgscan kswapd %d direct %d  free %d cache %d allocstall %d%n",
                    writes.get(), reads.get(), mm.vmstat().get(VmItem.PGSTEAL_KSWAPD),
                    mm.vmstat().get(VmItem.PGSTEAL_DIRECT), mm.vmstat().get(VmItem.PGSCAN_KSWAPD),
                    mm.vmstat().get(VmItem.PGSCAN_DIRECT), mm.vmstat().get(VmItem.NR_FREE_PAGES), cache.size(),
                    mm.vmstat().get(VmItem.ALLOCSTALL_NORMAL));
            assertThat(failures).isEmpty();
            assertThat(writes.get()).as("writes").isPositive();
            assertThat(reads.get()).as("reads").isPositive();
            // Under pressure reclaim scans the file LRU; whether it can also steal pages in a given
            // run depends on how many are clean at that moment (reclaim never writes dirty pages, the
            // flushers do), so stealing is reported, not required.
            assertThat(mm.vmstat().get(VmItem.PGSCAN_KSWAPD) + mm.vmstat().get(VmItem.PGSCAN_DIRECT))
                    .as("the page-cache LRU was scanned under pressure").isPositive();

            for (AddressSpace as : files) {
                as.filemapWriteAndWait();
            }
            assertThat(pc.nrDirty()).isZero();
            assertThat(pc.nrDirtied()).as("every dirtied page was written").isEqualTo(pc.nrWritten());
            for (AddressSpace as : files) {
                as.evict();
            }
            assertThat(mm.log().warnCount()).as("warnings (a dirty page leaving the page cache is one):%n%s",
                    mm.log().dmesg()).isZero();
            for (Long h; (h = cache.pollFirst()) != null; ) {
                mm.freePages(h, 0);
            }
            shrinker.free();
            for (int f = 0; f < FILES; f++) {
                verifyOnDisk(channels.get(f), f, version[f]);
                channels.get(f).close();
            }
            assertThat(mm.validate()).as("books balance").isZero();
        } // close(): leak check
    }

    private static void fill(byte[] block, int f, int b, int v) {
        ByteBuffer bb = ByteBuffer.wrap(block);
        bb.putInt(f).putInt(b).putInt(v);
        byte p = (byte) (f * 31 + b * 7 + v);
        for (int i = 12; i < block.length; i++) {
            block[i] = (byte) (p + i);
        }
    }

    private static void verifyOnDisk(FileChannel ch, int f, AtomicIntegerArray version) throws IOException {
        byte[] expect = new byte[4096];
        ByteBuffer got = ByteBuffer.allocate(4096);
        for (int b = 0; b < BLOCKS; b++) {
            int v = version.get(b);
            got.clear();
            int n = ch.read(got, (long) b * 4096);
            if (v == 0) {
                if (n > 0) {
                    for (int i = 0; i < n; i++) {
                        assertThat(got.get(i)).as("never-written block %d of file %d", b, f).isZero();
                    }
                }
                continue;
            }
            fill(expect, f, b, v);
            assertThat(n).as("block %d of file %d present", b, f).isEqualTo(4096);
            assertThat(got.array()).as("block %d of file %d holds version %d", b, f, v).isEqualTo(expect);
        }
    }
}
