package io.memscope.bench;

import io.memscope.MemoryManager;
import io.memscope.pagecache.AddressSpace;
import io.memscope.pagecache.BdiWriteback;
import io.memscope.pagecache.Fgp;
import io.memscope.pagecache.FileBackedOperations;
import io.memscope.pagecache.PageCache;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The page cache's hot paths on one machine (lockdep off): a lookup that hits
 * ({@code filemap_get_folio} + {@code folio_put}), a find-or-create that misses (allocate, insert,
 * LRU add, then evict again so memory stays flat), and buffered write + {@code fsync} of 1 MiB to a
 * temporary file (real I/O: MB/s = 1 / (ms per op) × 1000).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PageCacheBenchmark {
    private static final int HOT_PAGES = 1024;
    private MemoryManager mm;
    private FileChannel channel;
    private Path dir;
    private AddressSpace hot;
    private AddressSpace cold;
    private AddressSpace data;
    private byte[] mib = new byte[1 << 20];
    private int i;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        mm = MemoryManager.builder().memoryBytes(256L << 20).lockdep(false).build();
        PageCache cache = mm.pageCache();
        BdiWriteback bdi = cache.newBdi("bench");
        dir = Files.createTempDirectory("memscope-bench");
        channel = FileChannel.open(dir.resolve("data"), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileBackedOperations ops = new FileBackedOperations(channel, mm.log());
        hot = cache.newAddressSpace("hot", ops, null);
        cold = cache.newAddressSpace("cold", ops, null);
        data = cache.newAddressSpace("data", ops, bdi);
        for (int p = 0; p < HOT_PAGES; p++) {
            int pfn = hot.filemapGetFolio(p, Fgp.LOCK | Fgp.CREAT);
            hot.folioMarkUptodate(pfn);
            hot.folioUnlock(pfn);
            hot.folioPut(pfn);
        }
        new java.util.Random(1).nextBytes(mib);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        data.filemapWriteAndWait();
        hot.evict();
        cold.evict();
        data.evict();
        mm.close();
        channel.close();
        Files.deleteIfExists(dir.resolve("data"));
        Files.deleteIfExists(dir);
    }

    /** filemap_get_folio hit + folio_put. */
    @Benchmark
    public int findHit() {
        int pfn = hot.filemapGetFolio(i++ & (HOT_PAGES - 1), 0);
        hot.folioPut(pfn);
        return pfn;
    }

    /** filemap_get_folio(FGP_LOCK | FGP_CREAT) miss, then unlock, put and evict the page again. */
    @Benchmark
    public int findOrCreateMiss() {
        int index = i++ & 0xffff;
        int pfn = cold.filemapGetFolio(index, Fgp.LOCK | Fgp.CREAT);
        cold.folioUnlock(pfn);
        cold.folioPut(pfn);
        cold.invalidateMappingPages(index, index);
        return pfn;
    }

    /** 1 MiB buffered write + filemap_write_and_wait (positional writes + force). */
    @Benchmark
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public long writeback1MiB() {
        data.performWrite(0, mib, 0, mib.length);
        data.filemapWriteAndWait();
        return data.size();
    }
}
