package io.memscope.reclaim;

/**
 * Something the OOM killer may kill to get memory back: the counterpart of a process
 * ({@code task_struct} with its {@code mm_struct}) in {@code mm/oom_kill.c}.
 *
 * <p>A JVM engine registers its killable units — a query, a tenant, a cache owner — with
 * {@link OomKiller#register}. The killer ranks them by {@code oom_badness}: the pages they hold
 * plus {@code oomScoreAdj × (totalpages / 1000)}; {@link OomKiller#OOM_SCORE_ADJ_MIN} makes a
 * victim unkillable. {@link #kill()} must make the unit release its memory (it may do so
 * asynchronously, as a killed process exits after SIGKILL); the OOM reaper waits for the
 * footprint to fall.
 *
 * <p>The footprint methods are read from other threads while memory is short: they must be
 * cheap, must not allocate from the machine and must not take locks that allocating threads
 * may hold.
 */
public interface OomVictim {
    /** The name printed as the process's {@code comm}. */
    String name();

    /** Anonymous resident pages ({@code MM_ANONPAGES}). */
    long rssAnonPages();

    /** File-backed resident pages ({@code MM_FILEPAGES}). */
    default long rssFilePages() {
        return 0;
    }

    /** Shared-memory resident pages ({@code MM_SHMEMPAGES}). */
    default long rssShmemPages() {
        return 0;
    }

    /** Swap entries ({@code MM_SWAPENTS}). */
    default long swapEntries() {
        return 0;
    }

    /** Bytes of page tables ({@code mm_pgtables_bytes}). */
    default long pgtablesBytes() {
        return 0;
    }

    /** Virtual size in pages ({@code total_vm}); by default the resident size. */
    default long totalVmPages() {
        return rssAnonPages() + rssFilePages() + rssShmemPages();
    }

    /** {@code oom_score_adj}, from -1000 (never kill) to 1000 (kill first). */
    int oomScoreAdj();

    /** The kill action: stop the unit and release its memory. Called once. */
    void kill();
}
