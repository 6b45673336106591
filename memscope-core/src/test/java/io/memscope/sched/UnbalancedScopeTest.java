package io.memscope.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * RELIABILITY.md E3 for scopes: every unbalanced restore raises UnbalancedScopeException with
 * expected vs actual and both origins, and leaves the task's flags and open scopes as they were.
 */
class UnbalancedScopeTest {

    @BeforeEach
    void debugOn() {
        Memalloc.setScopeDebug(true);
    }

    @AfterEach
    void balanced() {
        assertThat(Task.current().openScopeDepth()).isZero();
        assertThat(Task.current().flags() & Memalloc.PF_MEMALLOC_FLAGS).isZero();
    }

    @Test
    void outOfOrderRawRestoreIsRefusedAndChangesNothing() {
        int fs = Memalloc.memallocNofsSave();
        int io = Memalloc.memallocNoioSave();
        int flags = Task.current().flags();
        assertThatThrownBy(() -> Memalloc.memallocNofsRestore(fs))
                .isInstanceOf(UnbalancedScopeException.class)
                .hasMessageContaining("scope restored out of order")
                .hasMessageContaining("expected restore of the innermost open scope memalloc_noio_save")
                .hasMessageContaining("memalloc_nofs_restore(0x40000) called at")
                .hasMessageContaining("matches the outer scope memalloc_nofs_save")
                .hasMessageContaining("opened at " + getClass().getName() + ".outOfOrderRawRestoreIsRefusedAndChangesNothing(");
        assertThat(Task.current().flags()).isEqualTo(flags);
        assertThat(Task.current().openScopeDepth()).isEqualTo(2);
        Memalloc.memallocNoioRestore(io);
        Memalloc.memallocNofsRestore(fs);
    }

    @Test
    void rawRestoreTwiceIsRefused() {
        int fs = Memalloc.memallocNofsSave();
        Memalloc.memallocNofsRestore(fs);
        assertThatThrownBy(() -> Memalloc.memallocNofsRestore(fs))
                .isInstanceOf(UnbalancedScopeException.class)
                .hasMessageContaining("restore without a matching save")
                .satisfies(e -> assertThat(((UnbalancedScopeException) e).expected()).startsWith("no open scope on"));
    }

    @Test
    void wrongCookieIsRefused() {
        int outer = Memalloc.memallocNofsSave();
        int inner = Memalloc.memallocNofsSave();
        assertThat(inner).isZero();
        assertThatThrownBy(() -> Memalloc.memallocNofsRestore(outer)).isInstanceOf(UnbalancedScopeException.class);
        assertThat(Task.current().hasFlags(Task.PF_MEMALLOC_NOFS)).isTrue();
        Memalloc.memallocNofsRestore(inner);
        Memalloc.memallocNofsRestore(outer);
    }

    @Test
    void outOfOrderAndDoubleCloseOfScopeObjects() {
        MemallocScope a = Memalloc.nofsScope();
        MemallocScope b = Memalloc.pinScope();
        int flags = Task.current().flags();
        assertThatThrownBy(a::close)
                .isInstanceOf(UnbalancedScopeException.class)
                .hasMessageContaining("scope closed out of order")
                .satisfies(e -> {
                    UnbalancedScopeException u = (UnbalancedScopeException) e;
                    assertThat(u.expected()).contains("memalloc_pin_save").contains("opened at");
                    assertThat(u.actual()).contains("memalloc_nofs_save").contains("opened at");
                });
        assertThat(Task.current().flags()).isEqualTo(flags);
        b.close();
        a.close();
        assertThatThrownBy(a::close).isInstanceOf(UnbalancedScopeException.class)
                .hasMessageContaining("scope closed twice");
    }

    @Test
    void closeOnAnotherThreadIsRefusedAndBothTasksKeepTheirFlags() throws Exception {
        MemallocScope s = Memalloc.nofsScope();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicReference<Integer> otherFlags = new AtomicReference<>();
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                s.close();
            } catch (Throwable e) {
                thrown.set(e);
            }
            otherFlags.set(Task.current().flags());
        });
        t.join();
        // Both origins: where the owner opened the scope (scope debugging is on in the test
        // build) and where the other thread tried to close it.
        assertThat(thrown.get()).isInstanceOf(UnbalancedScopeException.class)
                .hasMessageContaining("scope closed on another thread")
                .hasMessageContaining("memalloc_nofs_save #")
                .hasMessageContaining("opened at " + getClass().getName() + ".closeOnAnotherThreadIsRefusedAndBothTasksKeepTheirFlags")
                .hasMessageContaining("close on ")
                .hasMessageContaining(" at " + getClass().getName() + ".lambda$closeOnAnotherThreadIsRefusedAndBothTasksKeepTheirFlags");
        assertThat(otherFlags.get()).isZero();
        assertThat(Task.current().hasFlags(Task.PF_MEMALLOC_NOFS)).isTrue();
        s.close();
    }

    @Test
    void rawRestoreOfAnotherThreadsCookieIsRefused() throws Exception {
        int cookie = Memalloc.memallocNoioSave();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                Memalloc.memallocNoioRestore(cookie);
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        t.join();
        assertThat(thrown.get()).isInstanceOf(UnbalancedScopeException.class)
                .hasMessageContaining("no open scope on");
        assertThat(Task.current().hasFlags(Task.PF_MEMALLOC_NOIO)).isTrue();
        Memalloc.memallocNoioRestore(cookie);
    }

    @Test
    void withoutDebugTheMessageSaysHowToGetOrigins() {
        Memalloc.setScopeDebug(false);
        try {
            int fs = Memalloc.memallocNofsSave();
            int pin = Memalloc.memallocPinSave();
            assertThatThrownBy(() -> Memalloc.memallocNofsRestore(fs))
                    .hasMessageContaining("origin not recorded: enable -Dmemscope.scope.debug=true")
                    .hasMessageContaining("called at " + getClass().getName());
            Memalloc.memallocPinRestore(pin);
            Memalloc.memallocNofsRestore(fs);
        } finally {
            Memalloc.setScopeDebug(true);
        }
    }
}
