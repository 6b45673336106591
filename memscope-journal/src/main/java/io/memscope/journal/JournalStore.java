package io.memscope.journal;

import io.memscope.gfp.Gfp;
import io.memscope.locking.Lockdep;
import io.memscope.locking.Mutex;
import io.memscope.page.PageAllocator;
import io.memscope.page.PageHandle;
import io.memscope.pagecache.AddressSpace;
import io.memscope.pagecache.BdiWriteback;
import io.memscope.pagecache.PageCache;
import io.memscope.reclaim.Shrinker;
import io.memscope.reclaim.Shrinkers;
import io.memscope.sched.Memalloc;
import io.memscope.sched.MemallocScope;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A small journaling store over real files: memscope's reference client, the "filesystem" of the
 * seed documents. It has what makes a file system dangerous to memory reclaim:
 *
 * <ul>
 *   <li>a <b>transaction lock</b> {@code jfs_trans} (a lockdep-checked {@link Mutex}) held while a
 *       write allocates journal buffers ({@code GFP_KERNEL}) and page-cache pages (the mapping's
 *       mask, {@code GFP_HIGHUSER_MOVABLE}: both may enter filesystem reclaim);</li>
 *   <li>an <b>inode cache</b> with a shrinker, {@code sb-journal}, whose scan takes
 *       {@code jfs_trans} to evict unused inodes (XFS shrinkers "lock inodes ... run
 *       transactions", seeds/002) and, like {@code super_cache_scan}, returns
 *       {@code SHRINK_STOP} without {@code __GFP_FS};</li>
 *   <li><b>writeback</b> ({@code ->writepages}) that takes {@code jfs_trans} and allocates a log
 *       buffer while the pages it writes are under writeback;</li>
 *   <li>a <b>journal file</b> of records, written and forced at {@link #commit()}.</li>
 * </ul>
 *
 * <p>So, unsafe ({@link JournalOptions#unsafe()}): a write holding {@code jfs_trans} allocates
 * with {@code __GFP_FS}; under memory pressure that allocation enters direct reclaim, reclaim calls
 * the shrinker, the shrinker waits for {@code jfs_trans} — held by the very thread that is
 * reclaiming. Lockdep reports the cycle ({@code jfs_trans → fs_reclaim → jfs_trans}) on the first
 * such allocation with memory plentiful. Safe ({@link JournalOptions#safe()}): the scope opened
 * where the lock is taken strips {@code __GFP_FS} from every allocation under it, so reclaim
 * entered from there skips the shrinker (it defers the work to kswapd).
 *
 * <p>Thread-safe: data operations on one file may run concurrently; {@code jfs_trans} serialises
 * transactions. Lock order: {@code jfs_trans} → page lock → {@code xa_lock}; the inode-cache lock is
 * a leaf. Dirty throttling ({@code balance_dirty_pages}) runs after {@code jfs_trans} is dropped.
 */
public final class JournalStore implements AutoCloseable {
    private static final int PAGE_SIZE = 4096;

    private final PageCache cache;
    private final io.memscope.debug.KernelLog log;
    private final PageAllocator allocator;
    private final Path dir;
    private final JournalOptions options;
    private final Mutex trans;
    private final BdiWriteback bdi;
    private final FileChannel journal;
    private final Shrinker shrinker;
    /** Inode cache: name → inode, least recently used first. Guarded by itself (a leaf lock). */
    private final LinkedHashMap<String, JournalFile> inodes = new LinkedHashMap<>(16, 0.75f, true);
    /** Journal buffers of the running transaction (page handles with one record each); under jfs_trans. */
    private final List<Long> running = new ArrayList<>();
    private long journalTail;
    private long tid;

    /**
     * Opens a store in {@code dir} (its journal is {@code dir/journal.log}) with its own flusher
     * thread, and registers the {@code sb-journal} shrinker with {@code shrinkers}.
     *
     * @param lockdep checks {@code jfs_trans}; use the machine's so fs_reclaim cycles are seen
     */
    public JournalStore(PageCache cache, Lockdep lockdep, Shrinkers shrinkers, Path dir, JournalOptions options) {
        this.cache = Objects.requireNonNull(cache);
        this.allocator = cache.allocator();
        this.log = lockdep.log();
        this.dir = Objects.requireNonNull(dir);
        this.options = Objects.requireNonNull(options);
        this.trans = new Mutex(lockdep, "jfs_trans");
        this.bdi = cache.newBdi("journal-" + dir.getFileName());
        try {
            this.journal = FileChannel.open(dir.resolve("journal.log"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.READ);
            this.journalTail = journal.size();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.shrinker = shrinkers.alloc("sb-journal", Shrinker.NONSLAB, Shrinker.DEFAULT_SEEKS, 1024,
                new InodeShrinker(this)).register();
        // Tell lockdep now that reclaim (this shrinker) takes jfs_trans, as drivers prime
        // fs_reclaim at init: the first allocation that may recurse into us while jfs_trans is
        // held is then reported at once, without waiting for real memory pressure.
        lockdep.fsReclaim().prime("shrinker sb-journal", trans.lockdepMap());
    }

    /** The options this store runs with. */
    public JournalOptions options() {
        return options;
    }

    /** The {@code sb-journal} shrinker (its deferred count shows work refused without {@code __GFP_FS}). */
    public Shrinker shrinker() {
        return shrinker;
    }

    /** The machine's kernel log (for the operations' reports). */
    io.memscope.debug.KernelLog logForOps() {
        return log;
    }

    /** The transaction lock. */
    public Mutex transLock() {
        return trans;
    }

    /** The store's flusher. */
    public BdiWriteback bdi() {
        return bdi;
    }

    /**
     * Takes {@code jfs_trans}. In the safe variant a NOFS scope opens right here, at the layer that
     * takes the lock: the {@code sb-journal} shrinker (the reclaim context that needs this lock)
     * must never be entered from an allocation made while it is held. The returned handle releases
     * both, scope first, in LIFO order.
     */
    Transaction beginTransaction() {
        trans.lock();
        MemallocScope scope = options.scopedTransactions() ? Memalloc.nofsScope() : null;
        return new Transaction(scope);
    }

    /** A held {@code jfs_trans} (and its scope). */
    final class Transaction implements AutoCloseable {
        private final MemallocScope scope;

        private Transaction(MemallocScope scope) {
            this.scope = scope;
        }

        @Override
        public void close() {
            if (scope != null) {
                scope.close();
            }
            trans.unlock();
        }
    }

    // ---------------------------------------------------------------- inodes

    /**
     * Opens (creating if needed) file {@code name}: finds its inode in the cache or reads it in,
     * allocating its inode page under {@code jfs_trans}. May sleep.
     */
    public JournalFile open(String name) {
        synchronized (inodes) {
            JournalFile f = inodes.get(name);
            if (f != null) {
                f.openCount++;
                return f;
            }
        }
        JournalFile created;
        try (Transaction t = beginTransaction()) {
            long inodePage = allocator.allocPages(Gfp.KERNEL | Gfp.RECLAIMABLE, 0);
            if (inodePage == PageHandle.NULL) {
                throw new JournalNoMemoryException("open " + name + ": no memory for its inode");
            }
            FileChannel ch;
            try {
                ch = FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
            } catch (IOException e) {
                allocator.freePages(inodePage);
                throw new UncheckedIOException(e);
            }
            JournalOps ops = new JournalOps(this, ch);
            AddressSpace as = cache.newAddressSpace(name, ops, bdi);
            try {
                as.setSize(ch.size());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            created = new JournalFile(name, ch, as, inodePage);
            created.openCount = 1;
        }
        synchronized (inodes) {
            JournalFile raced = inodes.putIfAbsent(name, created);
            if (raced == null) {
                return created;
            }
            raced.openCount++;
        }
        destroyInode(created); // lost a race with another open of the same name
        return open(name);
    }

    /** Drops an open; the inode stays cached (unused) until the shrinker or {@link #close()} evicts it. */
    public void close(JournalFile f) {
        synchronized (inodes) {
            if (f.openCount <= 0) {
                throw new IllegalStateException("close of " + f.name + ": expected an open file, found open count "
                        + f.openCount);
            }
            f.openCount--;
        }
    }

    /** Unused inodes with no dirty or under-writeback pages: what the shrinker may evict now. Never blocks on jfs_trans. */
    long countUnused() {
        synchronized (inodes) {
            long n = 0;
            for (JournalFile f : inodes.values()) {
                if (f.openCount == 0) {
                    n++;
                }
            }
            return n;
        }
    }

    /** Cached inodes (used or not). */
    public int cachedInodes() {
        synchronized (inodes) {
            return inodes.size();
        }
    }

    /**
     * Evicts up to {@code nr} unused, clean inodes, oldest first; the caller holds jfs_trans (as an
     * XFS inode reclaim runs a transaction). Returns the number evicted.
     */
    long pruneInodes(long nr) {
        List<JournalFile> victims = new ArrayList<>();
        synchronized (inodes) {
            Iterator<Map.Entry<String, JournalFile>> it = inodes.entrySet().iterator();
            while (it.hasNext() && victims.size() < nr) {
                JournalFile f = it.next().getValue();
                if (f.openCount == 0 && f.mapping.nrDirtyPages() == 0) {
                    it.remove();
                    victims.add(f);
                }
            }
        }
        for (JournalFile f : victims) {
            destroyInode(f);
        }
        return victims.size();
    }

    private void destroyInode(JournalFile f) {
        f.mapping.evict();
        allocator.freePages(f.inodePage);
        try {
            f.channel.close();
        } catch (IOException ignored) {
            // the data was written back before eviction; a close failure loses nothing
        }
    }

    // ---------------------------------------------------------------- data

    /**
     * Writes {@code bytes} at {@code offset} of {@code f} in one transaction: a journal record in a
     * new journal buffer and the data in the page cache, both allocated under {@code jfs_trans}.
     * Then, outside the transaction, throttles the writer if too much is dirty
     * ({@code balance_dirty_pages}). May sleep.
     *
     * @throws JournalNoMemoryException no journal buffer (nothing written)
     * @throws io.memscope.pagecache.PageCacheNoMemoryException no page-cache page (the bytes before it are written and logged)
     */
    public void write(JournalFile f, long offset, byte[] bytes) {
        try (Transaction t = beginTransaction()) {
            logRecord("W " + f.name + " " + offset + " " + bytes.length);
            f.mapping.performWrite(offset, bytes, 0, bytes.length);
        }
        cache.dirtyThrottle().balanceDirtyPagesRatelimited(f.mapping);
    }

    /** Reads up to {@code dst.length} bytes at {@code offset}; -1 at the end. No transaction. May sleep. */
    public int read(JournalFile f, long offset, byte[] dst) {
        return f.mapping.read(offset, dst, 0, dst.length);
    }

    /**
     * Makes {@code f}'s data durable ({@code filemap_write_and_wait} — writeback on the caller's
     * thread, "from anywhere") and commits the journal. Must not be called holding jfs_trans. May sleep.
     */
    public void fsync(JournalFile f) {
        f.mapping.filemapWriteAndWait();
        commit();
    }

    /**
     * Appends a journal record to the running transaction: allocates a journal buffer with
     * {@code GFP_KERNEL} (under jfs_trans: the allocation the scope exists for) and fills it.
     */
    void logRecord(String record) {
        long buf = allocator.allocPages(Gfp.KERNEL, 0);
        if (buf == PageHandle.NULL) {
            throw new JournalNoMemoryException("journal buffer for \"" + record + "\": allocation failed");
        }
        byte[] text = (record + "\n").getBytes(StandardCharsets.UTF_8);
        MemorySegment seg = allocator.segment(buf);
        seg.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 0, (short) Math.min(text.length, PAGE_SIZE - 2));
        MemorySegment.copy(text, 0, seg, java.lang.foreign.ValueLayout.JAVA_BYTE, 2, Math.min(text.length, PAGE_SIZE - 2));
        running.add(buf);
    }

    /**
     * Commits the running transaction: writes its journal buffers and a commit record to the
     * journal, forces it, and frees the buffers. May sleep and do I/O.
     */
    public void commit() {
        try (Transaction t = beginTransaction()) {
            tid++;
            for (long buf : running) {
                MemorySegment seg = allocator.segment(buf);
                int len = seg.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 0);
                appendJournal(seg.asSlice(2, len).asByteBuffer());
                allocator.freePages(buf);
            }
            running.clear();
            appendJournal(ByteBuffer.wrap(("C " + tid + "\n").getBytes(StandardCharsets.UTF_8)));
            journal.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("journal commit failed", e);
        }
    }

    private void appendJournal(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            journalTail += journal.write(b, journalTail);
        }
    }

    /** Journal buffers in the running transaction. */
    public int runningBuffers() {
        trans.lock();
        try {
            return running.size();
        } finally {
            trans.unlock();
        }
    }

    /**
     * Writes everything back, commits, evicts every inode, unregisters the shrinker (waiting for a
     * running scan) and stops the flusher. The store's pages are all freed when this returns.
     */
    @Override
    public void close() {
        shrinker.free();
        List<JournalFile> all;
        synchronized (inodes) {
            all = new ArrayList<>(inodes.values());
            inodes.clear();
        }
        for (JournalFile f : all) {
            f.mapping.filemapWriteAndWait();
        }
        commit();
        for (JournalFile f : all) {
            destroyInode(f);
        }
        bdi.close();
        try {
            journal.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
