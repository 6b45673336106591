package io.memscope.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.UnsafeScopeException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The Java forms (try-with-resources, flagsDo, gfpScope), per-thread isolation, E3 misuse. */
class MemallocScopeTest {

    @AfterEach
    void noScopeLeftOpen() {
        Task t = Task.current();
        assertThat(t.openScopeDepth()).isZero();
        assertThat(t.flags() & Memalloc.PF_MEMALLOC_FLAGS).isZero();
        assertThat(t.gfpScopeSet()).isZero();
        assertThat(t.gfpScopeClear()).isZero();
    }

    @Test
    void tryWithResourcesScopes() {
        try (var s = Memalloc.nofsScope()) {
            assertThat(Memalloc.currentGfpContext(Gfp.KERNEL)).isEqualTo(Gfp.NOFS);
            try (var io = Memalloc.noioScope()) {
                assertThat(Memalloc.currentGfpContext(Gfp.KERNEL)).isEqualTo(Gfp.NOIO);
            }
            assertThat(Memalloc.currentGfpContext(Gfp.KERNEL)).isEqualTo(Gfp.NOFS);
            assertThat(s.kind()).isEqualTo("memalloc_nofs_save");
        }
        try (var p = Memalloc.pinScope(); var r = Memalloc.noreclaimScope()) {
            assertThat(Memalloc.currentGfpContext(Gfp.HIGHUSER_MOVABLE)).isEqualTo(Gfp.HIGHUSER);
            assertThat(Task.current().hasFlags(Task.PF_MEMALLOC)).isTrue();
        }
        assertThat(Memalloc.currentGfpContext(Gfp.KERNEL)).isEqualTo(Gfp.KERNEL);
    }

    @Test
    void scopeIsRestoredWhenTheBodyThrows() {
        assertThatThrownBy(() -> {
            try (var s = Memalloc.nofsScope()) {
                throw new IllegalStateException("boom");
            }
        }).hasMessage("boom");
    }

    @Test
    void flagsDoRunsTheActionInsideTheScope() {
        AtomicInteger seen = new AtomicInteger();
        Memalloc.flagsDo(Task.PF_MEMALLOC_NOIO, () -> seen.set(Memalloc.currentGfpContext(Gfp.KERNEL)));
        assertThat(seen.get()).isEqualTo(Gfp.NOIO);
        assertThat(Memalloc.flagsCall(Task.PF_MEMALLOC_NOFS, () -> Memalloc.currentGfpContext(Gfp.KERNEL)))
                .isEqualTo(Gfp.NOFS);
        assertThatThrownBy(() -> Memalloc.flagsDo(Task.PF_MEMALLOC_NOFS, () -> {
            throw new IllegalArgumentException("inner");
        })).hasMessage("inner");
    }

    @Test
    void flagsSaveRefusesNonScopeBits() {
        assertThatThrownBy(() -> Memalloc.memallocFlagsSave(Task.PF_KSWAPD))
                .isInstanceOf(InvalidScopeFlagsException.class)
                .hasMessageContaining("non-scope bits 0x20000");
        assertThatThrownBy(() -> Memalloc.flagsScope(Task.PF_MEMALLOC_NOFS | Task.PF_KTHREAD))
                .isInstanceOf(InvalidScopeFlagsException.class);
    }

