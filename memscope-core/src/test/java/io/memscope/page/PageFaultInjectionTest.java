package io.memscope.page;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.memscope.MemoryManager;
import io.memscope.debug.FailPageAlloc;
import io.memscope.gfp.Gfp;
import io.memscope.sched.Task;
import io.memscope.testkit.Machines;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code fail_page_alloc} wired into a machine (RELIABILITY D1–D4; KERNEL.md §8, T69): the builder's
 * {@code failPageAlloc(seed)} makes the allocator ask {@link FailPageAlloc#shouldFailAllocPage} in
 * {@code prepare_alloc_pages()}, once per call, before any free list is looked at.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PageFaultInjectionTest {
    @RegisterExtension
    final Machines machines = new Machines();

    /** Every order, every blocking mode: min-order 0 and ignore-gfp-wait off. */
    private static void everything(FailPageAlloc f) {
        f.setMinOrder(0).setIgnoreGfpWait(false);
    }

    @Test
    void kernelDefaultsNeverFailGfpKernelOrOrderZeroT69() {
        MemoryManager mm = machines.create(b -> b.failPageAlloc(Machines.seed(),
                f -> f.attr().setProbability(100).setTimes(-1).setVerbose(0)));
        for (int order = 0; order <= 3; order++) {
            long h = mm.allocPages(Gfp.KERNEL, order);
            assertThat(h).as("GFP_KERNEL order %d", order).isNotEqualTo(PageHandle.NULL);
            mm.freePages(h);
        }
        long atomic0 = mm.allocPages(Gfp.ATOMIC, 0);
        assertThat(atomic0).as("order 0 is below the default min-order 1").isNotEqualTo(PageHandle.NULL);
        mm.freePages(atomic0);
        assertThat(mm.allocPages(Gfp.ATOMIC | Gfp.NOWARN, 1)).isEqualTo(PageHandle.NULL);
        assertThat(mm.failPageAlloc().attr().injectedCount()).isEqualTo(1);
    }

    @Test
    void builderRejectsTwoFaultSourcesAndAMachineWithoutOneHasNoKnobs() {
        assertThatThrownBy(() -> MemoryManager.builder().memoryBytes(16L << 20).faultHook((g, o) -> false)
                .failPageAlloc(1).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected either faultHook(...) or failPageAlloc(...), found both");
        MemoryManager plain = machines.create();
        assertThatThrownBy(plain::failPageAlloc).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("expected a machine built with failPageAlloc(seed)");
    }

    /** The success/failure pattern of 400 single-threaded alloc+free calls on a fresh machine. */
    private String failurePattern(long seed) {
        MemoryManager mm = machines.create(b -> b.failPageAlloc(seed, PageFaultInjectionTest::everything));
        mm.failPageAlloc().attr().setProbability(30).setTimes(-1).setVerbose(0);
        SplittableRandom r = new SplittableRandom(99); // the request stream is fixed; only the seed varies
        StringBuilder sb = new StringBuilder();
        int nulls = 0;
        for (int i = 0; i < 400; i++) {
            long h = mm.allocPages(Gfp.KERNEL, r.nextInt(4));
            sb.append(h == PageHandle.NULL ? 'F' : '.');
            if (h == PageHandle.NULL) {
                nulls++;
            } else {
                mm.freePages(h);
            }
        }
        assertThat(mm.failPageAlloc().attr().injectedCount()).as("each injection seen by the caller").isEqualTo(nulls);
        return sb.toString();
    }

    @Test
    void sameSeedSameFailureSequenceD1() {
        long seed = Machines.seed();
        String first = failurePattern(seed);
        assertThat(failurePattern(seed)).isEqualTo(first);
        assertThat(first.chars().filter(c -> c == 'F').count()).as("30 %% of 400, seed %d", seed).isBetween(60L, 180L);
        assertThat(failurePattern(seed + 1)).as("another seed fails other calls").isNotEqualTo(first);
    }

    /** One public entry point under the sweep; returns the handle to free (NULL on failure). */
    private record EntryPoint(String name, LongSupplier call, long freeSize) {}

    @Test
    void failNthSweepOverEveryEntryPointD2() {
        MemoryManager mm = machines.create(b -> b.failPageAlloc(Machines.seed(), PageFaultInjectionTest::everything));
        List<EntryPoint> points = new ArrayList<>();
        for (int gfp : new int[] {Gfp.KERNEL, Gfp.NOFS, Gfp.ATOMIC, Gfp.NOWAIT, Gfp.KERNEL | Gfp.ZERO | Gfp.COMP}) {
            for (int order = 0; order <= 3; order++) {
                int o = order;
                points.add(new EntryPoint("allocPages " + AllocReports.gfpReport(gfp) + " order " + o,
                        () -> mm.allocPages(gfp, o), 0));
            }
            points.add(new EntryPoint("allocPagesNode " + AllocReports.gfpReport(gfp), () -> mm.allocPagesNode(0, gfp, 1), 0));
            points.add(new EntryPoint("getFreePage " + AllocReports.gfpReport(gfp), () -> mm.getFreePage(gfp), 0));
        }
        points.add(new EntryPoint("allocPagesExact 5 pages + 1 byte", () -> mm.allocPagesExact(5 * 4096 + 1, Gfp.KERNEL),
                5 * 4096 + 1));
        Task task = Task.current();
        mm.log().drain();
        for (EntryPoint p : points) {
            int steps = 0;
            for (int n = 1; ; n++) {
                task.setFailNth(n);
                long h;
                try {
                    h = p.call().getAsLong();
                } finally {
                    steps = n;
                }
                boolean reached = task.failNth() == 0; // the nth check happened (and failed the call)
                task.setFailNth(0);
                if (h != PageHandle.NULL) {
                    if (p.freeSize() > 0) {
                        mm.freePagesExact(h, p.freeSize());
                    } else {
                        mm.freePages(h);
                    }
                }
                assertThat(mm.validate()).as("%s, fail-nth %d", p.name(), n).isZero();
                assertThat(mm.pages().allocatedPages() - quarantined(mm)).as("%s leaked at fail-nth %d", p.name(), n)
                        .isZero();
                if (!reached) {
                    assertThat(h).as("%s succeeds once no check is failed", p.name()).isNotEqualTo(PageHandle.NULL);
                    break;
                }
                assertThat(h).as("%s with its check %d failed", p.name(), n).isEqualTo(PageHandle.NULL);
            }
            // should_fail_alloc_page() is asked once per call, in prepare_alloc_pages(): the sweep ends at 2.
            assertThat(steps).as(p.name()).isEqualTo(2);
        }
        assertThat(mm.failPageAlloc().attr().injectedCount()).isEqualTo(points.size());
        assertThat(mm.log().lines()).as("a forced failure prints the injection report, never warn_alloc")
                .contains("FAULT_INJECTION: forcing a failure.")
                .noneMatch(l -> l.contains("page allocation failure"));
    }

    @Test
    void failNthSkipsNofailAndExemptRequests() {
        MemoryManager mm = machines.create(b -> b.failPageAlloc(Machines.seed()));
        Task task = Task.current();
        try {
            task.setFailNth(1);
            long nofail = mm.allocPages(Gfp.KERNEL | Gfp.NOFAIL, 1); // __GFP_NOFAIL is never a check
            long kernel = mm.allocPages(Gfp.KERNEL, 1); // ignore-gfp-wait (default Y) exempts it
            long order0 = mm.allocPages(Gfp.ATOMIC, 0); // below min-order 1
            assertThat(task.failNth()).as("no check was made").isEqualTo(1);
            assertThat(new long[] {nofail, kernel, order0}).doesNotContain(PageHandle.NULL);
            assertThat(mm.allocPages(Gfp.ATOMIC | Gfp.NOWARN, 1)).as("the first eligible check").isEqualTo(PageHandle.NULL);
            assertThat(task.failNth()).isZero();
            mm.freePages(nofail);
            mm.freePages(kernel);
            mm.freePages(order0);
        } finally {
            task.setFailNth(0);
        }
    }

    private static long quarantined(MemoryManager mm) {
        return mm.pages().debug == null ? 0 : mm.pages().debug.quarantinedPages();
    }

    private static final int[] D3_MASKS = {Gfp.KERNEL, Gfp.NOFS, Gfp.ATOMIC, Gfp.NOWAIT, Gfp.KERNEL | Gfp.NORETRY,
        Gfp.KERNEL | Gfp.RETRY_MAYFAIL, Gfp.KERNEL | Gfp.NOFAIL, Gfp.NOFS | Gfp.NOFAIL, Gfp.HIGHUSER_MOVABLE};

    @Test
    void probabilityTenAcrossAConcurrentRunD3() throws Exception {
        long seed = Machines.seed();
        // 64 MiB, at most 66 threads x 8 blocks x 8 pages held: every NULL is an injected one.
        MemoryManager mm = machines.create(b -> b.debug(false).failPageAlloc(seed, f -> {
            everything(f);
            f.attr().setProbability(10).setInterval(1).setTimes(-1).setVerbose(0);
        }));
        AtomicLong nulls = new AtomicLong();
        AtomicLong nofailNulls = new AtomicLong();
        AtomicLong calls = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 66; i++) {
            SplittableRandom r = new SplittableRandom(seed * 31 + i);
            Runnable run = () -> {
                try {
                    List<Long> held = new ArrayList<>();
                    for (int op = 0; op < 2000; op++) {
                        if (held.size() < 8 && (held.isEmpty() || r.nextInt(100) < 55)) {
                            int gfp = D3_MASKS[r.nextInt(D3_MASKS.length)] | Gfp.NOWARN;
                            long h = mm.allocPages(gfp, r.nextInt(4));
                            calls.incrementAndGet();
                            if (h != PageHandle.NULL) {
                                held.add(h);
                            } else {
                                nulls.incrementAndGet();
                                if ((gfp & Gfp.NOFAIL) != 0) {
                                    nofailNulls.incrementAndGet();
                                }
                            }
                        } else {
                            mm.freePages(held.remove(r.nextInt(held.size())));
                        }
                    }
                    held.forEach(mm::freePages);
                } catch (Throwable t) {
                    errors.add(t);
                }
            };
            threads.add(i < 2 ? Thread.ofPlatform().start(run) : Thread.ofVirtual().start(run));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(errors).as("seed %d", seed).isEmpty();
        assertThat(nofailNulls.get()).as("__GFP_NOFAIL never fails").isZero();
        long injected = mm.failPageAlloc().attr().injectedCount();
        assertThat(injected).as("each injection counted once and seen once, seed %d", seed).isEqualTo(nulls.get());
        // 6 of 9 masks are eligible at 10 % (the two NOFAIL masks are exempt, and so is
        // GFP_HIGHUSER_MOVABLE: __GFP_HIGHMEM under ignore-gfp-highmem): expect 6.67 % of calls. With
        // about 68 000 calls the binomial sigma is about 0.001, so +-0.008 is ~8 sigma, while 5 or 7
        // eligible masks (5.6 % or 7.8 %) fall outside. A count, not a timing.
        assertThat((double) injected / calls.get()).isCloseTo(6.0 / 9 * 0.10, within(0.008));
        assertThat(mm.validate()).isZero();
        assertThat(mm.pages().allocatedPages()).isZero();
    }

    @Test
    void injectionReportFormatAndNowarnSilenceD4() {
        MemoryManager mm = machines.create(b -> b.failPageAlloc(Machines.seed(), f -> f.attr().setProbability(100)
                .setTimes(-1).setVerbose(1)));
        mm.log().drain();
        assertThat(mm.allocPages(Gfp.ATOMIC | Gfp.NOWARN, 2)).isEqualTo(PageHandle.NULL);
        assertThat(mm.log().entries()).as("__GFP_NOWARN: no report at all").isEmpty();
        assertThat(mm.allocPages(Gfp.ATOMIC, 2)).isEqualTo(PageHandle.NULL);
        assertThat(mm.log().lines()).containsExactly("FAULT_INJECTION: forcing a failure.",
                "name fail_page_alloc, interval 1, probability 100, space 0, times -1");
        mm.log().drain();
        mm.failPageAlloc().attr().setVerbose(2).setTimes(2).setSpace(3).setInterval(1);
        long passed = mm.allocPages(Gfp.ATOMIC, 1);
        assertThat(passed).as("space 3 > size 2: passes").isNotEqualTo(PageHandle.NULL);
        assertThat(mm.allocPages(Gfp.ATOMIC, 1)).isEqualTo(PageHandle.NULL);
        List<String> lines = mm.log().lines();
        assertThat(lines.subList(0, 4)).containsExactly("FAULT_INJECTION: forcing a failure.",
                "name fail_page_alloc, interval 1, probability 100, space 1, times 2",
                "CPU: 0 UID: 0 PID: " + Task.current().pid() + " Comm: " + abbreviate(Task.current().comm()),
                "Call Trace:");
        assertThat(lines).anyMatch(l -> l.startsWith(" io.memscope.page.PageFaultInjectionTest.injectionReportFormat"));
        assertThat(mm.failPageAlloc().attr().times()).isEqualTo(1);
        mm.freePages(passed);
    }

    private static String abbreviate(String comm) {
        return comm.length() > 20 ? comm.substring(0, 20) : comm;
    }
}
