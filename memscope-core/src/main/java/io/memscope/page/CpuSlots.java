package io.memscope.page;

import io.memscope.sched.Task;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The machine's "CPUs": which per-CPU slot a task uses ({@code smp_processor_id()}), taking a
 * slot's lock on the allocation and free paths ({@code pcp_spin_trylock}), and returning every
 * per-CPU list to the buddy ({@code drain_all_pages}).
 *
 * <p>Why a class of its own: Java has no CPU id, so memscope deals slots to tasks and lets a task
 * move to a neighbour when its slot is busy, as a task migrates between CPUs. That policy is the
 * one piece of the per-CPU design the kernel does not have; it lives here, next to the lock that
 * makes it safe, and both the allocation path ({@link PageAllocator}) and the free path
 * ({@link FreePath}) go through it. See {@link PerCpuPages} for what a slot holds.
 *
 * <p>Correctness never depends on the dealing: each slot has its own lock, so two tasks on one
 * slot only contend. The dealing only keeps N threads on N slots from sharing one.
 */
final class CpuSlots {
    private final PageAllocator owner;
    private final int nSlots;
    private final int nodes;
    private final Zone[] zones;
    /** The next slot to deal to a task that has not used this machine yet. */
    private final AtomicInteger cursor = new AtomicInteger();

    CpuSlots(PageAllocator owner, int nSlots, int nodes, Zone[] zones) {
        this.owner = owner;
        this.nSlots = nSlots;
        this.nodes = nodes;
        this.zones = zones;
    }

    /** The slot of {@code t} on this machine: dealt on first use, moved on contention. */
    int slotOf(Task t) {
        int s = t.pcpSlot(owner);
        if (s < 0) {
            // First use of this machine: slots are dealt round-robin, so N threads on N slots never
            // share one (a hash of the thread id would put two of them together half of the time).
            s = (cursor.getAndIncrement() & Integer.MAX_VALUE) % nSlots;
            t.setPcpSlot(owner, s);
        }
        return s;
    }

    /** The node a slot belongs to (slots are spread round-robin over nodes). */
    int slotNode(int slot) {
        return slot % nodes;
    }

    /**
     * {@code pcp_spin_trylock} on the calling task's slot, else on its neighbour — to which the task
     * then moves (a task migrating to a less busy CPU) — else null: the caller goes to the buddy.
     */
    PerCpuPages lockSlot(Zone zone, Task task) {
        int slot = slotOf(task);
        PerCpuPages pcp = zone.pcp[slot];
        if (pcp.tryLock()) {
            return pcp;
        }
        int next = slot + 1 == nSlots ? 0 : slot + 1;
        pcp = zone.pcp[next];
        if (pcp.tryLock()) {
            task.setPcpSlot(owner, next);
            return pcp;
        }
        return null;
    }

    /**
     * {@code drain_all_pages(NULL)}: returns every page on every per-CPU list of every zone to the
     * buddy. Waits for each slot's lock (see {@link PerCpuPages#lockSpin()}: spins, then parks briefly).
     * Returns the number of pages drained.
     */
    long drainAll() {
        long n = 0;
        for (Zone z : zones) {
            for (PerCpuPages p : z.pcp) {
                if (p.countRacy() == 0) {
                    continue;
                }
                p.lockSpin();
                try {
                    n += p.drain();
                } finally {
                    p.unlock();
                }
            }
        }
        return n;
    }

    /** Pages currently on per-CPU lists of {@code zone} (racy). */
    static long pcpPages(Zone zone) {
        long n = 0;
        for (PerCpuPages p : zone.pcp) {
            n += p.countRacy();
        }
        return n;
    }
}
