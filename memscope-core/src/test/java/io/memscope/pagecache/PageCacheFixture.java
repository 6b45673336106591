package io.memscope.pagecache;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.MemoryManager;
import io.memscope.debug.FailPageAlloc;
import io.memscope.debug.KernelLog;
import io.memscope.page.PageHandle;
import io.memscope.page.PageWaitTable;
import io.memscope.reclaim.Lru;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A small machine with a page cache, one flusher and file-backed mappings in a temporary
 * directory. {@link #close()} evicts every mapping, then requires the page cache's and the
 * allocator's books to balance and no page to be left allocated.
 */
final class PageCacheFixture implements AutoCloseable {
    static final long SEED = Long.getLong("memscope.test.seed", 20261122L);

    final FailPageAlloc fail = new FailPageAlloc(new KernelLog(256, false), SEED);
    final MemoryManager mm;
    final Lru lru;
    final PageWaitTable wait;
    final PageCache cache;
    final BdiWriteback bdi;
    final Path dir;
    private final List<AddressSpace> mappings = new ArrayList<>();
    private final List<FileChannel> channels = new ArrayList<>();
    private final List<Runnable> beforeClose = new ArrayList<>();

    /** Opens the gate at close even if the test failed first, so eviction cannot hang on it. */
    WritebackTest.GatedOps gated(WritebackTest.GatedOps ops) {
        beforeClose.add(ops.gate::countDown);
        return ops;
    }

    PageCacheFixture(PageCache.Config config, boolean panicOnWarn) {
        fail.setMinOrder(0).setIgnoreGfpWait(false).setIgnoreGfpHighmem(false);
        fail.attr().setVerbose(0);
        mm = MemoryManager.builder().memoryBytes(64L << 20).cpuSlots(2).panicOnWarn(panicOnWarn)
                .faultHook(fail::shouldFailAllocPage).build();
        lru = mm.lru(0);
        wait = mm.pageWaitTable();
        cache = mm.pageCache(config);
        bdi = cache.newBdi("test");
        try {
            dir = Files.createTempDirectory("memscope-pagecache");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    PageCacheFixture() {
        this(PageCache.Config.defaults(), true);
    }

    KernelLog log() {
        return mm.log();
    }

    FileChannel channel(String name) {
        try {
            FileChannel ch = FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            channels.add(ch);
            return ch;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A mapping over file {@code name} with {@link FileBackedOperations}. */
    AddressSpace file(String name) {
        return mapping(name, new FileBackedOperations(channel(name), mm.log()));
    }

    AddressSpace mapping(String name, AddressSpaceOperations ops) {
        AddressSpace as = cache.newAddressSpace(name, ops, bdi);
        mappings.add(as);
        return as;
    }

    byte[] onDisk(String name) {
        try {
            return Files.readAllBytes(dir.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Simulates reclaim's isolation of a page: off the LRU, one more reference, locked. */
    boolean isolate(int pfn) {
        if (!lru.remove(pfn)) {
            return false;
        }
        assertThat(mm.pages().pageTable().refcountTryGet(pfn)).isTrue();
        assertThat(wait.trylockPage(pfn)).isTrue();
        return true;
    }

    /** Reclaim's end of a successful removeMapping: the count is 0, the page goes back to the allocator. */
    void freeReclaimed(int pfn) {
        wait.unlockPage(pfn);
        // The count is frozen at 0 by removeMapping: free_frozen_pages, as shrink_folio_list does.
        mm.pages().freeFrozenPages(PageHandle.of(pfn, 0, mm.pages().pageTable().generation(pfn)), 0);
    }

    /** Reclaim's putback of a page it could not free. */
    void putback(int pfn) {
        wait.unlockPage(pfn);
        lru.add(pfn);
        lru.put(pfn);
    }

    @Override
    public void close() {
        beforeClose.forEach(Runnable::run);
        try {
            for (AddressSpace as : mappings) {
                as.evict();
            }
            assertThat(cache.nrFilePages()).as("nr_file_pages after evicting every mapping").isZero();
            assertThat(cache.validate()).as("page cache books").isZero();
            assertThat(lru.validate()).isZero();
            assertThat(mm.validate()).as("allocator books").isZero();
        } finally {
            for (FileChannel ch : channels) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // closing a temp file
                }
            }
            mm.close(); // throws PageLeakException if a page is left
        }
    }
}
