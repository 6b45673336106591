package io.memscope.sched;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.ScopePolicy;
import java.util.function.Supplier;

/**
 * The scoped allocation-constraint API of {@code include/linux/sched/mm.h}:
 * {@code memalloc_nofs_save/restore}, {@code memalloc_noio_*}, {@code memalloc_pin_*},
 * {@code memalloc_noreclaim_*}, {@code memalloc_flags_*}, {@code memalloc_flags_do} and
 * {@code current_gfp_context()}, plus try-with-resources forms.
 *
 * <p>A layer that holds a lock which reclaim could need marks the region with a scope; every
 * allocation inside inherits the restriction, so reclaim can never recurse into that layer
 * (Documentation/core-api/gfp_mask-from-fs-io.rst). Open the scope where the lock is taken and
 * say which reclaim path needs it:
 * <pre>{@code
 * journal.lock();
 * // The superblock shrinker (super_cache_scan) takes the journal lock: no FS reclaim in here.
 * try (var nofs = Memalloc.nofsScope()) {
 *     buffer = slab.kmalloc(4096, Gfp.KERNEL);   // behaves as GFP_NOFS
 * } finally {
 *     journal.unlock();
 * }
 * }</pre>
 *
 * <h2>Semantics (kernel, v6.10+)</h2>
 * {@code save} sets its PF bit(s) on the calling task and returns the bits it <em>newly</em> set
 * (0 when already set by an outer scope); {@code restore(cookie)} clears exactly those bits, so
 * nested scopes in any depth give back the outer state. Scopes are per task: another thread, a
 * virtual thread or work handed to an executor does not inherit them.
 *
 * <h2>Misuse detection (memscope's addition)</h2>
 * Each task keeps a stack of its open scopes. A restore must match the innermost one (same kind,
 * same cookie; a scope object must be the innermost and on its own thread). Otherwise
 * {@link UnbalancedScopeException} is thrown and nothing changes. Where each scope was opened is
 * recorded only when scope debugging is on ({@link #setScopeDebug}, or
 * {@code -Dmemscope.scope.debug=true} for every new task; the test build turns it on), because
 * walking the stack costs microseconds; the failing restore's own call site is always reported.
 *
 * <p>All methods act on the calling thread's task, never sleep, allocate nothing (outside debug
 * mode and stack growth beyond 8 nested scopes), and fail only on misuse.
 */
public final class Memalloc {
    private Memalloc() {}

    /** The PF bits a scope may set: {@code PF_MEMALLOC|PF_MEMALLOC_NOFS|PF_MEMALLOC_NOIO|PF_MEMALLOC_PIN}. */
    public static final int PF_MEMALLOC_FLAGS = Task.PF_MEMALLOC | Task.PF_MEMALLOC_NOFS | Task.PF_MEMALLOC_NOIO
            | Task.PF_MEMALLOC_PIN;

    /** The GFP bits memscope's extension scopes may add or remove. */
    private static final int EXT_BITS = Gfp.ZERO | Gfp.NOWARN | Gfp.NOLOCKDEP | Gfp.ACCOUNT;

    // ---- current_gfp_context ----

    /**
     * {@code current_gfp_context()}: the mask an allocation really uses inside the calling
     * thread's scopes. NOIO clears {@code __GFP_IO|__GFP_FS}; otherwise NOFS clears
     * {@code __GFP_FS}; PIN clears {@code __GFP_MOVABLE}. It only ever clears bits, and
     * applying it twice changes nothing more. Exactly the kernel's rule: memscope's extension
     * scopes are applied by {@link #currentGfpScoped}, not here.
     */
    public static int currentGfpContext(int gfp) {
        return gfpContext(Task.current().flags(), gfp);
    }

    /** {@code current_gfp_context()} for a given set of PF flags (the pure part). */
    public static int gfpContext(int pflags, int gfp) {
        if ((pflags & Task.PF_MEMALLOC_SCOPE_MASK) == 0) {
            return gfp;
        }
        if ((pflags & Task.PF_MEMALLOC_NOIO) != 0) {
            gfp &= ~(Gfp.IO | Gfp.FS);
        } else if ((pflags & Task.PF_MEMALLOC_NOFS) != 0) {
            gfp &= ~Gfp.FS;
        }
        if ((pflags & Task.PF_MEMALLOC_PIN) != 0) {
            gfp &= ~Gfp.MOVABLE;
        }
        return gfp;
    }

