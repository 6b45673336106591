package io.memscope.stat;

import jdk.jfr.Category;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** JFR event for a failed page allocation ({@code warn_alloc}'s occasion, recorded even with __GFP_NOWARN). */
@Name("memscope.AllocFailure")
@Label("Page allocation failure")
@Category({"memscope", "page"})
public final class AllocFailureEvent extends jdk.jfr.Event {
    @Label("order") public int order;
    @Label("gfp_flags") public int gfp;
    @Label("gfp_text") public String gfpText;
}
