package io.memscope.page;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** mm/filemap.c folio_lock/folio_unlock/folio_wait_bit semantics on the page table. */
class PageWaitTableTest {
    private final PageTable pt = new PageTable(1024);
    private final PageWaitTable w = new PageWaitTable(pt);

    @Test
    void trylockIsExclusiveAndUnlockReleases() {
        assertThat(w.trylockPage(7)).isTrue();
        assertThat(w.trylockPage(7)).isFalse();
        assertThat(pt.testPageFlag(7, PageTableDescriptor.FLAG_LOCKED)).isTrue();
        w.unlockPage(7);
        assertThat(pt.testPageFlag(7, PageTableDescriptor.FLAG_LOCKED)).isFalse();
        assertThat(w.trylockPage(7)).isTrue();
    }

    @Test
    void lockPageSleepsUntilUnlock() throws Exception {
        w.lockPage(3);
        CountDownLatch got = new CountDownLatch(1);
        Thread t = Thread.ofVirtual().start(() -> {
            w.lockPage(3);
            got.countDown();
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (w.waiters() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(w.waiters()).isEqualTo(1);
        assertThat(got.getCount()).isEqualTo(1);
        w.unlockPage(3);
        assertThat(got.await(10, TimeUnit.SECONDS)).isTrue();
        t.join(10_000);
        assertThat(pt.testPageFlag(3, PageTableDescriptor.FLAG_LOCKED)).as("the waiter now holds it").isTrue();
    }

    @Test
    void waitOnWritebackReturnsWhenTheBitIsCleared() throws Exception {
        pt.setPageFlagAtomic(9, PageTableDescriptor.FLAG_WRITEBACK);
        CountDownLatch done = new CountDownLatch(1);
        Thread.ofPlatform().start(() -> {
            w.waitOnPageWriteback(9);
            done.countDown();
        });
        assertThat(done.await(50, TimeUnit.MILLISECONDS)).isFalse();
        w.clearBitAndWake(9, PageTableDescriptor.FLAG_WRITEBACK);
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void pageLockIsMutualExclusionUnderContention() throws Exception {
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger violations = new AtomicInteger();
        Thread[] ts = new Thread[8];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = Thread.ofPlatform().start(() -> {
                for (int k = 0; k < 2000; k++) {
                    w.lockPage(1);
                    if (inside.incrementAndGet() != 1) {
                        violations.incrementAndGet();
                    }
                    inside.decrementAndGet();
                    w.unlockPage(1);
                }
            });
        }
        for (Thread t : ts) {
            t.join(30_000);
        }
        assertThat(violations).hasValue(0);
        assertThat(w.waiters()).isZero();
    }

    @Test
    void atomicFlagOpsReportThePreviousState() {
        assertThat(pt.testAndSetPageFlag(5, PageTableDescriptor.FLAG_DIRTY)).isFalse();
        assertThat(pt.testAndSetPageFlag(5, PageTableDescriptor.FLAG_DIRTY)).isTrue();
        assertThat(pt.testAndClearPageFlag(5, PageTableDescriptor.FLAG_DIRTY)).isTrue();
        assertThat(pt.testAndClearPageFlag(5, PageTableDescriptor.FLAG_DIRTY)).isFalse();
        pt.refcountUnfreeze(5, 2);
        assertThat(pt.refcountFreeze(5, 1)).isFalse();
        assertThat(pt.refcountFreeze(5, 2)).isTrue();
        assertThat(pt.refcountTryGet(5)).as("frozen at 0").isFalse();
        pt.refcountUnfreeze(5, 1);
        assertThat(pt.refcountTryGet(5)).isTrue();
        assertThat(pt.refcount(5)).isEqualTo(2);
    }
}