    /**
     * {@link #currentGfpContext} followed by memscope's extension scopes ({@link #gfpScope}):
     * adds the task's scoped {@code __GFP_ZERO/NOWARN/NOLOCKDEP/ACCOUNT} and removes its scoped
     * {@code __GFP_NOWARN}. Allocators of this project call this at entry, where the kernel calls
     * {@code current_gfp_context()}. Equal to {@code currentGfpContext} when no extension scope is open.
     * {@code PF_MEMALLOC} (reserve access) is not a mask bit; the allocator's slow path reads it.
     */
    public static int currentGfpScoped(int gfp) {
        Task t = Task.current();
        return applyExtensions(gfpContext(t.flags(), gfp), t.gfpScopeSet, t.gfpScopeClear);
    }

    /** The pure part of the extension: {@code (gfp | set) & ~clear}. */
    public static int applyExtensions(int gfp, int set, int clear) {
        return (gfp | set) & ~clear;
    }

    // ---- memalloc_flags_save / restore ----

    /**
     * {@code memalloc_flags_save(flags)}: sets {@code pf} on the calling task and returns the bits
     * that were not set before (the cookie for {@link #memallocFlagsRestore}).
     *
     * @throws InvalidScopeFlagsException when {@code pf} has bits outside {@link #PF_MEMALLOC_FLAGS}
     */
    public static int memallocFlagsSave(int pf) {
        if ((pf & ~PF_MEMALLOC_FLAGS) != 0) {
            throw new InvalidScopeFlagsException(pf);
        }
        return save(Task.current(), ScopeStack.FLAGS, pf);
    }

    /**
     * {@code memalloc_flags_restore(cookie)}: clears exactly the bits its save set.
     *
     * @throws UnbalancedScopeException when the innermost open scope is not a
     *         {@code memalloc_flags_save} that returned {@code cookie}
     */
    public static void memallocFlagsRestore(int cookie) {
        Task t = Task.current();
        t.scopes.popRaw(t, ScopeStack.FLAGS, cookie);
    }

    /** {@code memalloc_nofs_save()}: allocations drop {@code __GFP_FS} until the matching restore. Returns the cookie. */
    public static int memallocNofsSave() {
        return save(Task.current(), ScopeStack.NOFS, Task.PF_MEMALLOC_NOFS);
    }

    /** {@code memalloc_nofs_restore(cookie)}. @throws UnbalancedScopeException unless it matches the innermost scope */
    public static void memallocNofsRestore(int cookie) {
        Task t = Task.current();
        t.scopes.popRaw(t, ScopeStack.NOFS, cookie);
    }

    /** {@code memalloc_noio_save()}: allocations drop {@code __GFP_IO} and {@code __GFP_FS}. Returns the cookie. */
    public static int memallocNoioSave() {
        return save(Task.current(), ScopeStack.NOIO, Task.PF_MEMALLOC_NOIO);
    }

    /** {@code memalloc_noio_restore(cookie)}. @throws UnbalancedScopeException unless it matches the innermost scope */
    public static void memallocNoioRestore(int cookie) {
        Task t = Task.current();
        t.scopes.popRaw(t, ScopeStack.NOIO, cookie);
    }

    /** {@code memalloc_pin_save()}: allocations drop {@code __GFP_MOVABLE} (no ZONE_MOVABLE, no CMA). Returns the cookie. */
    public static int memallocPinSave() {
        return save(Task.current(), ScopeStack.PIN, Task.PF_MEMALLOC_PIN);
    }

    /** {@code memalloc_pin_restore(cookie)}. @throws UnbalancedScopeException unless it matches the innermost scope */
    public static void memallocPinRestore(int cookie) {
        Task t = Task.current();
        t.scopes.popRaw(t, ScopeStack.PIN, cookie);
    }

    /**
     * {@code memalloc_noreclaim_save()}: sets {@code PF_MEMALLOC}: allocations may use all reserves
     * and never enter direct reclaim (what reclaim itself runs under). Returns the cookie.
     */
    public static int memallocNoreclaimSave() {
        return save(Task.current(), ScopeStack.NORECLAIM, Task.PF_MEMALLOC);
    }

    /** {@code memalloc_noreclaim_restore(cookie)}. @throws UnbalancedScopeException unless it matches the innermost scope */
    public static void memallocNoreclaimRestore(int cookie) {
        Task t = Task.current();
        t.scopes.popRaw(t, ScopeStack.NORECLAIM, cookie);
    }

    private static int save(Task t, int kind, int pf) {
        int cookie = ~t.flags() & pf;
        t.setFlagBits(pf);
        t.scopes.push(kind, cookie, 0L);
        return cookie;
    }

    // ---- try-with-resources forms ----

    /** A NOFS scope ({@code memalloc_nofs_save}) closed by try-with-resources. */
    public static MemallocScope nofsScope() {
        return open(ScopeStack.NOFS, Task.PF_MEMALLOC_NOFS);
    }

    /** A NOIO scope ({@code memalloc_noio_save}) closed by try-with-resources. */
    public static MemallocScope noioScope() {
        return open(ScopeStack.NOIO, Task.PF_MEMALLOC_NOIO);
    }

