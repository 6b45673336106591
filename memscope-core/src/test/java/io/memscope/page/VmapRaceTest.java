package io.memscope.page;

import static io.memscope.page.MemfdRegion.PAGE_SIZE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * vunmap racing with readers and with a second vunmap: a racing access either completes or gets
 * the named error (never faults), and exactly one of two concurrent vunmaps releases the area.
 */
class VmapRaceTest {
    static final int ROUNDS = 200;

    @ParameterizedTest
    @EnumSource(names = {"MEMFD", "ARENA"})
    void accessRacingWithVunmapNeverTouchesUnmappedMemory(MemfdRegion.Selection sel) throws Exception {
        if (sel == MemfdRegion.Selection.MEMFD) {
            assumeTrue(MemfdRegionTest.memfdAvailable());
        }
        try (MemfdRegion r = MemfdRegion.create(64L * PAGE_SIZE, "memscope-test-race", sel)) {
            AtomicInteger released = new AtomicInteger();
            AtomicInteger doubleVunmapWinners = new AtomicInteger();
            AtomicReference<Throwable> unexpected = new AtomicReference<>();
            for (int round = 0; round < ROUNDS; round++) {
                VmapView v = r.vmap(new int[] {9, 2, 3, 40});
                CountDownLatch go = new CountDownLatch(1);
                Thread reader = Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                        for (int i = 0; ; i++) {
                            v.putLong((i * 8L) % (v.byteSize() - 8), i);
                        }
                    } catch (VmapReleasedException expected) {
                        released.incrementAndGet();
                    } catch (Throwable t) {
                        unexpected.compareAndSet(null, t);
                    }
                });
                Thread second = Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                        v.vunmap();
                        doubleVunmapWinners.incrementAndGet();
                    } catch (VmapReleasedException lost) {
                        // the other vunmap won
                    } catch (Throwable t) {
                        unexpected.compareAndSet(null, t);
                    }
                });
                go.countDown();
                try {
                    v.vunmap();
                    doubleVunmapWinners.incrementAndGet();
                } catch (VmapReleasedException lost) {
                    // the other vunmap won
                }
                reader.join(Duration.ofSeconds(10));
                second.join(Duration.ofSeconds(10));
                assertThat(reader.isAlive() || second.isAlive()).as("threads finished").isFalse();
            }
            assertThat(unexpected.get()).isNull();
            assertThat(released.get()).as("every reader ended with the named error").isEqualTo(ROUNDS);
            assertThat(doubleVunmapWinners.get()).as("exactly one vunmap per area released it").isEqualTo(ROUNDS);
            assertThat(r.nrVmaps()).isZero();
            assertThat(r.vmapBytes()).isZero();
        }
    }
}
