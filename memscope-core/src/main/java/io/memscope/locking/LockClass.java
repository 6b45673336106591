package io.memscope.locking;

import java.util.ArrayList;
import java.util.List;

/**
 * A lock class: the unit lockdep reasons about ({@code struct lock_class},
 * {@code kernel/locking/lockdep.c}). Every lock created at the same place with the same name
 * (or with the same {@link LockClassKey}) belongs to one class, so an order observed on one
 * instance is a rule for all of them.
 *
 * <p>Holds the class's name, where it was created, its wait type ({@code -{outer:inner}}), its
 * irq usage bits with the site where each was first seen, and its outgoing dependencies
 * ({@code locks_after}). Invariant: {@link #usageMask} bits and {@link #after} change only under
 * the owning {@link DependencyGraph}'s monitor.
 */
public final class LockClass {
    // lock_usage_bit layout: bit0 read, bit1 direction (0 used-in-irq, 1 irq-enabled), bits 2.. state.
    static final int USED_IN_HARDIRQ = 0;
    static final int USED_IN_HARDIRQ_READ = 1;
    static final int ENABLED_HARDIRQ = 2;
    static final int ENABLED_HARDIRQ_READ = 3;
    static final int USED_IN_SOFTIRQ = 4;
    static final int USED_IN_SOFTIRQ_READ = 5;
    static final int ENABLED_SOFTIRQ = 6;
    static final int ENABLED_SOFTIRQ_READ = 7;
    static final int USAGE_STATES = 8;

    /** The kernel's {@code usage_str[]} names, indexed by usage bit. */
    static final String[] USAGE_STR = {
        "IN-HARDIRQ-W", "IN-HARDIRQ-R", "HARDIRQ-ON-W", "HARDIRQ-ON-R",
        "IN-SOFTIRQ-W", "IN-SOFTIRQ-R", "SOFTIRQ-ON-W", "SOFTIRQ-ON-R",
    };

    final int id;
    private final String name;
    private final String site;
    private final LockType type;
    int usageMask;
    final String[] usageSites = new String[USAGE_STATES];
    final List<DependencyGraph.Edge> after = new ArrayList<>();

    LockClass(int id, String name, String site, LockType type) {
        this.id = id;
        this.name = name;
        this.site = site;
        this.type = type;
    }

    /** The class name as reports print it, e.g. {@code fs_reclaim} or {@code &sb->s_umount}. */
    public String name() {
        return name;
    }

    /** Where the class was registered (the first lock's creation site). */
    public String site() {
        return site;
    }

    /** The kind of lock (its wait type). */
    public LockType type() {
        return type;
    }

    /**
     * The usage characters of {@code get_usage_chars()}: for HARDIRQ then SOFTIRQ, a write and a
     * read character — '.' unused, '+' taken with that irq enabled, '-' taken in that irq, '?' both.
     */
    String usageChars() {
        StringBuilder sb = new StringBuilder(4);
        for (int state = 0; state < 2; state++) {
            for (int read = 0; read < 2; read++) {
                int in = state * 4 + read;
                int on = in + 2;
                boolean inIrq = (usageMask & (1 << in)) != 0;
                boolean enabled = (usageMask & (1 << on)) != 0;
                sb.append(enabled ? (inIrq ? '?' : '+') : (inIrq ? '-' : '.'));
            }
        }
        return sb.toString();
    }

    /** {@code print_lock_name()}: {@code (name){usage}-{outer:inner}}. */
    String printName() {
        return "(" + name + "){" + usageChars() + "}-{" + type.waitOuter + ":" + type.waitInner + "}";
    }

    @Override
    public String toString() {
        return name;
    }
}
