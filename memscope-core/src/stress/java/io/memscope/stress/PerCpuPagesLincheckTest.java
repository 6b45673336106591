package io.memscope.stress;

import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.page.PageAllocConfig;
import io.memscope.page.PageAllocator;
import io.memscope.page.PageHandle;
import io.memscope.stat.VmStat;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * RELIABILITY C5: order-0 {@code allocPages}/{@code freePages} through the per-CPU lists (two
 * slots, so threads meet on the slot trylocks, the neighbour fallback and the buddy fallback).
 * Each operation returns what it takes, so with memory plentiful its result is the same as when it
 * runs alone (pages held at once are distinct); after each run the allocator's books must balance —
 * {@code validate()} finds nothing and no page is still allocated (none handed out twice, none lost),
 * also when a drain of every per-CPU list runs concurrently.
 */
@Tag("stress")
public class PerCpuPagesLincheckTest {
    private final PageAllocator pa;

    public PerCpuPagesLincheckTest() {
        long[][] layout = PageAllocConfig.defaultLayout(8L << 20, 1);
        PageAllocConfig cfg = new PageAllocConfig(layout, 2, 0, 10, new int[] {256, 256, 32, 0}, false, 0, false, false);
        pa = new PageAllocator(cfg, new KernelLog(16, false), new VmStat(), PageAllocator.Hooks.defaults());
    }

    /** One page and its free. */
    @Operation
    public boolean allocThenFree() {
        long h = pa.allocPages(Gfp.KERNEL, 0);
        if (h == PageHandle.NULL) {
            return false;
        }
        pa.freePages(h);
        return true;
    }

    /** Three pages held at once, freed in another order: never the same page twice. */
    @Operation
    public boolean allocThreeThenFree() {
        long a = pa.allocPages(Gfp.KERNEL, 0);
        long b = pa.allocPages(Gfp.KERNEL, 0);
        long c = pa.allocPages(Gfp.KERNEL, 0);
        boolean distinct = PageHandle.pfn(a) != PageHandle.pfn(b) && PageHandle.pfn(b) != PageHandle.pfn(c)
                && PageHandle.pfn(a) != PageHandle.pfn(c);
        pa.freePages(b);
        pa.freePages(c);
        pa.freePages(a);
        return distinct;
    }

    /** An order-1 block (the per-CPU lists cache orders up to 3) and its free. */
    @Operation
    public boolean allocOrder1ThenFree() {
        long h = pa.allocPages(Gfp.KERNEL, 1);
        if (h == PageHandle.NULL) {
            return false;
        }
        pa.freePages(h);
        return true;
    }

    /** {@code drain_all_pages}: returns every pcp page to the buddy while the other thread allocates. */
    @Operation
    public boolean drain() {
        pa.drainAllPages();
        return true;
    }

    @Validate
    public void booksBalance() {
        int errors = pa.validate();
        if (errors != 0 || pa.allocatedPages() != 0) {
            throw new IllegalStateException("page books: validate found " + errors + " errors; "
                    + pa.allocatedPages() + " pages still allocated (expected 0)");
        }
    }

    @Test
    void modelChecking() {
        // loopBound: set_pageblock_migratetype walks the 512 pages of a pageblock (bounded, not a spin).
        new ModelCheckingOptions().iterations(20).invocationsPerIteration(200).threads(2).actorsPerThread(3)
                .loopBound(2048).check(PerCpuPagesLincheckTest.class);
    }

    @Test
    void stress() {
        new StressOptions().iterations(20).invocationsPerIteration(300).threads(2).actorsPerThread(4)
                .check(PerCpuPagesLincheckTest.class);
    }
}