    @Test
    void gfpScopeUsesKernelMechanismsAndTheExtension() {
        try (var s = Memalloc.gfpScope(Gfp.NOWARN | Gfp.ZERO, Gfp.FS)) {
            assertThat(Task.current().hasFlags(Task.PF_MEMALLOC_NOFS)).isTrue();
            assertThat(Memalloc.currentGfpContext(Gfp.KERNEL)).as("kernel rule untouched").isEqualTo(Gfp.NOFS);
            assertThat(Memalloc.currentGfpScoped(Gfp.KERNEL)).isEqualTo(Gfp.NOFS | Gfp.NOWARN | Gfp.ZERO);
            try (var inner = Memalloc.gfpScope(0, Gfp.NOWARN | Gfp.IO | Gfp.MOVABLE)) {
                assertThat(Memalloc.currentGfpScoped(Gfp.HIGHUSER_MOVABLE | Gfp.NOWARN))
                        .isEqualTo((Gfp.HIGHUSER & ~(Gfp.IO | Gfp.FS)) | Gfp.ZERO);
            }
            assertThat(Memalloc.currentGfpScoped(Gfp.KERNEL)).isEqualTo(Gfp.NOFS | Gfp.NOWARN | Gfp.ZERO);
        }
        try (var m = Memalloc.gfpScope(Gfp.MEMALLOC | Gfp.ACCOUNT | Gfp.NOLOCKDEP, 0)) {
            assertThat(Task.current().hasFlags(Task.PF_MEMALLOC)).isTrue();
            assertThat(Memalloc.currentGfpScoped(Gfp.KERNEL)).isEqualTo(Gfp.KERNEL_ACCOUNT | Gfp.NOLOCKDEP);
        }
    }

    @Test
    void gfpScopeRefusesUnsafeChangesAndOpensNothing() {
        assertThatThrownBy(() -> Memalloc.gfpScope(0, Gfp.DIRECT_RECLAIM))
                .isInstanceOf(UnsafeScopeException.class)
                .hasMessageContaining("may not clear __GFP_DIRECT_RECLAIM")
                .hasMessageContaining("__GFP_NOFAIL");
        assertThatThrownBy(() -> Memalloc.gfpScope(Gfp.FS, 0)).isInstanceOf(UnsafeScopeException.class);
        assertThatThrownBy(() -> Memalloc.gfpScope(Gfp.COMP, 0)).isInstanceOf(UnsafeScopeException.class);
        Task.current().becomeKernelThread(0);
        try {
            assertThatThrownBy(() -> Memalloc.gfpScope(Gfp.ACCOUNT, 0))
                    .isInstanceOf(UnsafeScopeException.class).hasMessageContaining("user context");
        } finally {
            Task.current().clearFlagBits(Task.PF_KTHREAD);
        }
    }

    @Test
    void aScopeOnOneThreadIsInvisibleToPlatformAndVirtualThreads() throws Exception {
        try (var s = Memalloc.noioScope()) {
            assertThat(Memalloc.currentGfpContext(Gfp.KERNEL)).isEqualTo(Gfp.NOIO);
            AtomicInteger platform = new AtomicInteger();
            Thread p = Thread.ofPlatform().start(() -> platform.set(Memalloc.currentGfpContext(Gfp.KERNEL)));
            p.join();
            AtomicInteger virt = new AtomicInteger();
            Thread v = Thread.ofVirtual().start(() -> virt.set(Memalloc.currentGfpContext(Gfp.KERNEL)));
            v.join();
            assertThat(platform.get()).isEqualTo(Gfp.KERNEL);
            assertThat(virt.get()).isEqualTo(Gfp.KERNEL);
            assertThat(CompletableFuture.supplyAsync(() -> Memalloc.currentGfpContext(Gfp.KERNEL)).get())
                    .as("work handed to an executor does not inherit the scope").isEqualTo(Gfp.KERNEL);
        }
    }

