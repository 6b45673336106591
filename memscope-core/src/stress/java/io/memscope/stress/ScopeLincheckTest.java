package io.memscope.stress;

import io.memscope.gfp.Gfp;
import io.memscope.sched.Memalloc;
import io.memscope.sched.MemallocScope;
import io.memscope.sched.Task;
import io.memscope.sched.UnbalancedScopeException;
import java.util.ArrayDeque;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.jetbrains.lincheck.datastructures.ThreadIdGen;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Lincheck check of the scope API ({@link Memalloc}, RELIABILITY C5): concurrent threads that
 * open and restore NOFS/NOIO/PIN scopes, read {@code current_gfp_context()} and try to close one
 * another's scopes behave exactly as a sequential model in which every thread owns a private
 * scope stack.
 *
 * <p><b>Why it is worth checking.</b> Scopes are per task and their fields are plain: only the
 * owning thread may write them. The properties that matter under concurrency are that no thread
 * ever observes another thread's scope (no shared state leaks into {@code currentGfpContext}),
 * and that the one cross-thread operation the API allows — trying to close a scope object that
 * another thread opened — is refused <em>without touching</em> the owner's state, at any
 * interleaving with the owner's own saves and restores. The shared {@link #published} field is
 * what lets a scope object travel between threads.
 *
 * <p><b>Operations</b> take the Lincheck thread number ({@link ThreadIdGen}), so the sequential
 * specification ({@link Spec}) can keep one scope stack per thread; Lincheck always runs a given
 * thread's operations on one Java thread. Init and post parts are off (they run on other threads
 * than their numbers say). Results are the kernel's values: the cookie a save returns (the PF bit
 * it newly set, 0 when an outer scope already set it), the mask {@code currentGfpContext} gives.
 *
 * <p><b>Threads are reused</b> by Lincheck across invocations, and a scenario may end with scopes
 * still open. Each thread therefore records its open scopes in a thread-local list together with
 * the invocation (test instance) that opened them, and the first operation of a new invocation
 * restores the leftovers, so every invocation starts from a clean task.
 */
@Tag("stress")
class ScopeLincheckTest {

    /** The mask whose scoped form {@link State#context} reports: FS, IO and MOVABLE can all be dropped. */
    static final int MASK = Gfp.KERNEL | Gfp.MOVABLE;
    /** Nesting bound, to keep the state space small. */
    static final int MAX_DEPTH = 3;

    // Scope kinds, as results of restore().
    static final int NONE = 0;
    static final int NOFS = 1;
    static final int NOIO = 2;
    static final int PIN = 3;
    static final int OBJECT = 4;

    // Results of closeForeign().
    static final int NOTHING_PUBLISHED = 0;
    static final int OWN_SCOPE = 1;
    static final int REFUSED = 2;
    static final int WRONGLY_CLOSED = 3;

    /** The scopes a thread has open: kind and cookie (raw saves) or the scope object, innermost last. */
    private record Open(Object invocation, int kind, int cookie, MemallocScope scope) {}

    private static final ThreadLocal<ArrayDeque<Open>> OPEN = ThreadLocal.withInitial(ArrayDeque::new);

    /** The implementation under test: the real {@link Memalloc} on each Lincheck thread. */
    public static final class State {
        /** The last scope object any thread published; read by other threads' {@link #closeForeign}. */
        private volatile MemallocScope published;

        /** This thread's open scopes, after restoring those a previous invocation left open. */
        private ArrayDeque<Open> open() {
            ArrayDeque<Open> open = OPEN.get();
            while (!open.isEmpty() && open.peekLast().invocation() != this) {
                undo(open.pollLast());
            }
            return open;
        }

        private static void undo(Open o) {
            switch (o.kind()) {
                case NOFS -> Memalloc.memallocNofsRestore(o.cookie());
                case NOIO -> Memalloc.memallocNoioRestore(o.cookie());
                case PIN -> Memalloc.memallocPinRestore(o.cookie());
                default -> o.scope().close();
            }
        }

        private int save(int kind) {
            ArrayDeque<Open> open = open();
            if (open.size() == MAX_DEPTH) {
                return -1;
            }
            int cookie = switch (kind) {
                case NOFS -> Memalloc.memallocNofsSave();
                case NOIO -> Memalloc.memallocNoioSave();
                default -> Memalloc.memallocPinSave();
            };
            open.addLast(new Open(this, kind, cookie, null));
            return cookie;
        }

        @Operation
        public int nofsSave(@Param(gen = ThreadIdGen.class) int tid) {
            return save(NOFS);
        }

        @Operation
        public int noioSave(@Param(gen = ThreadIdGen.class) int tid) {
            return save(NOIO);
        }

