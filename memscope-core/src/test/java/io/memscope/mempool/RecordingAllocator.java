package io.memscope.mempool;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;

/**
 * A backing allocator for mempool tests: hands out distinct non-zero handles, records every GFP
 * mask it is called with, tracks which handles are live (so leaks and double frees show), and
 * fails on demand: the next N calls, or whenever a predicate on the mask says so.
 */
final class RecordingAllocator implements LongMempool.AllocFn, LongMempool.FreeFn {
    final List<Integer> masks = new CopyOnWriteArrayList<>();
    final Set<Long> live = ConcurrentHashMap.newKeySet();
    final AtomicInteger failNext = new AtomicInteger();
    final AtomicInteger frees = new AtomicInteger();
    volatile IntPredicate failWhen = gfp -> false;
    volatile boolean record = true;
    private final AtomicLong next = new AtomicLong(0x1000);

    @Override
    public long alloc(int gfp) {
        if (record) {
            masks.add(gfp);
        }
        if (failNext.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0 || failWhen.test(gfp)) {
            return LongMempool.NULL;
        }
        long h = next.getAndAdd(0x1000);
        live.add(h);
        return h;
    }

    @Override
    public void free(long element) {
        assertThat(live.remove(element)).as("free of a handle that is not live: 0x%x", element).isTrue();
        frees.incrementAndGet();
    }

    void failAlways() {
        failWhen = gfp -> true;
    }

    void succeedAlways() {
        failWhen = gfp -> false;
    }
}
