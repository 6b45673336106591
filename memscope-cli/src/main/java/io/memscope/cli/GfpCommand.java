package io.memscope.cli;

import io.memscope.gfp.Gfp;
import io.memscope.gfp.GfpFormat;
import io.memscope.gfp.GfpParser;
import io.memscope.gfp.ScopePolicy;
import io.memscope.sched.Memalloc;
import io.memscope.sched.Task;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code memscope gfp}: decode GFP masks as the kernel prints them, show what a mask becomes
 * inside scopes ({@code current_gfp_context}), and print the scope-safety policy.
 */
@Command(name = "gfp", mixinStandardHelpOptions = true,
        description = "Decode GFP masks, apply scopes, show the scope policy.",
        subcommands = {GfpCommand.Decode.class, GfpCommand.Context.class, GfpCommand.Policy.class})
final class GfpCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "decode", mixinStandardHelpOptions = true,
            description = "Print MASK in the kernel's report form, then one line per set bit.")
    static final class Decode implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--legacy", description = "Use the v6.3-v6.11 name order (to compare with older logs).")
        boolean legacy;

        @Parameters(arity = "1..*", paramLabel = "MASK",
                description = "0xd40, GFP_NOFS|__GFP_ZERO, or a report fragment like 0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP).")
        String[] mask;

        @Override
        public void run() {
            int gfp = GfpParser.parse(String.join(" ", mask));
            PrintWriter out = spec.commandLine().getOut();
            out.println(GfpFormat.report(gfp, legacy ? GfpFormat.Order.LEGACY : GfpFormat.Order.CURRENT));
            for (int b = 0; b < Gfp.BITS_SHIFT; b++) {
                if ((gfp & (1 << b)) != 0) {
                    out.printf("  %-22s %-10s %s%n", GfpFormat.bitName(b), "0x" + Integer.toHexString(1 << b),
                            GfpFormat.bitMeaning(b));
                }
            }
            out.flush();
        }
    }

    @Command(name = "context", mixinStandardHelpOptions = true,
            description = "Print the mask an allocation with MASK really uses inside the given scopes (current_gfp_context).")
    static final class Context implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--nofs", description = "Inside memalloc_nofs_save (PF_MEMALLOC_NOFS).")
        boolean nofs;

        @Option(names = "--noio", description = "Inside memalloc_noio_save (PF_MEMALLOC_NOIO).")
        boolean noio;

        @Option(names = "--pin", description = "Inside memalloc_pin_save (PF_MEMALLOC_PIN).")
        boolean pin;

        @Parameters(arity = "1..*", paramLabel = "MASK", description = "The mask the caller passes.")
        String[] mask;

        @Override
        public void run() {
            int gfp = GfpParser.parse(String.join(" ", mask));
            int pf = (nofs ? Task.PF_MEMALLOC_NOFS : 0) | (noio ? Task.PF_MEMALLOC_NOIO : 0)
                    | (pin ? Task.PF_MEMALLOC_PIN : 0);
            int effective = Memalloc.gfpContext(pf, gfp);
            PrintWriter out = spec.commandLine().getOut();
            out.println(GfpFormat.report(effective));
            out.println("  requested: " + GfpFormat.report(gfp));
            out.println("  cleared:   " + (gfp == effective ? "nothing" : GfpFormat.formatFlags(gfp & ~effective)));
            out.flush();
        }
    }

    @Command(name = "scope-policy", mixinStandardHelpOptions = true,
            description = "For every GFP bit: may a scope set it, may a scope clear it, and why.")
    static final class Policy implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            PrintWriter out = spec.commandLine().getOut();
            out.printf("%-22s %-18s %-18s %s%n", "FLAG", "SET", "CLEAR", "MECHANISM");
            for (ScopePolicy.Rule r : ScopePolicy.rules()) {
                out.printf("%-22s %-18s %-18s %s%n", r.name(), verdict(r.set()), verdict(r.clear()), r.mechanism());
                out.println("    set:   " + r.setReason());
                out.println("    clear: " + r.clearReason());
            }
            out.flush();
        }

        private static String verdict(ScopePolicy.Verdict v) {
            return v.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }
}
