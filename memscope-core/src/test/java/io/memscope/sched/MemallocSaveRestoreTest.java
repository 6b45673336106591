package io.memscope.sched;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.GfpFormat;
import io.memscope.testkit.Property;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Kernel semantics of current_gfp_context and memalloc_*_save/restore (KERNEL.md §2, T4–T9). */
class MemallocSaveRestoreTest {

    @AfterEach
    void noScopeLeftOpen() {
        assertThat(Task.current().openScopeDepth()).isZero();
        assertThat(Task.current().flags() & Memalloc.PF_MEMALLOC_FLAGS).isZero();
    }

    @Test
    void t4NofsScopeTurnsKernelIntoNofs() {
        int c = Memalloc.memallocNofsSave();
        assertThat(Memalloc.currentGfpContext(Gfp.KERNEL)).isEqualTo(Gfp.NOFS);
        assertThat(GfpFormat.report(Memalloc.currentGfpContext(Gfp.KERNEL))).isEqualTo("0xc40(GFP_NOFS)");
        Memalloc.memallocNofsRestore(c);
        assertThat(Memalloc.currentGfpContext(Gfp.KERNEL)).isEqualTo(Gfp.KERNEL);
    }

    @Test
    void t5NoioWinsOverNofs() {
        int io = Memalloc.memallocNoioSave();
        assertThat(Memalloc.currentGfpContext(Gfp.KERNEL)).isEqualTo(Gfp.NOIO);
        int fs = Memalloc.memallocNofsSave();
        assertThat(Memalloc.currentGfpContext(Gfp.KERNEL)).isEqualTo(Gfp.NOIO);
        Memalloc.memallocNofsRestore(fs);
        Memalloc.memallocNoioRestore(io);
    }

    @Test
    void t6AtomicIsUnchangedInAnyScope() {
        int fs = Memalloc.memallocNofsSave();
        int io = Memalloc.memallocNoioSave();
        assertThat(Memalloc.currentGfpContext(Gfp.ATOMIC)).isEqualTo(Gfp.ATOMIC);
        assertThat(Memalloc.currentGfpContext(Gfp.NOWAIT)).isEqualTo(Gfp.NOWAIT);
        Memalloc.memallocNoioRestore(io);
        Memalloc.memallocNofsRestore(fs);
    }

    @Test
    void t7PinDropsMovable() {
        int p = Memalloc.memallocPinSave();
        int g = Memalloc.currentGfpContext(Gfp.HIGHUSER_MOVABLE);
        assertThat(g).isEqualTo(Gfp.HIGHUSER).isEqualTo(0x100cc2);
        assertThat(Gfp.zone(g)).isEqualTo(io.memscope.gfp.ZoneType.NORMAL);
        Memalloc.memallocPinRestore(p);
    }

    @Test
    void t8NestedNofsSaveReturnsZeroAndOuterSurvives() {
        int outer = Memalloc.memallocNofsSave();
        assertThat(outer).isEqualTo(0x40000);
        int inner = Memalloc.memallocNofsSave();
        assertThat(inner).isZero();
        Memalloc.memallocNofsRestore(inner);
        assertThat(Task.current().hasFlags(Task.PF_MEMALLOC_NOFS)).isTrue();
        Memalloc.memallocNofsRestore(outer);
        assertThat(Task.current().hasFlags(Task.PF_MEMALLOC_NOFS)).isFalse();
    }

    @Test
    void t9FlagsSaveReturnsOnlyNewlySetBits() {
        int io = Memalloc.memallocNoioSave();
        int c = Memalloc.memallocFlagsSave(Task.PF_MEMALLOC_NOFS | Task.PF_MEMALLOC_NOIO);
        assertThat(c).isEqualTo(0x40000);
        Memalloc.memallocFlagsRestore(c);
        assertThat(Task.current().flags() & Memalloc.PF_MEMALLOC_FLAGS).isEqualTo(Task.PF_MEMALLOC_NOIO);
        Memalloc.memallocNoioRestore(io);
    }

    @Test
    void noreclaimSetsPfMemallocWithoutTouchingTheMask() {
        int c = Memalloc.memallocNoreclaimSave();
        assertThat(c).isEqualTo(Task.PF_MEMALLOC);
        assertThat(Memalloc.currentGfpContext(Gfp.KERNEL)).isEqualTo(Gfp.KERNEL);
        Memalloc.memallocNoreclaimRestore(c);
        assertThat(Task.current().hasFlags(Task.PF_MEMALLOC)).isFalse();
    }

