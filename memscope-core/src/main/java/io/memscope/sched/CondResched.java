package io.memscope.sched;

/**
 * {@code cond_resched()} ({@code kernel/sched/core.c}): a voluntary preemption point for the
 * long loops of memscope that a virtual thread can run without ever blocking.
 *
 * <p><b>Why it exists.</b> The JDK schedules virtual threads like a {@code CONFIG_PREEMPT_NONE}
 * kernel: a virtual thread leaves its carrier only when it blocks or yields; nothing takes the
 * carrier away when its time is up. A virtual thread that writes into pages already in the page
 * cache never blocks, so as many such writers as there are carriers hold every carrier for good.
 * Every other virtual thread then starves — and so does every platform thread that waits behind
 * one of them for a lock: {@code ReentrantLock} and monitors hand a released lock to the queued
 * successor by waking it, and a woken virtual thread that never gets a carrier never takes the
 * lock. memscope's B2 pressure test stopped that way (all readers and the cache fillers queued on
 * a free {@code zone->lock} behind a woken virtual thread, while two virtual writers looped over
 * their cached pages on both carriers). The kernel's answer for a non-preemptive kernel is the
 * same as ours: the loops that can run long call {@code cond_resched()}, which gives the CPU away
 * once the scheduler wants it back.
 *
 * <p><b>What "wants it back" means here.</b> The kernel's tick sets {@code TIF_NEED_RESCHED} when
 * the running task has used its slice; {@code cond_resched()} schedules only then
 * ({@code should_resched(0)}), and only when preemption is enabled. memscope has no tick: a
 * virtual thread's slice is {@link #SLICE_NANOS} of wall-clock time since its last voluntary
 * yield (the task remembers when that was), and when it is used up {@code condResched} gives the
 * carrier away. A thread that blocked in between may yield once more than it needed to; one yield
 * per slice costs a few microseconds in 750. Platform threads never yield here: the operating
 * system preempts them. A task in atomic context (a spinlock held, interrupts disabled, in
 * interrupt) never yields either, as in the kernel.
 *
 * <p><b>How it yields: a 1 ns timed park, not {@link Thread#yield()}.</b> On JDK 25, with every
 * carrier held by a virtual thread that calls {@code Thread.yield()} every 0.75 ms, a virtual
 * thread started from a platform thread did not run for 5 s (13 000 yields): the yielder is
 * resubmitted and taken again before the waiting task. {@code LockSupport.parkNanos(1)} unmounts
 * the thread and resubmits it only when its timer fires, so the carrier takes the next task
 * first; the waiting thread ran within 2 ms ({@code CondReschedTest} keeps that scenario). A park
 * may consume a pending {@code unpark} permit instead of parking (that slice's yield is then
 * skipped; the next slice yields); consuming it is harmless, because every park-based wait rechecks
 * its condition after it announces itself, and {@code condResched} is never called inside such a
 * wait. A park returns at once while the interrupt status is set, so the status is cleared around
 * the park and set again; setting it unparks the thread, so an interrupted thread parks twice, the
 * first taking that permit.
 *
 * <p>Where memscope calls it: where the kernel does in the loops a virtual thread can spend long
 * in — {@code generic_perform_write()} after each page, {@code filemap_read()} before each page,
 * {@code shrink_folio_list()} before each page, {@code do_shrink_slab()} after each batch,
 * {@code should_reclaim_retry()} before another round, and {@code reclaim_throttle()} where it
 * declines to sleep (kernel threads, a node without hope of progress).
 * Code of your own that runs CPU-bound on virtual threads needs the same, or it starves the rest
 * of the JVM's virtual threads whatever memscope does.
 */
public final class CondResched {
    private CondResched() {}

    /**
     * A virtual thread's slice: {@code sysctl_sched_base_slice}, 0.75 ms, the EEVDF scheduler's
     * default request size ({@code kernel/sched/fair.c}).
     */
    public static final long SLICE_NANOS = 750_000L;

    /**
     * {@code cond_resched()}: yields the carrier when the calling virtual thread has used its
     * slice and may be preempted. Never blocks; returns whether it yielded.
     */
    public static boolean condResched() {
        Thread t = Thread.currentThread();
        if (!t.isVirtual()) {
            return false;
        }
        return Task.current().reschedIfSliceUsed(System.nanoTime());
    }
}
