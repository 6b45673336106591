package io.memscope.cli.scenario;

import io.memscope.MemoryManager;
import io.memscope.journal.JournalOptions;
import io.memscope.journal.JournalStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * seeds/002: "the writeback path is a source of allocation deadlocks no matter where it is called
 * from" — "->writepages should be under memalloc_nofs_save". The reference journaling store
 * ({@code memscope-journal}) writes a file and fsyncs it: {@code filemap_write_and_wait} runs the
 * store's {@code writepages} on the caller's thread, which takes the file system's lock and, with
 * pages in writeback, allocates its I/O buffer. Its inode shrinker takes the same lock.
 *
 * <p>Unsafe: writepages allocates with {@code GFP_KERNEL}; lockdep reports the
 * {@code jfs_trans → fs_reclaim → jfs_trans} cycle on the first writeback. Safe: writepages runs
 * inside a NOFS scope opened where the lock is taken — no report, and the data is on disk.
 */
final class WritebackPath implements Scenario {
    @Override
    public String name() {
        return "writeback";
    }

    @Override
    public String story() {
        return "writepages allocates GFP_KERNEL with pages in writeback and the fs lock held (seeds/002)";
    }

    @Override
    public Result run(Variant variant) {
        List<String> out = new ArrayList<>();
        Path dir = null;
        try (MemoryManager mm = MemoryManager.builder().memoryBytes(64L << 20).lockdep(true).panicOnWarn(false)
                .build()) {
            dir = Files.createTempDirectory("memscope-scenario");
            // Transactions are scoped in both variants: only the writeback path differs.
            JournalOptions opts = new JournalOptions(true, variant == Variant.SAFE);
            byte[] data = "the data that must reach the disk\n".repeat(500).getBytes(StandardCharsets.UTF_8);
            byte[] back = new byte[data.length];
            try (JournalStore store = new JournalStore(mm.pageCache(), mm.lockdep(), mm.shrinkers(), dir, opts)) {
                io.memscope.journal.JournalFile f = store.open("data");
                store.write(f, 0, data);
                store.fsync(f);
                store.read(f, 0, back);
                store.close(f);
            }
            boolean durable = java.util.Arrays.equals(Files.readAllBytes(dir.resolve("data")), data);
            List<String> log = mm.log().lines();
            out.addAll(log);
            boolean cycle = log.stream().anyMatch(l -> l.contains("possible circular locking dependency detected"));
            out.add("file on disk " + (durable ? "equals" : "DIFFERS FROM") + " what was written");
            if (variant == Variant.UNSAFE) {
                return new Result(cycle && durable, out);
            }
            out.add("clean: writepages ran inside a NOFS scope; lockdep reports: " + mm.lockdep().reportCount());
            return new Result(!cycle && durable && mm.lockdep().reportCount() == 0, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (dir != null) {
                try (Stream<Path> s = Files.walk(dir)) {
                    s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }
}
