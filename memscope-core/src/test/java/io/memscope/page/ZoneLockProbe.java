package io.memscope.page;

/**
 * Test-side view of who holds each zone's {@code zone->lock}, for stall reports: a thread dump
 * shows who waits for a {@code ReentrantLock} but not who owns it, and the owner of a stuck zone
 * lock is the first thing to know about an allocator stall.
 */
public final class ZoneLockProbe {
    private ZoneLockProbe() {}

    /** One line per zone: its name and the lock's state ({@code [Locked by thread ...]} or {@code [Unlocked]}). */
    public static String describe(PageAllocator pages) {
        StringBuilder sb = new StringBuilder();
        for (Zone z : pages.zones()) {
            sb.append("zone ").append(z.name()).append(" lock ").append(z.lock).append(", queued ")
                    .append(z.lock.getQueueLength()).append('\n');
        }
        return sb.toString();
    }
}
