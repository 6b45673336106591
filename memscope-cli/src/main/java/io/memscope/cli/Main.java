package io.memscope.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code memscope} command. Each subcommand is one job; bad input exits with status 2 and
 * exactly one line on stderr.
 */
@Command(name = "memscope", mixinStandardHelpOptions = true, version = "memscope 0.1.0",
        description = "The Linux kernel's memory-allocation context model on the JVM.")
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit status (for tests). */
    public static int run(String... args) {
        return new CommandLine(new Main()).execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
