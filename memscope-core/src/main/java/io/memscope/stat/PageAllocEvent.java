package io.memscope.stat;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** JFR event for a slow-path page allocation (the fast path records nothing): the {@code kmem:mm_page_alloc} tracepoint. */
@Name("memscope.PageAlloc")
@Label("Page allocation (slow path)")
@Category({"memscope", "page"})
@Description("A page allocation that went through the allocator's slow path")
public final class PageAllocEvent extends jdk.jfr.Event {
    @Label("pfn") public long pfn;
    @Label("order") public int order;
    @Label("gfp_flags") public int gfp;
    @Label("migratetype") public int migratetype;
}
