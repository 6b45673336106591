package io.memscope.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** memscope gfp decode/context/scope-policy, and RELIABILITY.md E5 (bad input: exit 2, one stderr line, no stdout). */
class GfpCommandTest {
    record Result(int status, String out, String err) {}

    private static Result run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = Main.run(args);
            return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void decodePrintsTheReportFormThenOneLinePerBit() {
        Result r = run("gfp", "decode", "0x140cca");
        assertThat(r.status()).isZero();
        assertThat(r.err()).isEmpty();
        String[] lines = r.out().split("\n");
        assertThat(lines[0]).isEqualTo("0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)");
        assertThat(lines).hasSize(1 + Integer.bitCount(0x140cca));
        assertThat(lines[1]).contains("__GFP_HIGHMEM").contains("0x2");
        assertThat(r.out()).contains("__GFP_COMP").contains("compound");
    }

    @Test
    void decodeAcceptsNamesAndReportFragments() {
        assertThat(run("gfp", "decode", "GFP_NOFS|__GFP_ZERO").out()).startsWith("0xd40(GFP_NOFS|__GFP_ZERO)\n");
        assertThat(run("gfp", "decode", "mode:0x40cc0(GFP_KERNEL|__GFP_COMP)").out())
                .startsWith("0x40cc0(GFP_KERNEL|__GFP_COMP)\n");
        assertThat(run("gfp", "decode", "--legacy", "0x6").out()).startsWith("0x6(__GFP_HIGHMEM|GFP_DMA32)\n");
        assertThat(run("gfp", "decode", "0").status()).isEqualTo(2);
        assertThat(run("gfp", "decode", "0x0").out()).isEqualTo("0x0()\n");
    }

    @Test
    void contextAppliesTheScopes() {
        assertThat(run("gfp", "context", "--nofs", "GFP_KERNEL").out()).startsWith("0xc40(GFP_NOFS)\n");
        assertThat(run("gfp", "context", "--noio", "--nofs", "GFP_KERNEL").out()).startsWith("0xc00(GFP_NOIO)\n");
        assertThat(run("gfp", "context", "--pin", "GFP_HIGHUSER_MOVABLE").out()).startsWith("0x100cc2(GFP_HIGHUSER)\n");
        assertThat(run("gfp", "context", "--nofs", "GFP_ATOMIC").out()).startsWith("0x820(GFP_ATOMIC)\n")
                .contains("cleared:   nothing");
        assertThat(run("gfp", "context", "GFP_KERNEL").out()).startsWith("0xcc0(GFP_KERNEL)\n");
    }

    @Test
    void scopePolicyListsEveryBit() {
        Result r = run("gfp", "scope-policy");
        assertThat(r.status()).isZero();
        assertThat(r.out()).contains("__GFP_FS").contains("PF_MEMALLOC_NOFS").contains("__GFP_NOLOCKDEP");
        assertThat(r.out().lines().filter(l -> l.startsWith("__GFP_")).count()).isEqualTo(24);
    }

    @ParameterizedTest
    @ValueSource(strings = {"decode GFP_KERNAL", "decode 0xzz", "decode 0x80000000", "context --nofs bogus",
        "decode 0xcc0(GFP_NOFS)", "decode", "context --frob GFP_KERNEL", "frobnicate", "gfp frob"})
    void badInputExitsTwoWithOneStderrLineAndNoStdout(String argLine) {
        String[] args = argLine.equals("frobnicate") ? new String[] {"frobnicate"}
                : ("gfp " + argLine).replace("gfp gfp", "gfp").split(" ");
        Result r = run(args);
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines().count()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).startsWith("memscope: ");
    }

    @Test
    void errorLineNamesTheBadPart() {
        assertThat(run("gfp", "decode", "GFP_KERNEL|__GFP_FOO").err()).contains("'__GFP_FOO'");
        assertThat(run("gfp", "decode", "0x80000cc0").err()).contains("0x80000000").contains("outside the valid GFP mask");
    }
}
