package io.memscope.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.testkit.Machines;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Conservation under concurrency (RELIABILITY B1) and per-CPU bounds with thousands of virtual
 * threads (B3's shape, at T1 size).
 *
 * <p><b>B1 scale.</b> The default suite runs RELIABILITY B1 at its full size: 2 platform + 64
 * virtual threads × 100 000 operations (6.6 M allocate/free calls; about 2.5 s on the 2 shared
 * cores), orders 0–3, ten GFP masks, fault injection at 1 % on every order and mode
 * ({@code min-order 0}, {@code ignore-gfp-wait N}), debug mode off (page_owner stacks would
 * dominate). Debug mode on (poisoning, quarantine, stacks) runs at 10 000 operations per thread in
 * the default suite and at 100 000 with three more seeds in the {@code stress}-tagged variant.
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConcurrencyTest {
    /** Operations per thread of the debug-mode run in the default suite. */
    static final int DEBUG_OPS = 10_000;
    /** Operations per thread in RELIABILITY B1. */
    static final int FULL_OPS = 100_000;

    @RegisterExtension
    final Machines machines = new Machines();

    private static final int[] MASKS = {Gfp.KERNEL, Gfp.ATOMIC, Gfp.NOWAIT, Gfp.NOFS | Gfp.NORETRY,
        Gfp.KERNEL | Gfp.ZERO, Gfp.KERNEL | Gfp.COMP, Gfp.HIGHUSER_MOVABLE, Gfp.KERNEL | Gfp.RECLAIMABLE,
        Gfp.KERNEL | Gfp.RETRY_MAYFAIL, Gfp.KERNEL | Gfp.DMA32};

    /** Tallies of one run. */
    private static final class Tally {
        final AtomicLong allocs = new AtomicLong();
        final AtomicLong nulls = new AtomicLong();
        final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    }

    private static void worker(MemoryManager mm, long seed, int ops, Tally tally) {
        try {
            SplittableRandom r = new SplittableRandom(seed);
            List<Long> held = new ArrayList<>();
            long allocs = 0;
            long nulls = 0;
            for (int i = 0; i < ops; i++) {
                if (held.size() < 8 && (held.isEmpty() || r.nextInt(100) < 55)) {
                    int gfp = MASKS[r.nextInt(MASKS.length)] | Gfp.NOWARN;
                    long h = mm.allocPages(gfp, r.nextInt(4));
                    allocs++;
                    if (h != PageHandle.NULL) {
                        held.add(h);
                    } else {
                        nulls++;
                    }
                } else {
                    mm.freePages(held.remove(r.nextInt(held.size())));
                }
            }
            for (long h : held) {
                mm.freePages(h);
            }
            tally.allocs.addAndGet(allocs);
            tally.nulls.addAndGet(nulls);
        } catch (Throwable t) {
            tally.errors.add(t);
        }
    }

    /** 2 platform + {@code virtuals} virtual threads × {@code ops}; then the books and no lost page. */
    private void b1(long seed, int virtuals, int ops, boolean debug) throws Exception {
        MemoryManager mm = machines.create(b -> b.debug(debug).memoryBytes(64L << 20).cpuSlots(4)
                .failPageAlloc(seed, f -> {
                    f.setMinOrder(0).setIgnoreGfpWait(false);
                    f.attr().setProbability(1).setTimes(-1).setVerbose(0);
                }));
        Tally tally = new Tally();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 2 + virtuals; i++) {
            long s = seed * 31 + i;
            Runnable run = () -> worker(mm, s, ops, tally);
            threads.add(i < 2 ? Thread.ofPlatform().start(run) : Thread.ofVirtual().start(run));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(tally.errors).as("unexpected exceptions, seed %d", seed).isEmpty();
        assertThat(mm.validate()).as("seed %d", seed).isZero();
        // 64 MiB with at most 66 × 8 × 8 pages held: every NULL here is an injected failure.
        long injected = mm.failPageAlloc().attr().injectedCount();
        assertThat(tally.nulls.get()).as("NULLs vs injections, seed %d", seed).isEqualTo(injected);
        assertThat(injected).as("about 1 %% of %d allocations", tally.allocs.get()).isPositive();
        if (debug) {
            mm.pages().debug.flushQuarantine();
        }
        assertThat(mm.pages().allocatedPages()).as("lost pages, seed %d", seed).isZero();
        mm.drainAllPages();
        long free = 0;
        for (Zone z : mm.pages().zones()) {
            free += z.freePages();
        }
        assertThat(free).as("every page back in the buddy").isEqualTo(mm.pages().totalPages());
    }

    @Test
    void b1MixedPlatformAndVirtualThreadsWithFaultInjection() throws Exception {
        b1(Machines.seed(), 64, FULL_OPS, false);
    }

    @Test
    void b1InDebugMode() throws Exception {
        b1(Machines.seed(), 64, DEBUG_OPS, true);
    }

    @Test
    @Tag("stress")
    void b1InDebugModeAtFullSizeWithMoreSeeds() throws Exception {
        for (long k = 0; k < 4; k++) {
            b1(Machines.seed() + k, 64, FULL_OPS, true);
        }
    }

    @Test
    void pcpListsStayBoundedWithTwoThousandVirtualThreadsAndDrain() throws Exception {
        int slots = 8;
        MemoryManager mm = machines.create(b -> b.debug(false).cpuSlots(slots));
        int n = 2000;
        CountDownLatch holding = new CountDownLatch(n);
        CountDownLatch release = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    long[] h = new long[4];
                    for (int k = 0; k < h.length; k++) {
                        h[k] = mm.allocPages(Gfp.KERNEL | Gfp.NOWARN, 0);
                        Thread.yield(); // let the carrier change between operations
                    }
                    holding.countDown();
                    release.await();
                    for (long x : h) {
                        if (x != PageHandle.NULL) {
                            mm.freePages(x);
                        }
                        Thread.yield();
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            }));
        }
        holding.await();
        release.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertThat(errors).isEmpty();
        long bound = 0;
        long onPcp = 0;
        for (Zone z : mm.pages().zones()) {
            bound += (long) z.pcpHigh() * slots;
            onPcp += mm.pages().pcpPages(z);
            for (PerCpuPages p : z.pcp) {
                assertThat(p.countRacy()).as("%s slot count <= high", z).isLessThanOrEqualTo(z.pcpHigh());
            }
        }
        assertThat(onPcp).as("8000 pages freed by 2000 threads").isPositive().isLessThanOrEqualTo(bound);
        assertThat(mm.validate()).isZero(); // includes count <= high per slot
        assertThat(mm.drainAllPages()).isEqualTo(onPcp);
        for (Zone z : mm.pages().zones()) {
            assertThat(mm.pages().pcpPages(z)).as("%s after drainAllPages", z).isZero();
        }
        assertThat(mm.validate()).isZero();
    }
}
