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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Conservation under concurrency (RELIABILITY B1 shape) and per-CPU bounds with thousands of virtual threads. */
@org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
class ConcurrencyTest {
    @RegisterExtension
    final Machines machines = new Machines();

    private static final int[] MASKS = {Gfp.KERNEL, Gfp.ATOMIC, Gfp.NOWAIT, Gfp.NOFS | Gfp.NORETRY,
        Gfp.KERNEL | Gfp.ZERO, Gfp.KERNEL | Gfp.COMP, Gfp.HIGHUSER_MOVABLE, Gfp.KERNEL | Gfp.RECLAIMABLE,
        Gfp.KERNEL | Gfp.RETRY_MAYFAIL, Gfp.KERNEL | Gfp.DMA32};

    private static void worker(MemoryManager mm, long seed, int ops, ConcurrentLinkedQueue<Throwable> errors) {
        try {
            SplittableRandom r = new SplittableRandom(seed);
            List<Long> held = new ArrayList<>();
            for (int i = 0; i < ops; i++) {
                if (held.size() < 8 && (held.isEmpty() || r.nextInt(100) < 55)) {
                    int gfp = MASKS[r.nextInt(MASKS.length)] | Gfp.NOWARN;
                    long h = mm.allocPages(gfp, r.nextInt(4));
                    if (h != PageHandle.NULL) {
                        held.add(h);
                    }
                } else {
                    mm.freePages(held.remove(r.nextInt(held.size())));
                }
            }
            for (long h : held) {
                mm.freePages(h);
            }
        } catch (Throwable t) {
            errors.add(t);
        }
    }

    @Test
    void conservationAfterMixedPlatformAndVirtualThreadStress() throws Exception {
        long seed = Machines.seed();
        MemoryManager mm = machines.create(b -> b.debug(false).memoryBytes(64L << 20).cpuSlots(4));
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 66; i++) {
            long s = seed * 31 + i;
            Runnable run = () -> worker(mm, s, 3000, errors);
            threads.add(i < 2 ? Thread.ofPlatform().start(run) : Thread.ofVirtual().start(run));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(errors).as("seed %d", seed).isEmpty();
        assertThat(mm.validate()).as("seed %d", seed).isZero();
        assertThat(mm.pages().allocatedPages()).isZero();
        mm.drainAllPages();
        long free = 0;
        for (Zone z : mm.pages().zones()) {
            free += z.freePages();
        }
        assertThat(free).isEqualTo(mm.pages().totalPages());
    }

    @Test
    void pcpListsStayBoundedWithTwoThousandVirtualThreads() throws Exception {
        MemoryManager mm = machines.create(b -> b.debug(false).cpuSlots(8));
        int n = 2000;
        CountDownLatch holding = new CountDownLatch(n);
        CountDownLatch release = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    long h = mm.allocPages(Gfp.KERNEL | Gfp.NOWARN, 0);
                    holding.countDown();
                    release.await();
                    if (h != PageHandle.NULL) {
                        mm.freePages(h);
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
            bound += (long) z.pcpHigh() * 8;
            onPcp += mm.pages().pcpPages(z);
        }
        assertThat(onPcp).isLessThanOrEqualTo(bound);
        assertThat(mm.validate()).isZero(); // includes count <= high per slot
    }
}
