package io.memscope.stress;

import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.page.PageAllocConfig;
import io.memscope.page.PageAllocator;
import io.memscope.page.PageHandle;
import io.memscope.stat.VmStat;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.jetbrains.lincheck.datastructures.ThreadIdGen;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Lincheck check of the per-CPU page lists (RELIABILITY C5): order-0 {@code allocPages} and
 * {@code freePages} that go through {@code PerCpuPages} (its trylock, {@code rmqueue_bulk} refill
 * from the buddy, the free-side batch return, the neighbour-slot and buddy fallbacks when the
 * trylock fails) and a concurrent {@code drain_all_pages}, against a sequential model in which a
 * page is never handed out twice and the books always balance.
 *
 * <p><b>The machine</b> is the page allocator alone (no reclaim threads), 4 MiB in one Normal zone,
 * with one or two CPU slots: one slot makes every thread contend for the same pcp lock, two
 * exercise the neighbour fallback and the drain of a slot another thread is using. Each Lincheck
 * invocation builds its own allocator (about a millisecond); the next invocation frees the
 * previous one's pages and closes it, and the JUnit test closes the last.
 *
 * <p><b>Operations</b> take the Lincheck thread number ({@link ThreadIdGen}) because a thread
 * frees only pages it allocated itself (handing a handle to another thread needs a
 * happens-before edge the harness would have to add, and would make the model depend on the
 * harness). Physical page numbers depend on the interleaving (which slot refilled first), so the
 * results are abstract: {@code alloc} returns {@link #OK} or {@link #NULL} (never expected: memory
 * is plentiful and {@code GFP_NOWAIT} succeeds above the min watermark) or {@link #DUPLICATE} when
 * the page it got is held by another thread at that moment — detected with a per-pfn owner array
 * claimed by CAS before the handle is used. After every invocation {@link State#validate} requires
 * {@code validate() == 0} (buddy + per-CPU + allocated == managed, no page on two lists, per-CPU
 * counts within {@code high}) and {@code allocatedPages()} equal to the pages the threads hold.
 *
 * <p>{@code loopBound(2048)}: setting a pageblock's migratetype writes each of its 512 pages, a
 * bounded loop that Lincheck's default bound would report as a livelock. The mixed tests explore
 * few interleavings of the first block claim (1 024 tracked writes); {@link #modelCheckingClaimRace}
 * explores exactly that race, which is where Lincheck found the NR_FREE_PAGES dip.
 */
@Tag("stress")
class PerCpuPagesLincheckTest {
    static final int OK = 1;
    static final int NULL = 0;
    static final int DUPLICATE = -1;

    /** Set by each test before it runs Lincheck: the CPU slots of the machines it builds. */
    static volatile int slots = 1;

    /** Allocators built by invocations and not yet closed (at most one at a time in practice). */
    private static final List<State> LIVE = new ArrayList<>();

    /** The implementation under test: a fresh page allocator per invocation. */
    public static final class State {
        private static final int MAX_HELD = 4;
        private final KernelLog log = new KernelLog(256, true);
        private final PageAllocator pages;
        private final AtomicIntegerArray owner;
        /** Pages each Lincheck thread holds; {@code held[tid]} is written only by thread {@code tid}. */
        private final long[][] held = new long[8][MAX_HELD];
        private final int[] nHeld = new int[8];

        public State() {
            closeAll();
            PageAllocConfig cfg = new PageAllocConfig(PageAllocConfig.defaultLayout(4L << 20, 1), slots, 0, 10,
                    new int[] {256, 256, 32, 0}, false, 0, false, false);
            this.pages = new PageAllocator(cfg, log, new VmStat(), PageAllocator.Hooks.defaults());
            this.owner = new AtomicIntegerArray(pages.totalPages());
            synchronized (LIVE) {
                LIVE.add(this);
            }
        }

        /** {@code alloc_pages(GFP_NOWAIT, 0)}, then claims the page for this thread. */
        @Operation
        public int alloc(@Param(gen = ThreadIdGen.class) int tid) {
            if (nHeld[tid] == MAX_HELD) {
                return OK; // keeps the state space small; the model does the same
            }
            long h = pages.allocPages(Gfp.NOWAIT, 0);
            if (h == PageHandle.NULL) {
                return NULL;
            }
            if (!owner.compareAndSet(PageHandle.pfn(h), 0, tid + 1)) {
                return DUPLICATE; // handed out while another thread holds it; not freed: the books are broken
            }
            held[tid][nHeld[tid]++] = h;
            return OK;
        }

        /** {@code __free_pages} of the page this thread allocated most recently. */
        @Operation
        public int free(@Param(gen = ThreadIdGen.class) int tid) {
            if (nHeld[tid] == 0) {
                return NULL;
            }
            long h = held[tid][--nHeld[tid]];
            // Released before the free: once freed, the page may be handed to another thread at once.
            owner.set(PageHandle.pfn(h), 0);
            pages.freePages(h);
            return OK;
        }

        /** {@code drain_all_pages()}: every per-CPU list back to the buddy, racing the owners of the slots. */
        @Operation
        public void drain() {
            pages.drainAllPages();
        }

        /** After the invocation: the books balance and the allocator counts what the threads hold. */
        @Validate
        public void validate() {
            int errors = pages.validate();
            if (errors != 0) {
                throw new IllegalStateException("validate() found " + errors + " error(s):\n" + log.dmesg());
            }
            long heldTotal = 0;
            for (int n : nHeld) {
                heldTotal += n;
            }
            long allocated = pages.allocatedPages();
            if (allocated != heldTotal) {
                throw new IllegalStateException("allocatedPages(): expected " + heldTotal + " (held by the threads), found "
                        + allocated);
            }
        }

        private void release() {
            for (int t = 0; t < held.length; t++) {
                while (nHeld[t] > 0) {
                    pages.freePages(held[t][--nHeld[t]]);
                }
            }
            pages.close(); // throws PageLeakException if a page is unaccounted for
        }

        static void closeAll() {
            List<State> done;
            synchronized (LIVE) {
                done = new ArrayList<>(LIVE);
                LIVE.clear();
            }
            for (State s : done) {
                s.release();
            }
        }
    }

    /** The sequential model: a page count per thread; allocation never fails with 1 024 pages free. */
    public static final class Spec {
        private final int[] nHeld = new int[8];

        public int alloc(int tid) {
            if (nHeld[tid] < State.MAX_HELD) {
                nHeld[tid]++;
            }
            return OK;
        }

        public int free(int tid) {
            if (nHeld[tid] == 0) {
                return NULL;
            }
            nHeld[tid]--;
            return OK;
        }

        public void drain() {
        }
    }

    @AfterEach
    void closeMachines() {
        State.closeAll();
    }

    @Test
    void modelCheckingOneSlot() {
        slots = 1;
        modelChecking();
    }

    @Test
    void modelCheckingTwoSlots() {
        slots = 2;
        modelChecking();
    }

    private static void modelChecking() {
        new ModelCheckingOptions()
                .iterations(10)
                .invocationsPerIteration(200)
                .threads(2)
                .actorsPerThread(3)
                .actorsBefore(0)
                .actorsAfter(0)
                // Not a spin: setting a pageblock's migratetype writes each of its 512 pages.
                .loopBound(2048)
                .sequentialSpecification(Spec.class)
                .check(State.class);
    }

    /**
     * Two {@code GFP_NOWAIT} allocations on a fresh zone, nothing else: the first UNMOVABLE request
     * claims the zone's one 1024-page MOVABLE block, and every interleaving of the other
     * allocation with that claim is explored. Before the fix, one of them saw NR_FREE_PAGES at 0
     * and failed ({@code ZoneClaimAccountingTest} is the T1 regression test).
     */
    @Test
    void modelCheckingClaimRace() {
        slots = 1;
        new ModelCheckingOptions()
                .iterations(1)
                .invocationsPerIteration(2_000)
                .threads(2)
                .actorsPerThread(1)
                .actorsBefore(0)
                .actorsAfter(0)
                .loopBound(2048)
                .sequentialSpecification(AllocSpec.class)
                .check(AllocOnly.class);
    }

    /** {@link State} with its allocation alone. */
    public static final class AllocOnly {
        private final State state = new State();

        @Operation
        public int alloc(@Param(gen = ThreadIdGen.class) int tid) {
            return state.alloc(tid);
        }

        @Validate
        public void validate() {
            state.validate();
        }
    }

    /** {@link Spec} with its allocation alone. */
    public static final class AllocSpec {
        private final Spec spec = new Spec();

        public int alloc(int tid) {
            return spec.alloc(tid);
        }
    }

    @Test
    void stressTwoSlots() {
        slots = 2;
        new StressOptions()
                .iterations(30)
                .invocationsPerIteration(1_000)
                .threads(3)
                .actorsPerThread(4)
                .actorsBefore(0)
                .actorsAfter(0)
                .sequentialSpecification(Spec.class)
                .check(State.class);
    }
}
