package io.memscope.locking;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.debug.KernelLog;
import org.junit.jupiter.api.Test;

/** RELIABILITY C1/C2: the lib/locking-selftest.c matrix and the fs_reclaim trio, 100% as declared. */
class LockingSelftestTest {
    @Test
    void everyCaseBehavesAsDeclaredInLibLockingSelftest() {
        KernelLog log = new KernelLog();
        LockingSelftest.Result r = LockingSelftest.run(log);
        r.lines().forEach(System.out::println);
        assertThat(r.unexpectedFailures()).as(String.join("\n", r.lines())).isZero();
        assertThat(r.total()).isEqualTo(9 * 6 + 3);
        assertThat(r.lines()).contains("Good, all  57 testcases passed! |");
        assertThat(r.lines()).contains("                     A-A deadlock:  ok  |  ok  |  ok  |  ok  |  ok  |  ok  |");
        assertThat(r.lines()).contains("                    wrong nesting:  ok  |");
        assertThat(log.dmesg()).contains("| Locking API testsuite:");
    }
}
