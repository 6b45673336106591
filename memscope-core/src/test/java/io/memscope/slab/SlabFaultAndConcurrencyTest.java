package io.memscope.slab;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.MemoryManager;
import io.memscope.gfp.Gfp;
import io.memscope.sched.Task;
import io.memscope.testkit.Machines;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** D2 (fail-nth sweep) for the kmalloc family, failslab, and a concurrent run that ends with balanced books (B1-style). */
class SlabFaultAndConcurrencyTest {
    @RegisterExtension
    final Machines machines = new Machines();

    private MemoryManager faultyMachine() {
        return machines.create(b -> b.debug(false).cpuSlots(2)
                .failPageAlloc(Machines.seed(), f -> f.setIgnoreGfpWait(false).setMinOrder(0))
                .failslab(Machines.seed(), f -> f.setIgnoreGfpWait(false)));
    }

    private record EntryPoint(String name, java.util.function.Function<Slab, LongSupplier> call) {}

    /** D2: fail the 1st, 2nd, ... internal check until the call succeeds without injection; books balance at every step. */
    @Test
    void failNthSweepOverTheKmallocFamily() {
        List<EntryPoint> points = List.of(
                new EntryPoint("kmalloc(64, GFP_KERNEL)", s -> () -> s.kmalloc(64, Gfp.KERNEL)),
                new EntryPoint("kmalloc(1000, GFP_NOFS)", s -> () -> s.kmalloc(1000, Gfp.NOFS)),
                new EntryPoint("kmalloc(8192, GFP_KERNEL)", s -> () -> s.kmalloc(8192, Gfp.KERNEL)),
                new EntryPoint("kzalloc(96, GFP_ATOMIC)", s -> () -> s.kzalloc(96, Gfp.ATOMIC)),
                new EntryPoint("kmalloc(64 KiB, GFP_KERNEL) large", s -> () -> s.kmalloc(65536, Gfp.KERNEL)),
                new EntryPoint("kcalloc(10, 100, GFP_KERNEL)", s -> () -> s.kcalloc(10, 100, Gfp.KERNEL)),
                new EntryPoint("krealloc(kmalloc 16 -> 3000)", s -> () -> {
                    Task t = Task.current();
                    int nth = t.failNth();
                    t.setFailNth(0);
                    long p = s.kmalloc(16, Gfp.KERNEL);
                    t.setFailNth(nth);
                    long q = s.krealloc(p, 3000, Gfp.KERNEL);
                    if (q == Slab.NULL) {
                        s.kfree(p); // krealloc failed: the old object is still ours
                    }
                    return q;
                }));
        Task task = Task.current();
        for (EntryPoint p : points) {
            for (int n = 1; ; n++) {
                MemoryManager mm = faultyMachine();
                Slab slab = mm.slab();
                LongSupplier call = p.call().apply(slab);
                task.setFailNth(n);
                long obj = call.getAsLong();
                boolean reached = task.failNth() == 0;
                task.setFailNth(0);
                if (obj != Slab.NULL) {
                    slab.kfree(obj);
                }
                assertThat(mm.validate()).as("%s, fail-nth %d", p.name(), n).isZero();
                mm.close(); // no slab or page leak
                if (!reached) {
                    assertThat(obj).as("%s succeeds once no check is failed", p.name()).isNotEqualTo(Slab.NULL);
                    break;
                }
                assertThat(n).as("%s: sweep terminates", p.name()).isLessThan(20);
            }
        }
    }

    @Test
    void failslabWithFullProbabilityFailsKmallocButNotNofail() {
        MemoryManager mm = machines.create(b -> b.debug(false).failslab(Machines.seed(),
                f -> f.setIgnoreGfpWait(false)));
        mm.failslab().attr().setProbability(100).setTimes(-1).setVerbose(0);
        assertThat(mm.kmalloc(64, Gfp.KERNEL)).isZero();
        assertThat(mm.kmalloc(64, Gfp.ATOMIC | Gfp.NOWARN)).isZero();
        long p = mm.kmalloc(64, Gfp.KERNEL | Gfp.NOFAIL);
        assertThat(p).isNotZero();
        mm.kfree(p);
        assertThat(mm.failslab().attr().injectedCount()).isEqualTo(2);
    }

    /**
     * Platform and virtual threads kmalloc and kfree random sizes, write their identity into every
     * object and check it before freeing: no object is ever handed to two owners, and the books
     * balance afterwards. Objects also travel between threads (freed by another thread).
     */
    @Test
    void concurrentKmallocAndKfreeKeepObjectsExclusiveAndTheBooksBalanced() throws Exception {
        MemoryManager mm = machines.create(b -> b.debug(false).cpuSlots(2).memoryBytes(128L << 20));
        Slab slab = mm.slab();
        MemorySegment mem = slab.memory();
        long base = mem.address();
        ConcurrentLinkedQueue<long[]> handoff = new ConcurrentLinkedQueue<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int[] sizes = {8, 24, 64, 96, 150, 500, 1500, 5000, 9000};
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 24; t++) {
            long seed = Machines.seed() + t;
            long tag = 0x5eed0000L + t;
            Runnable body = () -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                List<long[]> mine = new ArrayList<>();
                try {
                    for (int i = 0; i < 4000; i++) {
                        int op = rnd.nextInt(10);
                        if (op < 5 || mine.isEmpty()) {
                            int size = sizes[rnd.nextInt(sizes.length)];
                            long p = slab.kmalloc(size, rnd.nextBoolean() ? Gfp.KERNEL : Gfp.ATOMIC);
                            if (p == 0) {
                                continue;
                            }
                            mem.set(ValueLayout.JAVA_LONG_UNALIGNED, p - base, tag);
                            mem.set(ValueLayout.JAVA_LONG_UNALIGNED, p - base + size - 8, tag);
                            mine.add(new long[] {p, size, tag});
                        } else if (op < 9) {
                            long[] o = mine.remove(rnd.nextInt(mine.size()));
                            check(mem, base, o);
                            slab.kfree(o[0]);
                        } else {
                            handoff.add(mine.remove(mine.size() - 1));
                            long[] other = handoff.poll();
                            if (other != null) {
                                check(mem, base, other);
                                slab.kfree(other[0]);
                            }
                        }
                    }
                    for (long[] o : mine) {
                        check(mem, base, o);
                        slab.kfree(o[0]);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            };
            threads.add(t % 3 == 0 ? Thread.ofPlatform().start(body) : Thread.ofVirtual().start(body));
        }
        for (Thread th : threads) {
            th.join();
        }
        long[] o;
        while ((o = handoff.poll()) != null) {
            check(mem, base, o);
            slab.kfree(o[0]);
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        for (KmemCache c : slab.caches()) {
            assertThat(c.activeObjects()).as(c.name()).isZero();
        }
        assertThat(mm.validate()).isZero();
    }

    private static void check(MemorySegment mem, long base, long[] o) {
        long p = o[0];
        int size = (int) o[1];
        long a = mem.get(ValueLayout.JAVA_LONG_UNALIGNED, p - base);
        long b = mem.get(ValueLayout.JAVA_LONG_UNALIGNED, p - base + size - 8);
        if (a != o[2] || b != o[2]) {
            throw new AssertionError("object 0x" + Long.toHexString(p) + " of " + size + " B was overwritten: expected tag 0x"
                    + Long.toHexString(o[2]) + ", found 0x" + Long.toHexString(a) + "/0x" + Long.toHexString(b));
        }
    }
}
