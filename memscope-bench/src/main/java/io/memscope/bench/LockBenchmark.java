package io.memscope.bench;

import io.memscope.debug.KernelLog;
import io.memscope.locking.Lockdep;
import io.memscope.locking.Mutex;
import io.memscope.locking.SpinLock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Uncontended lock+unlock: memscope's {@link Mutex} and {@link SpinLock} with lockdep off and on,
 * against {@link ReentrantLock}. The "off" figures are the cost users pay in production (one
 * predictable branch on top of the CAS); "on" is the debugging configuration.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LockBenchmark {
    private ReentrantLock reentrant;
    private Mutex mutexOff;
    private Mutex mutexOn;
    private SpinLock spinOff;
    private SpinLock spinOn;

    @Setup
    public void setup() {
        Lockdep off = Lockdep.disabled();
        Lockdep on = new Lockdep(Lockdep.Options.defaults(), new KernelLog(16, false));
        reentrant = new ReentrantLock();
        mutexOff = new Mutex(off, "bench_mutex_off");
        mutexOn = new Mutex(on, "bench_mutex_on");
        spinOff = new SpinLock(off, "bench_spin_off");
        spinOn = new SpinLock(on, "bench_spin_on");
    }

    @Benchmark
    public void reentrantLock() {
        reentrant.lock();
        reentrant.unlock();
    }

    @Benchmark
    public void mutexLockdepOff() {
        mutexOff.lock();
        mutexOff.unlock();
    }

    @Benchmark
    public void mutexLockdepOn() {
        mutexOn.lock();
        mutexOn.unlock();
    }

    @Benchmark
    public void spinLockLockdepOff() {
        spinOff.lock();
        spinOff.unlock();
    }

    @Benchmark
    public void spinLockLockdepOn() {
        spinOn.lock();
        spinOn.unlock();
    }
}
