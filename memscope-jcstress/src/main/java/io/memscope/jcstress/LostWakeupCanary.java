package io.memscope.jcstress;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Mode;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.Signal;
import org.openjdk.jcstress.annotations.State;

/**
 * The canary of the termination tests: a waiter whose wake-up is lost on purpose (the signal
 * sets the flag and signals a <em>different</em> condition). Its only honest outcome is STALE.
 * It shows that the harness really detects an actor that is never woken on this JVM, so the
 * TERMINATED results of {@link MempoolWakeup}, {@link KswapdWakeup} and
 * {@code ReclaimThrottleWakeup} mean something. STALE is "acceptable, interesting" here (the
 * expected catch), TERMINATED forbidden: a run with 0 FORBIDDEN outcomes includes a working canary.
 */
@JCStressTest(Mode.Termination)
@Outcome(id = "STALE", expect = Expect.ACCEPTABLE_INTERESTING, desc = "the harness caught the lost wake-up, as it must")
@Outcome(id = "TERMINATED", expect = Expect.FORBIDDEN, desc = "the harness cannot see a waiter that is never woken")
@State
public class LostWakeupCanary {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition waitedOn = lock.newCondition();
    private final Condition signalled = lock.newCondition();
    private boolean ready;

    @Actor
    public void waiter() {
        lock.lock();
        try {
            while (!ready) {
                waitedOn.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }

    @Signal
    public void wrongWakeup() {
        lock.lock();
        try {
            signalled.signalAll(); // the bug: the waiter sleeps on waitedOn, and ready stays false
        } finally {
            lock.unlock();
        }
    }
}
