package io.memscope.locking;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.debug.KernelLog;
import io.memscope.gfp.Gfp;
import io.memscope.sched.Memalloc;
import io.memscope.sched.Task;
import org.junit.jupiter.api.Test;

/** KERNEL.md T65-T67: the fs_reclaim annotation of mm/page_alloc.c and its advice. */
class FsReclaimTest {
    private final KernelLog log = new KernelLog(4096, false);
    private final Lockdep dep = new Lockdep(Lockdep.Options.defaults(), log);
    private final FsReclaim fs = dep.fsReclaim();

    /** A "shrinker" that takes {@code l} under fs_reclaim, as reclaim would call it. */
    private void shrinkerTakes(Mutex l) {
        try (FsReclaim.Section r = fs.enterUnconditional("kswapd0").context("shrinker xfs_inode_cache")) {
            assertThat(r.holds()).isTrue();
            l.lock();
            l.unlock();
        }
    }

    private void allocateUnder(Mutex l, int gfp) {
        l.lock();
        fs.mightAlloc(gfp);
        l.unlock();
    }

    @Test
    void t65AllocationUnderLockThenShrinkerTakingItIsACycle() {
        Mutex l = new Mutex(dep, "&xfs_trans_lock");
        allocateUnder(l, Gfp.KERNEL);
        shrinkerTakes(l);
        assertThat(dep.reportCount()).isEqualTo(1);
        String r = log.dmesg();
        assertThat(r).contains("WARNING: possible circular locking dependency detected",
                "but task is already holding lock:", "(fs_reclaim){+.+.}-{0:0}, at: FsReclaimTest.shrinkerTakes",
                "-> #1 (fs_reclaim){+.+.}-{0:0}:", "-> #0 (&xfs_trans_lock){+.+.}-{4:4}:",
                "  lock(fs_reclaim);\n                               lock(&xfs_trans_lock);\n"
                        + "                               lock(fs_reclaim);\n  lock(&xfs_trans_lock);",
                "memscope: how to break this fs_reclaim cycle:",
                "reclaim needs lock (&xfs_trans_lock): shrinker xfs_inode_cache takes it while holding fs_reclaim",
                "(&xfs_trans_lock) was taken at FsReclaimTest.allocateUnder(FsReclaimTest.java:",
                "(allocation gfp_mask=0xcc0(GFP_KERNEL))", "Fix: call memallocNofsSave() where (&xfs_trans_lock) is taken",
                "pass GFP_NOFS at FsReclaimTest.allocateUnder(FsReclaimTest.java:");
    }

    @Test
    void t65ShrinkerFirstThenAllocationIsTheSameCycle() {
        Mutex l = new Mutex(dep, "L");
        shrinkerTakes(l);
        allocateUnder(l, Gfp.KERNEL);
        assertThat(log.dmesg()).contains("possible circular locking dependency detected",
                "is trying to acquire lock:", "(fs_reclaim)", "-> #1 (L)", "reclaim needs lock (L)");
    }

    @Test
    void t66NofsAllocationScopeOrNolockdepRecordNoEdge() {
        Mutex l = new Mutex(dep, "L");
        int before = dep.dependencyCount();
        allocateUnder(l, Gfp.NOFS);
        allocateUnder(l, Gfp.KERNEL | Gfp.NOLOCKDEP);
        int cookie = Memalloc.memallocNofsSave();
        try {
            allocateUnder(l, Gfp.KERNEL);
        } finally {
            Memalloc.memallocNofsRestore(cookie);
        }
        assertThat(dep.dependencyCount()).isEqualTo(before);
        shrinkerTakes(l);
        assertThat(dep.reportCount()).isZero();
    }

    @Test
    void t67NoFsReclaimWithoutDirectReclaimOrInPfMemalloc() {
        assertThat(FsReclaim.takesMap(Gfp.KERNEL)).isTrue();
        assertThat(FsReclaim.takesMap(Gfp.ATOMIC)).isFalse();
        assertThat(FsReclaim.takesMap(Gfp.NOWAIT)).isFalse();
        assertThat(FsReclaim.takesMap(Gfp.NOFS)).isFalse();
        assertThat(FsReclaim.needReclaim(Gfp.NOFS, 0)).isTrue();
        int cookie = Memalloc.memallocNoreclaimSave();
        try {
            assertThat(FsReclaim.takesMap(Gfp.KERNEL)).isFalse();
            Mutex l = new Mutex(dep, "L");
            int before = dep.dependencyCount();
            allocateUnder(l, Gfp.KERNEL);
            assertThat(dep.dependencyCount()).isEqualTo(before);
        } finally {
            Memalloc.memallocNoreclaimRestore(cookie);
        }
        Mutex l2 = new Mutex(dep, "L2");
        allocateUnder(l2, Gfp.ATOMIC);
        allocateUnder(l2, Gfp.NOWAIT);
        shrinkerTakes(l2);
        assertThat(dep.reportCount()).isZero();
    }

    @Test
    void directReclaimSectionHonoursTheScopedMask() {
        try (FsReclaim.Section s = fs.enter(Gfp.NOFS, "direct reclaim")) {
            assertThat(s.holds()).isFalse();
        }
        try (FsReclaim.Section s = fs.enter(Gfp.KERNEL, "direct reclaim")) {
            assertThat(s.holds()).isTrue();
            assertThat(dep.isHeld(fs.lockdepMap())).isTrue();
        }
        assertThat(dep.isHeld(fs.lockdepMap())).isFalse();
    }

    @Test
    void offCostsNothingAndRecordsNothing() {
        Lockdep off = Lockdep.disabled();
        Mutex l = new Mutex(off, "L");
        l.lock();
        off.fsReclaim().mightAlloc(Gfp.KERNEL);
        l.unlock();
        try (FsReclaim.Section s = off.fsReclaim().enterUnconditional("kswapd0")) {
            assertThat(s.holds()).isFalse();
            l.lock();
            l.unlock();
        }
        assertThat(off.reportCount()).isZero();
        assertThat(off.classCount()).isZero();
    }

    @Test
    void primingReportsTheFirstAllocationUnderTheLockWithoutAnyReclaim() {
        Mutex l = new Mutex(dep, "jfs_trans");
        fs.prime("shrinker sb-journal", l.lockdepMap());
        assertThat(dep.reportCount()).isZero();
        allocateUnder(l, Gfp.KERNEL);
        assertThat(dep.reportCount()).isEqualTo(1);
        assertThat(log.dmesg()).contains("WARNING: possible circular locking dependency detected", "fs_reclaim",
                "jfs_trans", "shrinker sb-journal");
    }

    @Test
    void primingThenANofsAllocationStaysClean() {
        Mutex l = new Mutex(dep, "jfs_trans");
        fs.prime("shrinker sb-journal", l.lockdepMap());
        allocateUnder(l, Gfp.NOFS);
        int cookie = Memalloc.memallocNofsSave();
        try {
            allocateUnder(l, Gfp.KERNEL);
        } finally {
            Memalloc.memallocNofsRestore(cookie);
        }
        assertThat(dep.reportCount()).isZero();
    }
}
