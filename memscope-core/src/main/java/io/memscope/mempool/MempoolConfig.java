package io.memscope.mempool;

import io.memscope.debug.FaultAttr;
import io.memscope.debug.KernelLog;
import java.time.Duration;
import java.util.Objects;

/**
 * The per-pool settings of a {@link LongMempool}, validated once.
 *
 * @param log                  the machine's kernel log (context-check reports, VM_WARNs and the
 *                             {@code "forcing mempool usage"} notices go there)
 * @param name                 a name for messages (the kernel prints the caller instead)
 * @param waitNanos            how long a sleeping {@code mempoolAlloc} waits per round for an
 *                             element to come back before retrying the backing allocator; the
 *                             kernel's {@code io_schedule_timeout(5*HZ)}, default 5 s. Tests
 *                             shorten it.
 * @param failMempoolAlloc     the machine's {@code fail_mempool_alloc} attribute, or null when
 *                             that injection point is off
 * @param failMempoolAllocBulk the machine's {@code fail_mempool_alloc_bulk} attribute, or null
 */
public record MempoolConfig(KernelLog log, String name, long waitNanos, FaultAttr failMempoolAlloc,
        FaultAttr failMempoolAllocBulk) {
    /** {@code 5*HZ}. */
    public static final long DEFAULT_WAIT_NANOS = Duration.ofSeconds(5).toNanos();

    public MempoolConfig {
        Objects.requireNonNull(log, "log");
        Objects.requireNonNull(name, "name");
        if (waitNanos <= 0) {
            throw new IllegalArgumentException("mempool wait period must be > 0 ns, was " + waitNanos);
        }
    }

    /** Kernel defaults: a 5 s wait per round, no fault injection. */
    public static MempoolConfig defaults(KernelLog log, String name) {
        return new MempoolConfig(log, name, DEFAULT_WAIT_NANOS, null, null);
    }

    /** The same settings with another wait period per round. */
    public MempoolConfig withWait(Duration wait) {
        return new MempoolConfig(log, name, wait.toNanos(), failMempoolAlloc, failMempoolAllocBulk);
    }

    /** The same settings with these {@code fail_mempool_alloc} / {@code fail_mempool_alloc_bulk} attributes. */
    public MempoolConfig withFaultInjection(FaultAttr alloc, FaultAttr allocBulk) {
        return new MempoolConfig(log, name, waitNanos, alloc, allocBulk);
    }
}
