package io.memscope.reclaim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.sched.Task;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** mm/oom_kill.c rules: oom_badness, select_bad_process, the !__GFP_FS gate (T30), victims, reaper, reports. */
class OomKillerTest {
    private static final long TOTAL = 262_144; // 1 GiB of 4 KiB pages: adj unit = 262 pages
    private final KernelLog log = new KernelLog(256, false);
    private final OomKiller oom = new OomKiller(log, () -> TOTAL, () -> List.of("Mem-Info:"), 5);

    @AfterEach
    void close() {
        oom.close();
    }

    /** A unit holding {@code pages} pages that gives them all back when killed. */
    static final class Unit implements OomVictim {
        final String name;
        final AtomicLong pages;
        final int adj;
        final AtomicInteger kills = new AtomicInteger();
        boolean releaseOnKill = true;

        Unit(String name, long pages, int adj) {
            this.name = name;
            this.pages = new AtomicLong(pages);
            this.adj = adj;
        }

        @Override public String name() { return name; }
        @Override public long rssAnonPages() { return pages.get(); }
        @Override public int oomScoreAdj() { return adj; }
        @Override public void kill() {
            kills.incrementAndGet();
            if (releaseOnKill) {
                pages.set(0);
            }
        }
    }

    @Test
    void badnessIsPagesPlusAdjTimesTotalOverThousandWithIntegerDivisionFirst() {
        assertThat(OomKiller.oomBadness(new Unit("a", 1000, 0), false, TOTAL)).isEqualTo(1000);
        assertThat(OomKiller.oomBadness(new Unit("b", 1000, 500), false, TOTAL)).isEqualTo(1000 + 500 * 262);
        assertThat(OomKiller.oomBadness(new Unit("c", 1000, -500), false, TOTAL)).isEqualTo(1000 - 500 * 262);
        // totalpages / 1000 == 0 for a tiny machine: the adjustment vanishes, as in the kernel.
        assertThat(OomKiller.oomBadness(new Unit("d", 10, 1000), false, 999)).isEqualTo(10);
        assertThat(OomKiller.oomBadness(new Unit("e", 10, -1000), false, TOTAL)).isEqualTo(Long.MIN_VALUE);
        assertThat(OomKiller.oomBadness(new Unit("f", 10, 0), true, TOTAL)).isEqualTo(Long.MIN_VALUE);
    }

    @Test
    void killsTheHighestBadnessAndNeverAnUnkillableOne() {
        Unit small = new Unit("small", 100, 0);
        Unit big = new Unit("big", 5000, 0);
        Unit pinned = new Unit("pinned", 100_000, OomKiller.OOM_SCORE_ADJ_MIN);
        oom.register(small);
        oom.register(big);
        oom.register(pinned);
        assertThat(oom.outOfMemory(Gfp.KERNEL, 0)).isTrue();
        assertThat(big.kills).hasValue(1);
        assertThat(small.kills).hasValue(0);
        assertThat(pinned.kills).hasValue(0);
        assertThat(oom.oomKills()).isEqualTo(1);
    }

    @Test
    void oomScoreAdjCanOutweighSize() {
        Unit big = new Unit("big", 5000, 0);
        Unit preferred = new Unit("preferred", 100, 100); // 100 + 100*262 = 26300 > 5000
        oom.register(big);
        oom.register(preferred);
        oom.outOfMemory(Gfp.KERNEL, 0);
        assertThat(preferred.kills).hasValue(1);
        assertThat(big.kills).hasValue(0);
    }

    @Test
    void equalBadnessKillsTheLaterOne() {
        Unit first = new Unit("first", 100, 0);
        Unit second = new Unit("second", 100, 0);
        oom.register(first);
        oom.register(second);
        oom.outOfMemory(Gfp.KERNEL, 0);
        assertThat(second.kills).hasValue(1);
        assertThat(first.kills).hasValue(0);
    }

    @Test
    void t30NoFsContextKillsNothingButReportsProgress() {
        Unit u = new Unit("u", 5000, 0);
        oom.register(u);
        assertThat(oom.outOfMemory(Gfp.NOFS, 0)).isTrue();
        assertThat(oom.outOfMemory(Gfp.NOIO, 0)).isTrue();
        assertThat(u.kills).hasValue(0);
        assertThat(oom.oomKills()).isZero();
        assertThat(log.dmesg()).doesNotContain("invoked oom-killer");
    }

