package io.memscope.testkit;

import io.memscope.MemoryManager;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 extension that builds memscope machines for a test and checks their books afterwards (the
 * Caffeine {@code CacheValidationListener} pattern; RELIABILITY A1/A2). Register with
 * {@code @RegisterExtension final Machines machines = new Machines();}.
 *
 * <p>Machines are built with {@code panicOnWarn} and debug mode on (unless the test's customizer
 * turns them off), 64 MiB and 4 slots by default. After each test every machine must validate with 0
 * errors and close without a leak; otherwise the test fails with the log.
 */
public final class Machines implements AfterEachCallback {
    private final List<MemoryManager> built = new ArrayList<>();

    /** The seed for randomized tests: {@code -Dmemscope.test.seed}, else a fixed default. */
    public static long seed() {
        return Long.getLong("memscope.test.seed", 20261122L);
    }

    /** A machine with the test defaults, then {@code customize}. */
    public MemoryManager create(Consumer<MemoryManager.Builder> customize) {
        MemoryManager.Builder b = MemoryManager.builder().memoryBytes(64L << 20).cpuSlots(4).debug(true)
                .panicOnWarn(true);
        customize.accept(b);
        MemoryManager mm = b.build();
        synchronized (built) {
            built.add(mm);
        }
        return mm;
    }

    /** A machine with the test defaults. */
    public MemoryManager create() {
        return create(b -> { });
    }

    @Override
    public void afterEach(ExtensionContext context) {
        List<String> failures = new ArrayList<>();
        for (MemoryManager mm : built) {
            if (mm.pages().isClosed()) {
                continue;
            }
            int errors = mm.validate();
            if (errors != 0) {
                failures.add("validate() found " + errors + " error(s):\n" + mm.log().dmesg());
            }
            try {
                mm.close();
            } catch (RuntimeException e) {
                failures.add(e.getMessage());
            }
        }
        built.clear();
        if (!failures.isEmpty()) {
            throw new AssertionError("machine books not balanced after " + context.getDisplayName() + " (seed "
                    + seed() + "):\n" + String.join("\n", failures));
        }
    }
}
