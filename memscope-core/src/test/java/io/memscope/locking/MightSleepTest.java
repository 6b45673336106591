package io.memscope.locking;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** KERNEL.md §5.4 and T68: __might_sleep()'s report, its rate limit, and might_alloc(). */
class MightSleepTest {
    private final KernelLog log = new KernelLog(4096, false);
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final Lockdep dep = new Lockdep(Lockdep.Options.defaults().withClock(clock::get), log);

    @Test
    void mutexUnderSpinlockIsSleepingInAtomic() {
        SpinLock s = new SpinLock(dep, "spin");
        Mutex m = new Mutex(dep, "mtx");
        s.lock();
        m.lock();
        m.unlock();
        s.unlock();
        String me = Thread.currentThread().getName();
        long pid = Thread.currentThread().threadId();
        assertThat(log.lines()).containsSubsequence(
                "BUG: sleeping function called from invalid context at MightSleepTest.java:22",
                "in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: " + pid + ", name: " + me,
                "preempt_count: 1, expected: 0",
                "RCU nest depth: 0, expected: 0",
                "1 lock held by " + me + "/" + pid + ":",
                "Call Trace:");
    }

    @Test
    void ratelimitedToOncePerSecond() {
        SpinLock s = new SpinLock(dep, "spin");
        s.lock();
        dep.mightSleep();
        dep.mightSleep();
        assertThat(dep.reportCount()).isEqualTo(1);
        clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
        dep.mightSleep();
        s.unlock();
        assertThat(dep.reportCount()).isEqualTo(2);
    }

    @Test
    void hardirqReportsIrqsDisabled() {
        Irq.hardirq(dep::mightSleep);
        assertThat(log.dmesg()).contains("in_atomic(): 1, irqs_disabled(): 1", "preempt_count: 10000, expected: 0");
    }

    @Test
    void t68MightAllocKernelInAtomicReportsAtomicDoesNot() {
        RawSpinLock r = new RawSpinLock(dep, "raw");
        r.lock();
        dep.fsReclaim().mightAlloc(Gfp.ATOMIC);
        assertThat(dep.reportCount()).isZero();
        dep.fsReclaim().mightAlloc(Gfp.KERNEL);
        r.unlock();
        assertThat(log.dmesg()).contains("BUG: sleeping function called from invalid context at MightSleepTest.java:");
    }

    @Test
    void preemptRtSpinLockMaySleepRawSpinLockMayNot() {
        Lockdep rt = new Lockdep(Lockdep.Options.defaults().withPreemptRt(true).withClock(clock::get), log);
        SpinLock s = new SpinLock(rt, "spin");
        RawSpinLock r = new RawSpinLock(rt, "raw");
        s.lock();
        rt.mightSleep();
        s.unlock();
        assertThat(rt.reportCount()).isZero();
        r.lock();
        s.lock(); // a sleeping lock under a raw spinlock: invalid on PREEMPT_RT
        s.unlock();
        r.unlock();
        assertThat(rt.reportCount()).isEqualTo(1);
    }

    @Test
    void checkOffIsSilent() {
        Lockdep off = Lockdep.disabled();
        SpinLock s = new SpinLock(off, "spin");
        s.lock();
        off.mightSleep();
        s.unlock();
        assertThat(off.reportCount()).isZero();
    }
}