    /**
     * Property: a scope is visible only to the thread that opened it. Each trial starts a seeded
     * mix of platform and virtual threads; each thread runs its own random nest of scopes
     * (try-with-resources, raw save/restore and {@code flagsDo}), parks or yields between steps
     * so that virtual threads change carriers, and at every step checks that
     * {@code currentGfpContext(GFP_KERNEL)} is what its own nest alone implies.
     */
    @Test
    void everyThreadSeesOnlyItsOwnScopesUnderRandomNesting() {
        io.memscope.testkit.Property.forAll("scope isolation across threads", 20, rnd -> {
            int threads = 4 + rnd.nextInt(12);
            long[] seeds = new long[threads];
            boolean[] virtual = new boolean[threads];
            for (int i = 0; i < threads; i++) {
                seeds[i] = rnd.nextLong();
                virtual[i] = rnd.nextBoolean();
            }
            CountDownLatch start = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread[] ts = new Thread[threads];
            for (int i = 0; i < threads; i++) {
                final long seed = seeds[i];
                Runnable body = () -> {
                    try {
                        start.await();
                        nest(new java.util.SplittableRandom(seed), 0, 0);
                        if (Task.current().flags() != 0 || Task.current().openScopeDepth() != 0) {
                            throw new AssertionError("scope state left behind: flags 0x"
                                    + Integer.toHexString(Task.current().flags()));
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                };
                ts[i] = virtual[i] ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body);
            }
            start.countDown();
            for (Thread t : ts) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
        });
    }

    /** One level of a random nest: {@code pf} is what the enclosing levels of this thread set. */
    private static void nest(java.util.SplittableRandom r, int depth, int pf) {
        expectContext(pf);
        if (depth == 4) {
            return;
        }
        int steps = 1 + r.nextInt(3);
        for (int i = 0; i < steps; i++) {
            int which = r.nextInt(4);
            switch (which) {
                case 0 -> {
                    try (var s = Memalloc.nofsScope()) {
                        pause(r);
                        nest(r, depth + 1, pf | Task.PF_MEMALLOC_NOFS);
                    }
                }
                case 1 -> {
                    int cookie = Memalloc.memallocNoioSave();
                    pause(r);
                    nest(r, depth + 1, pf | Task.PF_MEMALLOC_NOIO);
                    Memalloc.memallocNoioRestore(cookie);
                }
                case 2 -> Memalloc.flagsDo(Task.PF_MEMALLOC_PIN, () -> {
                    pause(r);
                    nest(r, depth + 1, pf | Task.PF_MEMALLOC_PIN);
                });
                default -> pause(r);
            }
            expectContext(pf);
        }
    }

    private static void expectContext(int pf) {
        int want = Gfp.HIGHUSER_MOVABLE;
        if ((pf & Task.PF_MEMALLOC_NOIO) != 0) {
            want &= ~(Gfp.IO | Gfp.FS);
        } else if ((pf & Task.PF_MEMALLOC_NOFS) != 0) {
            want &= ~Gfp.FS;
        }
        if ((pf & Task.PF_MEMALLOC_PIN) != 0) {
            want &= ~Gfp.MOVABLE;
        }
        int got = Memalloc.currentGfpContext(Gfp.HIGHUSER_MOVABLE);
        if (got != want) {
            throw new AssertionError(Thread.currentThread() + " with its own flags 0x" + Integer.toHexString(pf)
                    + " expected 0x" + Integer.toHexString(want) + ", found 0x" + Integer.toHexString(got));
        }
    }

    /** Gives the carrier away now and then, so that virtual threads resume on another one. */
    private static void pause(java.util.SplittableRandom r) {
        switch (r.nextInt(3)) {
            case 0 -> Thread.yield();
            case 1 -> java.util.concurrent.locks.LockSupport.parkNanos(10_000L);
            default -> { }
        }
    }

    @Test
    void scopesOnManyVirtualThreadsStayIndependent() throws Exception {
        int n = 200;
        CountDownLatch allOpen = new CountDownLatch(n);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] ts = new Thread[n];
        for (int i = 0; i < n; i++) {
            final int id = i;
            ts[i] = Thread.ofVirtual().start(() -> {
                try {
                    MemallocScope s = id % 2 == 0 ? Memalloc.nofsScope() : null;
                    allOpen.countDown();
                    allOpen.await();
                    Thread.yield(); // let virtual threads move between carriers
                    int want = id % 2 == 0 ? Gfp.NOFS : Gfp.KERNEL;
                    if (Memalloc.currentGfpContext(Gfp.KERNEL) != want) {
                        throw new AssertionError("thread " + id + " saw another thread's scope");
                    }
                    if (s != null) {
                        s.close();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
        }
        for (Thread t : ts) {
            t.join();
        }
        assertThat(failure.get()).isNull();
    }
}
