package io.memscope.cli.scenario;

import java.util.List;
import java.util.Optional;

/** The scenarios from the seed documents, in the order the documents tell them. */
public final class Scenarios {
    private Scenarios() {}

    private static final List<Scenario> ALL = List.of(new TransactionLockShrinker(), new WritebackPath(), new VmallocNofs(),
            new AtomicContexts());

    /** All scenarios. */
    public static List<Scenario> all() {
        return ALL;
    }

    /** The scenario with this name. */
    public static Optional<Scenario> byName(String name) {
        return ALL.stream().filter(s -> s.name().equals(name)).findFirst();
    }
}