        @Operation
        public int pinSave(@Param(gen = ThreadIdGen.class) int tid) {
            return save(PIN);
        }

        /** Opens a NOFS scope object and publishes it to the other threads; returns the depth. */
        @Operation
        public int publishScope(@Param(gen = ThreadIdGen.class) int tid) {
            ArrayDeque<Open> open = open();
            if (open.size() == MAX_DEPTH) {
                return -1;
            }
            MemallocScope s = Memalloc.nofsScope();
            open.addLast(new Open(this, OBJECT, 0, s));
            published = s;
            return open.size();
        }

        /** Restores the innermost open scope of this thread; returns its kind. */
        @Operation
        public int restore(@Param(gen = ThreadIdGen.class) int tid) {
            ArrayDeque<Open> open = open();
            if (open.isEmpty()) {
                return NONE;
            }
            Open o = open.pollLast();
            undo(o);
            return o.kind();
        }

        /** {@code current_gfp_context(GFP_KERNEL | __GFP_MOVABLE)} on this thread. */
        @Operation
        public int context(@Param(gen = ThreadIdGen.class) int tid) {
            open();
            return Memalloc.currentGfpContext(MASK);
        }

        /** Tries to close the published scope from this thread: must be refused unless it is ours. */
        @Operation
        public int closeForeign(@Param(gen = ThreadIdGen.class) int tid) {
            open();
            MemallocScope s = published;
            if (s == null) {
                return NOTHING_PUBLISHED;
            }
            if (s.task() == Task.current()) {
                return OWN_SCOPE;
            }
            try {
                s.close();
                return WRONGLY_CLOSED;
            } catch (UnbalancedScopeException expected) {
                return REFUSED;
            }
        }
    }

    /** The sequential model: one scope stack of PF bits per Lincheck thread, nothing shared but the published owner. */
    public static final class Spec {
        private final int[][] kinds = new int[8][MAX_DEPTH];
        private final int[][] cookies = new int[8][MAX_DEPTH];
        private final int[] depth = new int[8];
        private int publishedBy = -1;

        private int flags(int tid) {
            int f = 0;
            for (int i = 0; i < depth[tid]; i++) {
                f |= pfOf(kinds[tid][i]);
            }
            return f;
        }

        private static int pfOf(int kind) {
            return switch (kind) {
                case NOIO -> Task.PF_MEMALLOC_NOIO;
                case PIN -> Task.PF_MEMALLOC_PIN;
                default -> Task.PF_MEMALLOC_NOFS; // NOFS and OBJECT (a nofsScope)
            };
        }

        private int push(int tid, int kind) {
            if (depth[tid] == MAX_DEPTH) {
                return -1;
            }
            int cookie = pfOf(kind) & ~flags(tid);
            kinds[tid][depth[tid]] = kind;
            cookies[tid][depth[tid]] = cookie;
            depth[tid]++;
            return cookie;
        }

        public int nofsSave(int tid) {
            return push(tid, NOFS);
        }

        public int noioSave(int tid) {
            return push(tid, NOIO);
        }

        public int pinSave(int tid) {
            return push(tid, PIN);
        }

        public int publishScope(int tid) {
            if (push(tid, OBJECT) < 0) {
                return -1;
            }
            publishedBy = tid;
            return depth[tid];
        }

        public int restore(int tid) {
            return depth[tid] == 0 ? NONE : kinds[tid][--depth[tid]];
        }

        /** The kernel's rule, written out independently of {@code Memalloc.gfpContext}. */
        public int context(int tid) {
            int f = flags(tid);
            int gfp = MASK;
            if ((f & Task.PF_MEMALLOC_NOIO) != 0) {
                gfp &= ~(Gfp.IO | Gfp.FS);
            } else if ((f & Task.PF_MEMALLOC_NOFS) != 0) {
                gfp &= ~Gfp.FS;
            }
            if ((f & Task.PF_MEMALLOC_PIN) != 0) {
                gfp &= ~Gfp.MOVABLE;
            }
            return gfp;
        }

        public int closeForeign(int tid) {
            if (publishedBy < 0) {
                return NOTHING_PUBLISHED;
            }
            return publishedBy == tid ? OWN_SCOPE : REFUSED;
        }
    }

    @Test
    void modelChecking() {
        new ModelCheckingOptions()
                .iterations(30)
                .invocationsPerIteration(500)
                .threads(3)
                .actorsPerThread(3)
                .actorsBefore(0)
                .actorsAfter(0)
                .sequentialSpecification(Spec.class)
                .check(State.class);
    }

    @Test
    void stress() {
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
