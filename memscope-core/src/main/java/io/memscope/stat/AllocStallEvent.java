package io.memscope.stat;

import jdk.jfr.Category;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** JFR event spanning one direct-reclaim stall ({@code allocstall}; the {@code mm_vmscan_direct_reclaim_begin/end} pair). */
@Name("memscope.AllocStall")
@Label("Direct reclaim stall")
@Category({"memscope", "page"})
public final class AllocStallEvent extends jdk.jfr.Event {
    @Label("order") public int order;
    @Label("gfp_flags") public int gfp;
    @Label("nr_reclaimed") public long nrReclaimed;
}
