package io.memscope.cli;

import java.io.PrintWriter;
import io.memscope.cli.run.RunCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code memscope} command. Each subcommand is one job; bad input exits with status 2 and
 * exactly one line on stderr (and nothing on stdout).
 */
@Command(name = "memscope", mixinStandardHelpOptions = true, version = "memscope 0.1.0",
        description = "The Linux kernel's memory-allocation context model on the JVM.",
        subcommands = {RunCommand.class, GfpCommand.class, ScenarioCommand.class})
public final class Main implements Runnable {
    /** Exit status for bad input (usage errors, invalid masks). */
    public static final int EXIT_BAD_INPUT = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line against the current System.out/System.err and returns the exit status (for tests). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("memscope: " + oneLine(ex.getMessage()));
            err.flush();
            return EXIT_BAD_INPUT;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            if (ex instanceof IllegalArgumentException) {
                err.println("memscope: " + oneLine(ex.getMessage()));
                err.flush();
                return EXIT_BAD_INPUT;
            }
            throw ex;
        });
        try {
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static String oneLine(String message) {
        if (message == null) {
            return "invalid input";
        }
        int nl = message.indexOf('\n');
        return (nl < 0 ? message : message.substring(0, nl)).strip();
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
