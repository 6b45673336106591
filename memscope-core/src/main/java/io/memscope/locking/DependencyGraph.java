package io.memscope.locking;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Lockdep's graph: the registered lock classes, the dependencies between them
 * ({@code locks_after} lists of {@code struct lock_list}), the validated chains
 * ({@code lock_chains}), and the breadth-first search that proves a new dependency does not
 * close a cycle ({@code check_noncircular()} / {@code __bfs()} in {@code kernel/locking/lockdep.c}).
 *
 * <p><b>Read/write semantics.</b> Each dependency remembers which of the four kinds it was seen
 * as: the held lock exclusive (E) or shared (S), the new lock non-recursive (N) or a recursive
 * reader (R). A path only proves a deadlock when it is <em>strong</em>: no {@code -(*R)->}
 * immediately followed by {@code -(S*)->} (a recursive reader cannot block a shared holder).
 * rwsem readers ({@code down_read}) are non-recursive, so for them every cycle is strong, as in
 * the kernel's self-test matrix.
 *
 * <p>Invariant: the graph stays acyclic in strong paths — a dependency that would close a
 * cycle is reported and not added. Every method must be called holding this object's monitor.
 */
final class DependencyGraph {
    static final int DEP_SR = 1;
    static final int DEP_ER = 2;
    static final int DEP_SN = 4;
    static final int DEP_EN = 8;

    /** One dependency {@code from -> to}, first seen at {@link #trace}. */
    static final class Edge {
        final LockClass from;
        final LockClass to;
        int dep;
        final List<String> trace;
        final String prevSite;
        final String prevNote;
        final String nextNote;

        Edge(LockClass from, LockClass to, int dep, List<String> trace, String prevSite, String prevNote,
                String nextNote) {
            this.from = from;
            this.to = to;
            this.dep = dep;
            this.trace = trace;
            this.prevSite = prevSite;
            this.prevNote = prevNote;
            this.nextNote = nextNote;
        }
    }

    private final Map<Object, LockClass> byKey = new HashMap<>();
    private final List<LockClass> classes = new ArrayList<>();
    private final Set<Long> chains = new HashSet<>();
    private int edges;

    /** {@code __calc_dep_bit()}: the kind of dependency between a held and a new acquisition. */
    static int depBit(int prevRead, int nextRead) {
        return 1 << ((prevRead == 0 ? 1 : 0) + (nextRead != 2 ? 2 : 0));
    }

    /** The class for {@code key}, or null when it is not registered. */
    LockClass lookup(Object key) {
        return byKey.get(key);
    }

    /** {@code register_lock_class()}; null when {@code max} classes already exist. */
    LockClass register(Object key, String name, String site, LockType type, int max) {
        LockClass c = byKey.get(key);
        if (c != null) {
            return c;
        }
        if (classes.size() >= max) {
            return null;
        }
        c = new LockClass(classes.size(), name, site, type);
        classes.add(c);
        byKey.put(key, c);
        return c;
    }

    int classCount() {
        return classes.size();
    }

    int edgeCount() {
        return edges;
    }

    List<LockClass> classes() {
        return Collections.unmodifiableList(classes);
    }

    /** {@code lookup_chain_cache_add()}: true when this chain is new (and now recorded). */
    boolean addChain(long key) {
        return chains.add(key);
    }

    Edge findEdge(LockClass from, LockClass to) {
        for (Edge e : from.after) {
            if (e.to == to) {
                return e;
            }
        }
        return null;
    }

    Edge addEdge(LockClass from, LockClass to, int dep, List<String> trace, String prevSite, String prevNote,
            String nextNote) {
        Edge e = new Edge(from, to, dep, trace, prevSite, prevNote, nextNote);
        from.after.add(e);
        edges++;
        return e;
    }

    /**
     * {@code check_noncircular()}: looks for a strong path {@code start -> ... -> target}, where
     * {@code start} is the lock being acquired (read mode {@code startRead}) and {@code target}
     * the held lock (read mode {@code targetRead}). Returns the path's edges in order, or null.
     */
    List<Edge> findStrongPath(LockClass start, int startRead, LockClass target, int targetRead) {
        record Node(LockClass c, boolean onlyXr, Node parent, Edge via) {}
        ArrayDeque<Node> queue = new ArrayDeque<>();
        Set<Long> seen = new HashSet<>();
        queue.add(new Node(start, startRead == 2, null, null));
        while (!queue.isEmpty()) {
            Node n = queue.poll();
            for (Edge e : n.c.after) {
                int dep = e.dep;
                if (n.onlyXr) {
                    dep &= ~(DEP_SR | DEP_SN); // -(*R)-> -(S*)-> is not a strong path
                }
                if (dep == 0) {
                    continue;
                }
                boolean onlyXr = (dep & (DEP_SN | DEP_EN)) == 0;
                Node child = new Node(e.to, onlyXr, n, e);
                // hlock_conflict(): a write target always conflicts; a read target only via a non-*R path.
                if (e.to == target && (targetRead == 0 || !onlyXr)) {
                    List<Edge> path = new ArrayList<>();
                    for (Node x = child; x.via != null; x = x.parent) {
                        path.add(x.via);
                    }
                    Collections.reverse(path);
                    return path;
                }
                if (seen.add(((long) e.to.id << 1) | (onlyXr ? 1 : 0))) {
                    queue.add(child);
                }
            }
        }
        return null;
    }
}
