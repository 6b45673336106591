package io.memscope.cli;

import io.memscope.cli.scenario.Scenario;
import io.memscope.cli.scenario.Scenarios;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code memscope scenario}: replay the deadlocks and context bugs of the seed documents. */
@Command(name = "scenario", mixinStandardHelpOptions = true,
        description = "Replay the seed documents' scenarios: unsafe code as written, safe code with the fix.",
        subcommands = {ScenarioCommand.ListCmd.class, ScenarioCommand.RunCmd.class})
final class ScenarioCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "list", description = "One line per scenario: its name and story.")
    static final class ListCmd implements Callable<Integer> {
        @Override
        public Integer call() {
            PrintStream out = System.out;
            for (Scenario s : Scenarios.all()) {
                out.printf("%-22s %s%n", s.name(), s.story());
            }
            return 0;
        }
    }

    @Command(name = "run", description = "Run a scenario on a fresh machine and print what the checkers said."
            + " Exit status 0 when the variant behaved as expected, 1 otherwise.")
    static final class RunCmd implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME", description = "a name from 'memscope scenario list'")
        String name;

        @Option(names = "--variant", paramLabel = "unsafe|safe", defaultValue = "unsafe",
                description = "unsafe (as the bug was written) or safe (with the fix); default ${DEFAULT-VALUE}")
        String variant;

        @Override
        public Integer call() {
            Scenario s = Scenarios.byName(name).orElseThrow(() -> new ParameterException(spec.commandLine(),
                    "unknown scenario '" + name + "': expected one of "
                            + String.join(", ", Scenarios.all().stream().map(Scenario::name).toList())));
            Scenario.Variant v;
            try {
                v = Scenario.Variant.valueOf(variant.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(),
                        "unknown variant '" + variant + "': expected unsafe or safe");
            }
            Scenario.Result r = s.run(v);
            r.output().forEach(System.out::println);
            System.out.println((r.asExpected() ? "as expected: " : "NOT as expected: ") + s.name() + " --variant "
                    + v.name().toLowerCase(Locale.ROOT));
            return r.asExpected() ? 0 : 1;
        }
    }
}
