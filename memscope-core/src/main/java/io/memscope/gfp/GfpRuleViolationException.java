package io.memscope.gfp;

/**
 * A GFP mask (with an order) breaks one of the kernel's rules ({@link GfpRule}). The message
 * prints the mask in the kernel's report form, names the rule and the kernel function it follows.
 */
public final class GfpRuleViolationException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final GfpRule rule;
    private final int gfp;
    private final int order;

    public GfpRuleViolationException(GfpRule rule, int gfp, int order) {
        super("gfp_mask=" + GfpFormat.report(gfp) + " order=" + order + " breaks " + rule.name() + ": it "
                + rule.description() + " (kernel: " + rule.kernelFunction() + ", " + rule.kernelReaction() + ")");
        this.rule = rule;
        this.gfp = gfp;
        this.order = order;
    }

    /** The broken rule. */
    public GfpRule rule() {
        return rule;
    }

    /** The offending mask. */
    public int gfp() {
        return gfp;
    }

    /** The order that was checked with it. */
    public int order() {
        return order;
    }
}
