package io.memscope.gfp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memscope.gfp.ScopePolicy.Verdict;
import org.junit.jupiter.api.Test;

/** The scope-safety policy of seeds/001 (Michal Hocko's flag-by-flag review). */
class ScopePolicyTest {

    @Test
    void oneRuleForEveryDefinedBitInBitOrder() {
        assertThat(ScopePolicy.rules()).hasSize(Integer.bitCount(GfpParser.VALID_MASK));
        int prev = 0;
        for (ScopePolicy.Rule r : ScopePolicy.rules()) {
            assertThat(Integer.bitCount(r.bit())).isEqualTo(1);
            assertThat(r.bit()).isGreaterThan(prev);
            assertThat(r.name()).isEqualTo(GfpFormat.bitName(Integer.numberOfTrailingZeros(r.bit())));
            assertThat(r.setReason()).isNotBlank();
            assertThat(r.clearReason()).isNotBlank();
            assertThat(ScopePolicy.of(r.bit())).isSameAs(r);
            prev = r.bit();
        }
    }

    @Test
    void exactlyTheSafeChangesAreAllowed() {
        assertThat(ScopePolicy.settable(false)).isEqualTo(Gfp.ZERO | Gfp.NOWARN | Gfp.MEMALLOC | Gfp.NOLOCKDEP);
        assertThat(ScopePolicy.settable(true)).isEqualTo(Gfp.ZERO | Gfp.NOWARN | Gfp.MEMALLOC | Gfp.NOLOCKDEP | Gfp.ACCOUNT);
        assertThat(ScopePolicy.clearable()).isEqualTo(Gfp.FS | Gfp.IO | Gfp.NOWARN | Gfp.MOVABLE);
        assertThat(ScopePolicy.of(Gfp.ACCOUNT).set()).isEqualTo(Verdict.USER_CONTEXT_ONLY);
        assertThat(ScopePolicy.of(Gfp.FS).mechanism()).contains("PF_MEMALLOC_NOFS");
        assertThat(ScopePolicy.of(Gfp.MOVABLE).mechanism()).contains("PF_MEMALLOC_PIN");
        assertThat(ScopePolicy.of(Gfp.MEMALLOC).mechanism()).contains("PF_MEMALLOC");
    }

    @Test
    void everyUnsafeSingleBitChangeIsRefusedWithItsReason() {
        for (ScopePolicy.Rule r : ScopePolicy.rules()) {
            if (!r.set().permits(true)) {
                assertThatThrownBy(() -> ScopePolicy.check(r.bit(), 0, true))
                        .isInstanceOf(UnsafeScopeException.class)
                        .hasMessageContaining("may not set " + r.name())
                        .hasMessageContaining(r.setReason());
            } else {
                ScopePolicy.check(r.bit(), 0, true);
            }
            if (r.clear() != Verdict.ALLOWED) {
                assertThatThrownBy(() -> ScopePolicy.check(0, r.bit(), true))
                        .isInstanceOf(UnsafeScopeException.class)
                        .hasMessageContaining("may not clear " + r.name())
                        .hasMessageContaining(r.clearReason());
            } else {
                ScopePolicy.check(0, r.bit(), true);
            }
        }
    }

    @Test
    void clearingDirectReclaimIsRefusedBecauseOfNestedNofail() {
        assertThatThrownBy(() -> ScopePolicy.check(0, Gfp.DIRECT_RECLAIM, true))
                .isInstanceOf(UnsafeScopeException.class)
                .hasMessageContaining("__GFP_NOFAIL");
    }

    @Test
    void accountOnlyFromUserContextAndNoBitBothWays() {
        ScopePolicy.check(Gfp.ACCOUNT, 0, true);
        assertThatThrownBy(() -> ScopePolicy.check(Gfp.ACCOUNT, 0, false))
                .isInstanceOf(UnsafeScopeException.class).hasMessageContaining("only from user context");
        assertThatThrownBy(() -> ScopePolicy.check(Gfp.NOWARN, Gfp.NOWARN, true))
                .isInstanceOf(UnsafeScopeException.class).hasMessageContaining("both set and clear");
        assertThatThrownBy(() -> ScopePolicy.check(0x200, 0, true))
                .isInstanceOf(UnsafeScopeException.class).hasMessageContaining("no GFP flag");
    }
}
