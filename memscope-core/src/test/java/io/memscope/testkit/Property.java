package io.memscope.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.random.RandomGenerator;

/**
 * A small seeded property-testing helper (no jqwik; see shared/RELIABILITY.md).
 *
 * <p>The base seed comes from the system property {@code memscope.test.seed} (set by the build;
 * {@link #DEFAULT_SEED} otherwise). Trial {@code i} runs with its own seed derived from the base
 * seed, and a failure is rethrown as an {@link AssertionError} naming the property, the base seed,
 * the trial and the trial seed, so it reproduces with {@code -Dmemscope.test.seed=...}.
 * Operation-list properties ({@link #forAllOps}) are shrunk on failure by removing operations
 * (one at a time, then again until no single removal still fails) and report the smallest failing list.
 */
public final class Property {
    private Property() {}

    /** Used when {@code memscope.test.seed} is not set. */
    public static final long DEFAULT_SEED = 20261122L;

    /** The base seed of this run. */
    public static long seed() {
        String s = System.getProperty("memscope.test.seed");
        if (s == null || s.isBlank()) {
            return DEFAULT_SEED;
        }
        return Long.parseLong(s.strip());
    }

    /** The seed of trial {@code trial} under base seed {@code base}. */
    public static long trialSeed(long base, int trial) {
        return new SplittableRandom(base ^ (0x9E3779B97F4A7C15L * (trial + 1))).nextLong();
    }

    /** A generator for one trial. */
    public static RandomGenerator random(long trialSeed) {
        return new SplittableRandom(trialSeed);
    }

    /**
     * Runs {@code body} for {@code trials} seeded generators; the first failure is rethrown with
     * the seeds that reproduce it.
     */
    public static void forAll(String name, int trials, Consumer<RandomGenerator> body) {
        long base = seed();
        for (int i = 0; i < trials; i++) {
            long ts = trialSeed(base, i);
            try {
                body.accept(random(ts));
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("property '" + name + "' failed: memscope.test.seed=" + base + " trial=" + i
                        + " trialSeed=" + ts + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Generates an operation list per trial and checks it; on failure shrinks the list by removing
     * operations while the check still fails, and reports the smallest failing list.
     *
     * @param generate builds the operations from a trial's generator
     * @param check    must throw (an assertion) when the property does not hold; must be repeatable
     *                 (reset its own state on every call)
     */
    public static <T> void forAllOps(String name, int trials, Function<RandomGenerator, List<T>> generate,
                                     Consumer<List<T>> check) {
        long base = seed();
        for (int i = 0; i < trials; i++) {
            long ts = trialSeed(base, i);
            List<T> ops = generate.apply(random(ts));
            Throwable failure = failureOf(check, ops);
            if (failure != null) {
                List<T> small = shrink(ops, check);
                Throwable smallFailure = failureOf(check, small);
                throw new AssertionError("property '" + name + "' failed: memscope.test.seed=" + base + " trial=" + i
                        + " trialSeed=" + ts + "; shrunk from " + ops.size() + " to " + small.size() + " ops: " + small
                        + ": " + (smallFailure != null ? smallFailure.getMessage() : failure.getMessage()),
                        smallFailure != null ? smallFailure : failure);
            }
        }
    }

    /** Removes operations one at a time while the check keeps failing; repeats until no removal fails. */
    public static <T> List<T> shrink(List<T> ops, Consumer<List<T>> check) {
        List<T> cur = new ArrayList<>(ops);
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int i = 0; i < cur.size(); i++) {
                List<T> candidate = new ArrayList<>(cur);
                candidate.remove(i);
                if (failureOf(check, candidate) != null) {
                    cur = candidate;
                    progress = true;
                    i--;
                }
            }
        }
        return cur;
    }

    private static <T> Throwable failureOf(Consumer<List<T>> check, List<T> ops) {
        try {
            check.accept(ops);
            return null;
        } catch (AssertionError | RuntimeException e) {
            return e;
        }
    }
}