    @Test
    void aDyingVictimAbortsSelectionUntilTheReaperPassesOverIt() throws Exception {
        Unit slow = new Unit("slow", 5000, 0);
        slow.releaseOnKill = false;
        Unit other = new Unit("other", 100, 0);
        oom.register(slow);
        oom.register(other);
        assertThat(oom.outOfMemory(Gfp.KERNEL, 0)).isTrue();
        assertThat(slow.kills).hasValue(1);
        // Still dying: another OOM must not kill a second victim.
        assertThat(oom.outOfMemory(Gfp.KERNEL, 0)).isTrue();
        assertThat(other.kills).hasValue(0);
        // The memory comes back; the reaper marks the victim skipped.
        slow.pages.set(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        OomKiller.Registration reg = null;
        while (System.nanoTime() < deadline && !log.dmesg().contains("oom_reaper: reaped process")) {
            Thread.sleep(5);
        }
        assertThat(log.dmesg()).contains("oom_reaper: reaped process 1000 (slow), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB");
        assertThat(oom.outOfMemory(Gfp.KERNEL, 0)).isTrue();
        assertThat(other.kills).hasValue(1);
    }

    /**
     * {@code task_will_free_mem(current)} is false once the victim carries MMF_OOM_SKIP: a killed
     * task that calls into the OOM killer after the reaper gave up on it does not just report
     * progress, it selects the next victim.
     */
    @Test
    void aReapedVictimsOwnOomCallSelectsTheNextVictim() throws Exception {
        Unit stuck = new Unit("stuck", 5000, 0);
        stuck.releaseOnKill = false;
        Unit next = new Unit("next", 100, 0);
        OomKiller.Registration r = oom.register(stuck);
        oom.register(next);
        r.attachCurrentThread();
        try {
            assertThat(oom.outOfMemory(Gfp.KERNEL, 0)).isTrue();
            assertThat(stuck.kills).hasValue(1);
            // Still dying, not yet reaped: its own call only reports progress.
            if (!r.isReaped()) {
                assertThat(oom.outOfMemory(Gfp.KERNEL, 0)).isTrue();
                assertThat(next.kills).hasValue(0);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline && !r.isReaped()) {
                Thread.sleep(5);
            }
            assertThat(r.isReaped()).isTrue();
            assertThat(oom.outOfMemory(Gfp.KERNEL, 0)).isTrue();
            assertThat(next.kills).as("the next victim, chosen by the reaped task's own OOM call").hasValue(1);
        } finally {
            r.detachCurrentThread();
        }
    }

    @Test
    void reaperGivesUpOnAVictimThatNeverReleases() throws Exception {
        Unit stuck = new Unit("stuck", 5000, 0);
        stuck.releaseOnKill = false;
        OomKiller.Registration r = oom.register(stuck);
        oom.outOfMemory(Gfp.KERNEL, 0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && !r.isReaped()) {
            Thread.sleep(5);
        }
        assertThat(r.isReaped()).isTrue();
        assertThat(log.dmesg()).contains("oom_reaper: unable to reap pid:1000 (stuck)");
    }

    @Test
    void killedUnitsTasksBecomeOomVictims() {
        // A victim still dying (its memory not yet back, the reaper's next try a minute away): the
        // state in which task_will_free_mem(current) holds.
        OomKiller oom = new OomKiller(log, () -> TOTAL, () -> List.of("Mem-Info:"), 60_000);
        Unit u = new Unit("query-7", 5000, 0);
        u.releaseOnKill = false;
        OomKiller.Registration r = oom.register(u);
        r.attachCurrentThread();
        try {
            assertThat(Task.current().isOomVictim()).isFalse();
            oom.outOfMemory(Gfp.KERNEL, 0);
            assertThat(Task.current().oomVictimOf()).isSameAs(r);
            // task_will_free_mem(current): the dying caller gets progress without a new kill.
            assertThat(oom.outOfMemory(Gfp.KERNEL, 0)).isTrue();
            assertThat(oom.oomKills()).isEqualTo(1);
        } finally {
            r.detachCurrentThread();
            r.close();
            oom.close();
        }
        assertThat(Task.current().isOomVictim()).isFalse();
    }

    @Test
    void notifierThatFreesMemoryPreventsAKill() {
        Unit u = new Unit("u", 5000, 0);
        oom.register(u);
        oom.registerNotifier(() -> 64);
        assertThat(oom.outOfMemory(Gfp.KERNEL, 0)).isTrue();
        assertThat(u.kills).hasValue(0);
    }

    @Test
    void noKillableVictimReportsAndFailsOrPanics() {
        oom.register(new Unit("pinned", 10, OomKiller.OOM_SCORE_ADJ_MIN));
        assertThat(oom.outOfMemory(Gfp.KERNEL, 0)).isFalse();
        assertThat(log.lines()).contains("Out of memory and no killable processes...");
        oom.setPanicOnNoVictim(true);
        assertThatThrownBy(() -> oom.outOfMemory(Gfp.KERNEL, 0)).isInstanceOf(OomPanicException.class)
                .hasMessage("Kernel panic - not syncing: System is deadlocked on memory");
    }

    @Test
    void killReportHasTheKernelShape() {
        String oldName = Thread.currentThread().getName();
        Thread.currentThread().setName("writer-3");
        try {
            oom.register(new Unit("tenant-a", 2500, 0));
            oom.register(new Unit("tenant-b", 250, -100));
            oom.outOfMemory(Gfp.KERNEL, 0);
        } finally {
            Thread.currentThread().setName(oldName);
        }
        List<String> lines = log.lines();
        assertThat(lines.get(0)).isEqualTo("writer-3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0");
        assertThat(lines).containsSubsequence(
                "Mem-Info:",
                "Tasks state (memory values in pages):",
                "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name",
                "[   1000]     0  1000     2500     2500     2500        0         0        0        0             0 tenant-a",
                "[   1001]     0  1001      250      250      250        0         0        0        0          -100 tenant-b",
                "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=tenant-a,pid=1000,uid=0",
                "Out of memory: Killed process 1000 (tenant-a) total-vm:10000kB, anon-rss:10000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:0kB oom_score_adj:0");
    }

    @Test
    void badScoreAdjIsRejected() {
        assertThatThrownBy(() -> oom.register(new Unit("x", 1, 1001)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[-1000, 1000], was 1001");
    }
}
