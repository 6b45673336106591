package io.memscope.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.testkit.Machines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The page allocator's JFR events (io.memscope.stat): memscope.AllocFailure once per NULL return
 * (with __GFP_NOWARN too), memscope.PageAlloc for a slow-path allocation, memscope.AllocStall
 * spanning a direct reclaim. Only events of the test's own thread are counted.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PageJfrEventsTest {
    @RegisterExtension
    final Machines machines = new Machines();

    /** Frees {@code give} pages from {@code pool} per call (sleeping 2 ms first), reports them as progress. */
    private static final class Reclaimer implements DirectReclaimer {
        final Deque<Long> pool = new ArrayDeque<>();
        volatile int give;

        @Override
        public long tryToFreePages(PageAllocator a, int gfp, int order, long nodemask) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            int n = 0;
            for (; n < give && !pool.isEmpty(); n++) {
                a.freePages(pool.pop());
            }
            return n;
        }
    }

    @Test
    void failureSlowPathAllocationAndStallEvents() throws Exception {
        Reclaimer r = new Reclaimer();
        MemoryManager mm = machines.create(b -> b.zonePages(new long[][] {{0, 0, 4096, 0}}).cpuSlots(1).debug(false)
                .panicOnWarn(false).directReclaimer(r).kswapdWaker((zone, gfp, order, idx) -> { }));
        List<Long> held = new ArrayList<>();
        for (long h; (h = mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, 0)) != PageHandle.NULL; ) {
            held.add(h);
        }
        long tid = Thread.currentThread().threadId();
        Path file = Files.createTempFile("memscope-page-events", ".jfr");
        long got;
        try (Recording rec = new Recording()) {
            for (String name : new String[] {"memscope.AllocFailure", "memscope.PageAlloc", "memscope.AllocStall"}) {
                rec.enable(name).withThreshold(Duration.ZERO).withoutStackTrace();
            }
            rec.start();
            // two NULL returns: one silenced by __GFP_NOWARN, one reported
            assertThat(mm.allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, 0)).isEqualTo(PageHandle.NULL);
            assertThat(mm.allocPages(Gfp.KERNEL | Gfp.NORETRY, 0)).isEqualTo(PageHandle.NULL);
            // direct reclaim frees 512 pages: the slow path then succeeds
            for (int i = 0; i < 512; i++) {
                r.pool.push(held.removeLast());
            }
            r.give = 512;
            got = mm.allocPages(Gfp.KERNEL | Gfp.NORETRY, 0);
            assertThat(got).isNotEqualTo(PageHandle.NULL);
            rec.stop();
            rec.dump(file);
        }
        List<RecordedEvent> events;
        try {
            events = RecordingFile.readAllEvents(file).stream()
                    .filter(e -> e.getThread() != null && e.getThread().getJavaThreadId() == tid).toList();
        } finally {
            Files.deleteIfExists(file);
        }
        List<RecordedEvent> failures = byName(events, "memscope.AllocFailure");
        assertThat(failures).hasSize(2);
        assertThat(failures).extracting(e -> e.getInt("order")).containsOnly(0);
        assertThat(failures).extracting(e -> e.getInt("gfp")).containsExactlyInAnyOrder(
                Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, Gfp.KERNEL | Gfp.NORETRY);
        assertThat(failures).extracting(e -> e.getString("gfpText")).contains("0x10cc0(GFP_KERNEL|__GFP_NORETRY)");

        List<RecordedEvent> allocs = byName(events, "memscope.PageAlloc");
        assertThat(allocs).hasSize(1);
        assertThat(allocs.get(0).getLong("pfn")).isEqualTo(PageHandle.pfn(got));
        assertThat(allocs.get(0).getInt("order")).isZero();
        assertThat(allocs.get(0).getInt("gfp")).isEqualTo(Gfp.KERNEL | Gfp.NORETRY);

        List<RecordedEvent> stalls = byName(events, "memscope.AllocStall");
        assertThat(stalls).as("one direct reclaim per request (NORETRY)").hasSize(3);
        assertThat(stalls).allSatisfy(e -> {
            assertThat(e.getDuration()).isGreaterThanOrEqualTo(Duration.ofMillis(2));
            assertThat(e.getInt("order")).isZero();
        });
        assertThat(stalls).extracting(e -> e.getLong("nrReclaimed")).containsExactly(0L, 0L, 512L);

        mm.freePages(got);
        held.forEach(mm::freePages);
    }

    private static List<RecordedEvent> byName(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).toList();
    }
}