    /** A PIN scope ({@code memalloc_pin_save}) closed by try-with-resources. */
    public static MemallocScope pinScope() {
        return open(ScopeStack.PIN, Task.PF_MEMALLOC_PIN);
    }

    /** A PF_MEMALLOC scope ({@code memalloc_noreclaim_save}) closed by try-with-resources. */
    public static MemallocScope noreclaimScope() {
        return open(ScopeStack.NORECLAIM, Task.PF_MEMALLOC);
    }

    /**
     * A {@code memalloc_flags_save(pf)} scope closed by try-with-resources.
     *
     * @throws InvalidScopeFlagsException when {@code pf} has bits outside {@link #PF_MEMALLOC_FLAGS}
     */
    public static MemallocScope flagsScope(int pf) {
        if ((pf & ~PF_MEMALLOC_FLAGS) != 0) {
            throw new InvalidScopeFlagsException(pf);
        }
        return open(ScopeStack.FLAGS, pf);
    }

    private static MemallocScope open(int kind, int pf) {
        Task t = Task.current();
        int cookie = ~t.flags() & pf;
        t.setFlagBits(pf);
        return new MemallocScope(t, t.scopes.push(kind, cookie, 0L));
    }

    /**
     * {@code memalloc_flags_do(flags, call)}: runs {@code action} with {@code pf} scoped, restoring
     * afterwards even if it throws.
     *
     * @throws InvalidScopeFlagsException when {@code pf} has bits outside {@link #PF_MEMALLOC_FLAGS}
     */
    public static void flagsDo(int pf, Runnable action) {
        try (var s = flagsScope(pf)) {
            action.run();
        }
    }

    /** {@link #flagsDo} for an action with a result. */
    public static <T> T flagsCall(int pf, Supplier<T> action) {
        try (var s = flagsScope(pf)) {
            return action.get();
        }
    }

    /**
     * A general "scope these GFP changes" request: every allocation inside sets {@code setBits}
     * and clears {@code clearBits}, accepted only where {@link ScopePolicy} says a scope may make
     * the change. Kernel mechanisms are used where the kernel has them — clearing
     * {@code __GFP_FS} is a NOFS scope, clearing {@code __GFP_IO} a NOIO scope (which also drops
     * FS), clearing {@code __GFP_MOVABLE} a PIN scope, setting {@code __GFP_MEMALLOC}
     * {@code PF_MEMALLOC}. The rest ({@code __GFP_NOWARN} either way, {@code __GFP_ZERO},
     * {@code __GFP_NOLOCKDEP}, {@code __GFP_ACCOUNT} from user context, i.e. not a kernel thread
     * and not in interrupt) is memscope's extension, visible through {@link #currentGfpScoped};
     * the kernel scopes only NOFS/NOIO/PIN/MEMALLOC.
     *
     * @throws io.memscope.gfp.UnsafeScopeException naming the first refused bit and why
     */
    public static MemallocScope gfpScope(int setBits, int clearBits) {
        Task t = Task.current();
        boolean userContext = (t.flags() & Task.PF_KTHREAD) == 0 && !t.inInterrupt();
        ScopePolicy.check(setBits, clearBits, userContext);
        int pf = 0;
        if ((clearBits & Gfp.IO) != 0) {
            pf |= Task.PF_MEMALLOC_NOIO;
        } else if ((clearBits & Gfp.FS) != 0) {
            pf |= Task.PF_MEMALLOC_NOFS;
        }
        if ((clearBits & Gfp.MOVABLE) != 0) {
            pf |= Task.PF_MEMALLOC_PIN;
        }
        if ((setBits & Gfp.MEMALLOC) != 0) {
            pf |= Task.PF_MEMALLOC;
        }
        int extSet = setBits & EXT_BITS;
        int extClear = clearBits & EXT_BITS;
        long savedExt = ((long) t.gfpScopeSet << 32) | (t.gfpScopeClear & 0xffffffffL);
        int cookie = ~t.flags() & pf;
        t.setFlagBits(pf);
        t.gfpScopeSet = (t.gfpScopeSet | extSet) & ~extClear;
        t.gfpScopeClear = (t.gfpScopeClear | extClear) & ~extSet;
        return new MemallocScope(t, t.scopes.push(ScopeStack.GFP, cookie, savedExt));
    }

    // ---- debugging ----

    /**
     * Turns recording of scope origins on or off for the calling task. With it on, every open
     * records the caller's stack frame (about a microsecond and a little garbage per open), and
     * {@link UnbalancedScopeException} names where both scopes were opened. The default for new
     * tasks comes from the system property {@code memscope.scope.debug}.
     */
    public static void setScopeDebug(boolean on) {
        Task.current().scopes.debug = on;
    }
}
