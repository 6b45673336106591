package io.memscope.gfp;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** KERNEL.md test vectors T1–T3: the composites' exact values. */
class GfpConstantsTest {
    @Test
    void compositesHaveTheKernelValues() {
        assertThat(Gfp.KERNEL).isEqualTo(0xcc0);
        assertThat(Gfp.NOFS).isEqualTo(0xc40);
        assertThat(Gfp.NOIO).isEqualTo(0xc00);
        assertThat(Gfp.ATOMIC).isEqualTo(0x820);
        assertThat(Gfp.NOWAIT).isEqualTo(0x2800);
        assertThat(Gfp.USER).isEqualTo(0x100cc0);
        assertThat(Gfp.HIGHUSER).isEqualTo(0x100cc2);
        assertThat(Gfp.HIGHUSER_MOVABLE).isEqualTo(0x100cca);
        assertThat(Gfp.KERNEL_ACCOUNT).isEqualTo(0x400cc0);
        assertThat(Gfp.TRANSHUGE_LIGHT).isEqualTo(0x1c20ca);
        assertThat(Gfp.TRANSHUGE).isEqualTo(0x1c24ca);
        assertThat(Gfp.BITS_MASK).isEqualTo(0x1ffffff);
        assertThat(Gfp.NOLOCKDEP).isEqualTo(0x1000000);
    }
}
