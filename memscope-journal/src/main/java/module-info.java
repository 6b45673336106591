/**
 * memscope's reference client: a small journaling store over real files, built on the page cache,
 * writeback, a transaction lock that reclaim can need, and a shrinker — the "filesystem" of the
 * seed documents' deadlock stories, runnable unsafe (allocating with {@code __GFP_FS} under the
 * lock) or safe (inside {@code memalloc_nofs_save} scopes).
 */
module io.memscope.journal {
    requires transitive io.memscope;
    exports io.memscope.journal;
}