    @Test
    void currentGfpContextOnlyClearsBitsAndIsIdempotent() {
        int[] pfs = {0, Task.PF_MEMALLOC_NOFS, Task.PF_MEMALLOC_NOIO, Task.PF_MEMALLOC_PIN, Task.PF_MEMALLOC,
            Memalloc.PF_MEMALLOC_FLAGS, Task.PF_MEMALLOC_NOFS | Task.PF_MEMALLOC_PIN};
        Property.forAll("current_gfp_context clears only, idempotent", 1, rnd -> {
            for (int i = 0; i < 200_000; i++) {
                int gfp = rnd.nextInt();
                int pf = pfs[rnd.nextInt(pfs.length)] | (rnd.nextInt() & ~Memalloc.PF_MEMALLOC_FLAGS);
                int once = Memalloc.gfpContext(pf, gfp);
                if ((once & ~gfp) != 0) {
                    throw new AssertionError("added bits: pf=0x" + Integer.toHexString(pf) + " gfp=" + GfpFormat.report(gfp));
                }
                if (Memalloc.gfpContext(pf, once) != once) {
                    throw new AssertionError("not idempotent: pf=0x" + Integer.toHexString(pf) + " gfp=" + GfpFormat.report(gfp));
                }
                int cleared = gfp & ~once;
                if ((cleared & ~(Gfp.IO | Gfp.FS | Gfp.MOVABLE)) != 0) {
                    throw new AssertionError("cleared a bit other than IO/FS/MOVABLE");
                }
            }
        });
    }

    /** One step of a nested save/restore program: open kind k, or close the innermost. */
    record Op(int kind, boolean open) {
        @Override
        public String toString() {
            return open ? "save" + kind : "restore";
        }
    }

    @Test
    void anyInterleavingOfNestedSaveRestoreRestoresTheOriginalFlags() {
        Property.forAllOps("nested save/restore restores original flags", 300, rnd -> {
            List<Op> ops = new ArrayList<>();
            int n = 1 + rnd.nextInt(40);
            for (int i = 0; i < n; i++) {
                ops.add(new Op(rnd.nextInt(7), rnd.nextInt(3) != 0));
            }
            return ops;
        }, this::runProgram);
    }

    /** Runs a program (unmatched restores skipped, open scopes closed at the end) and checks every step. */
    private void runProgram(List<Op> ops) {
        Task t = Task.current();
        int before = t.flags();
        int[] kinds = new int[ops.size()];
        int[] cookies = new int[ops.size()];
        int[] flagsBefore = new int[ops.size()];
        MemallocScope[] objs = new MemallocScope[ops.size()];
        int depth = 0;
        for (Op op : ops) {
            if (op.open()) {
                flagsBefore[depth] = t.flags();
                kinds[depth] = op.kind();
                switch (op.kind()) {
                    case 0 -> cookies[depth] = Memalloc.memallocNofsSave();
                    case 1 -> cookies[depth] = Memalloc.memallocNoioSave();
                    case 2 -> cookies[depth] = Memalloc.memallocPinSave();
                    case 3 -> cookies[depth] = Memalloc.memallocNoreclaimSave();
                    case 4 -> cookies[depth] = Memalloc.memallocFlagsSave(Task.PF_MEMALLOC_NOFS | Task.PF_MEMALLOC_PIN);
                    case 5 -> objs[depth] = Memalloc.nofsScope();
                    default -> objs[depth] = Memalloc.noioScope();
                }
                depth++;
            } else if (depth > 0) {
                depth--;
                close(kinds[depth], cookies[depth], objs[depth]);
                assertThat(t.flags()).as("flags after restore at depth " + depth).isEqualTo(flagsBefore[depth]);
            }
        }
        while (depth > 0) {
            depth--;
            close(kinds[depth], cookies[depth], objs[depth]);
            assertThat(t.flags()).isEqualTo(flagsBefore[depth]);
        }
        assertThat(t.flags()).isEqualTo(before);
    }

    private static void close(int kind, int cookie, MemallocScope obj) {
        switch (kind) {
            case 0 -> Memalloc.memallocNofsRestore(cookie);
            case 1 -> Memalloc.memallocNoioRestore(cookie);
            case 2 -> Memalloc.memallocPinRestore(cookie);
            case 3 -> Memalloc.memallocNoreclaimRestore(cookie);
            case 4 -> Memalloc.memallocFlagsRestore(cookie);
            default -> obj.close();
        }
    }

    @Test
    void deepNestingGrowsTheStack() {
        int[] c = new int[100];
        for (int i = 0; i < c.length; i++) {
            c[i] = i % 2 == 0 ? Memalloc.memallocNofsSave() : Memalloc.memallocPinSave();
        }
        assertThat(Task.current().openScopeDepth()).isEqualTo(100);
        for (int i = c.length - 1; i >= 0; i--) {
            if (i % 2 == 0) {
                Memalloc.memallocNofsRestore(c[i]);
            } else {
                Memalloc.memallocPinRestore(c[i]);
            }
        }
    }
}
