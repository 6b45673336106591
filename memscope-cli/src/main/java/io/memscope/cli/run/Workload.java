package io.memscope.cli.run;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.locking.Irq;
import io.memscope.page.PageHandle;
import io.memscope.pagecache.AddressSpace;
import io.memscope.pagecache.BdiWriteback;
import io.memscope.pagecache.FileBackedOperations;
import io.memscope.pagecache.PageCache;
import io.memscope.pagecache.WritebackControl;
import io.memscope.reclaim.ShrinkControl;
import io.memscope.reclaim.Shrinker;
import io.memscope.reclaim.ShrinkerCallbacks;
import io.memscope.sched.Memalloc;
import io.memscope.sched.MemallocScope;
import io.memscope.stat.VmItem;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The threads of {@code memscope run} and the report they leave. Kept apart from the command so
 * the command reads as options and output only.
 */
final class Workload {
    private Workload() {}

    static Map<String, Object> run(MemoryManager mm, Path base, RunCommand cfg, LatencyByMask latency)
            throws IOException, InterruptedException {
        long[] before = mm.vmstat().snapshot();
        mm.pages().setAllocObserver((gfp, order, nanos, ok) -> latency.record(gfp, nanos));
        PageCache pc = mm.pageCache();
        BdiWriteback bdi = pc.newBdi("demo");
        List<FileChannel> channels = new ArrayList<>();
        List<AddressSpace> spaces = new ArrayList<>();
        long fileBytes = cfg.fileMiB << 20;
        for (int i = 0; i < cfg.files; i++) {
            FileChannel ch = FileChannel.open(base.resolve("data-" + i), StandardOpenOption.CREATE,
                    StandardOpenOption.READ, StandardOpenOption.WRITE);
            channels.add(ch);
            AddressSpace as = pc.newAddressSpace("data-" + i, new FileBackedOperations(ch, mm.log()), bdi);
            as.setSize(fileBytes);
            spaces.add(as);
        }
        ConcurrentLinkedDeque<Long> cache = new ConcurrentLinkedDeque<>();
        AtomicLong cacheFreed = new AtomicLong();
        Shrinker shrinker = mm.shrinkers().register("demo-cache", new ShrinkerCallbacks() {
            @Override
            public long countObjects(ShrinkControl sc) {
                int n = cache.size();
                return n == 0 ? Shrinker.SHRINK_EMPTY : n;
            }

            @Override
            public long scanObjects(ShrinkControl sc) {
                long freed = 0;
                for (long i = 0; i < sc.nrToScan(); i++) {
                    Long h = cache.pollFirst();
                    if (h == null) {
                        break;
                    }
                    mm.freePages(h, 0);
                    freed++;
                }
                cacheFreed.addAndGet(freed);
                sc.addReclaimedPages(freed);
                return freed;
            }
        });

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong writes = new AtomicLong();
        AtomicLong reads = new AtomicLong();
        AtomicLong atomicFailures = new AtomicLong();
        AtomicLong atomicAllocs = new AtomicLong();
        List<Thread> workers = new ArrayList<>();
        int writers = Math.max(1, cfg.threads / 2);
        int readers = Math.max(1, cfg.threads / 4);
        int fillers = Math.max(1, cfg.threads - writers - readers - 1);
        long seed = Long.getLong("memscope.run.seed", 42);
        for (int w = 0; w < writers; w++) {
            SplittableRandom rnd = new SplittableRandom(seed + w);
            workers.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                byte[] block = new byte[4096];
                while (!stop.get()) {
                    AddressSpace as = spaces.get(rnd.nextInt(spaces.size()));
                    long pos = rnd.nextLong(fileBytes / 4096) * 4096;
                    rnd.nextBytes(block);
                    // Writes run as a file system's transaction would: inside a NOFS scope
                    // (reclaim context: the flushers and this file system's writeback).
                    try (MemallocScope nofs = Memalloc.nofsScope()) {
                        as.performWrite(pos, block, 0, block.length);
                    }
                    writes.incrementAndGet();
                }
            }));
        }
        for (int r = 0; r < readers; r++) {
            SplittableRandom rnd = new SplittableRandom(seed + 100 + r);
            workers.add(Thread.ofPlatform().name("reader-" + r).start(() -> {
                byte[] block = new byte[4096];
                while (!stop.get()) {
                    AddressSpace as = spaces.get(rnd.nextInt(spaces.size()));
                    as.read(rnd.nextLong(fileBytes / 4096) * 4096, block, 0, block.length);
                    reads.incrementAndGet();
                }
            }));
        }
        for (int f = 0; f < fillers; f++) {
            workers.add(Thread.ofPlatform().name("cache-" + f).start(() -> {
                while (!stop.get()) {
                    long h = mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, 0);
                    if (h != PageHandle.NULL) {
                        cache.addLast(h);
                    } else {
                        Thread.onSpinWait();
                    }
                }
            }));
        }
        workers.add(Thread.ofPlatform().name("softirq").start(() -> {
            while (!stop.get()) {
                Irq.softirq(() -> {
                    long h = mm.allocPages(Gfp.ATOMIC | Gfp.NOWARN, 0);
                    atomicAllocs.incrementAndGet();
                    if (h == PageHandle.NULL) {
                        atomicFailures.incrementAndGet();
                    } else {
                        mm.freePages(h, 0);
                    }
                });
                try {
                    TimeUnit.MICROSECONDS.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }));

        Progress progress = new Progress(System.err, cfg.seconds * 1000L);
        long start = System.currentTimeMillis();
        long end = start + cfg.seconds * 1000L;
        while (System.currentTimeMillis() < end) {
            Thread.sleep(200);
            long elapsed = System.currentTimeMillis() - start;
            progress.update(elapsed, () -> String.format("free %d MiB, dirty %d MiB, cache %d MiB, writes %d",
                    mm.vmstat().get(VmItem.NR_FREE_PAGES) / 256, pc.nrDirty() / 256, cache.size() / 256, writes.get()));
        }
        progress.finish();
        stop.set(true);
        for (Thread t : workers) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }
        mm.pages().setAllocObserver(null);

        // vmstat and meminfo as the load left them; then write everything back and drop the caches.
        long[] after = mm.vmstat().snapshot();
        String meminfo = mm.meminfo();
        for (AddressSpace as : spaces) {
            as.writepages(WritebackControl.integrity(0, WritebackControl.RANGE_END_MAX));
        }
        for (AddressSpace as : spaces) {
            as.evict();
        }
        for (Long h; (h = cache.pollFirst()) != null; ) {
            mm.freePages(h, 0);
        }
        shrinker.free();
        for (FileChannel ch : channels) {
            ch.close();
        }

        Map<String, Object> run = new LinkedHashMap<>();
        run.put("memory_mib", cfg.memoryMiB);
        run.put("seconds", cfg.seconds);
        run.put("threads", cfg.threads);
        run.put("writes", writes.get());
        run.put("reads", reads.get());
        run.put("cache_pages_reclaimed", cacheFreed.get());
        run.put("atomic_allocations", atomicAllocs.get());
        run.put("atomic_failures", atomicFailures.get());
        Map<String, Object> vm = new LinkedHashMap<>();
        VmItem[] items = VmItem.values();
        for (int i = 0; i < items.length; i++) {
            if (items[i].isState()) {
                vm.put(items[i].kernelName(), after[i]); // a state: its value when the load ended
            } else if (after[i] != before[i]) {
                vm.put(items[i].kernelName(), after[i] - before[i]); // an event counter: what the load added
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("run", run);
        result.put("vmstat", vm);
        result.put("meminfo", parseMeminfo(meminfo));
        result.put("latency", latency.percentiles());
        return result;
    }

    /** {@code "MemFree:   123 kB"} lines → field → kB. */
    static Map<String, Object> parseMeminfo(String text) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String[] v = line.substring(colon + 1).trim().split("\\s+");
            try {
                out.put(line.substring(0, colon).trim(), Long.parseLong(v[0]));
            } catch (NumberFormatException e) {
                // not a numeric field
            }
        }
        return out;
    }
}
