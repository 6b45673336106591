package io.memscope.cli.scenario;

import java.util.List;

/**
 * One story from the seed documents, runnable in two variants: the unsafe code as it was
 * written before the fix, and the safe code with the fix in the right place. Each run builds a
 * fresh machine and reports what memscope's checkers said.
 */
public interface Scenario {
    /** How the code under test is written. */
    enum Variant {
        /** The code as the seed documents describe the bug. */
        UNSAFE,
        /** The same code with the fix where the documents say it belongs. */
        SAFE
    }

    /**
     * What a run produced.
     *
     * @param asExpected true when the checkers said what this variant should make them say
     * @param output     the lines to show the user: the kernel-style reports, or a clean summary
     */
    record Result(boolean asExpected, List<String> output) {
        public Result {
            output = List.copyOf(output);
        }
    }

    /** The name used on the command line ({@code memscope scenario run NAME}). */
    String name();

    /** One line: the story and where it comes from. */
    String story();

    /** Runs the variant on a fresh machine. */
    Result run(Variant variant);
}
