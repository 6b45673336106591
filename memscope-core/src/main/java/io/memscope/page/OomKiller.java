package io.memscope.page;

import io.memscope.gfp.Gfp;

/**
 * The OOM killer as the allocator sees it: {@code out_of_memory()} of {@code mm/oom_kill.c}, entered
 * from {@code __alloc_pages_may_oom()} only after its gates passed (order ≤ 3, no RETRY_MAYFAIL or
 * THISNODE, highest zone ≥ NORMAL, not PF_DUMPCORE). Returns true for "progress" (a victim was
 * chosen, or nothing needs to be killed), which makes the allocator retry.
 *
 * <p>The default {@link #NOTHING_TO_KILL} models a machine with no killable task: for a request
 * without {@code __GFP_FS} it returns true without killing, exactly as {@code out_of_memory()} does
 * ("!__GFP_FS and not memcg OOM → true"), so a small GFP_NOFS request keeps retrying until memory
 * appears; with {@code __GFP_FS} it returns false (the kernel would panic with "Out of memory and no
 * killable processes"; memscope fails the allocation instead).
 */
@FunctionalInterface
public interface OomKiller {
    /** No task to kill; !__GFP_FS counts as progress. */
    OomKiller NOTHING_TO_KILL = (gfp, order) -> (gfp & Gfp.FS) == 0;

    /** {@code out_of_memory()}. Called with the machine's oom lock held; may sleep. */
    boolean outOfMemory(int gfp, int order);
}
