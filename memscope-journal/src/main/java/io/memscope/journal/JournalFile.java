package io.memscope.journal;

import io.memscope.pagecache.AddressSpace;
import java.nio.channels.FileChannel;

/**
 * One file of the store: its in-memory inode — name, backing channel, page-cache mapping, the
 * inode page it pins, and how many opens hold it. An inode nobody holds stays cached until the
 * {@code sb-journal} shrinker evicts it.
 */
public final class JournalFile {
    final String name;
    final FileChannel channel;
    final AddressSpace mapping;
    /** The inode's metadata page (its on-allocator footprint), freed on eviction. */
    final long inodePage;
    /** Opens not yet closed; guarded by the store's inode-cache lock. */
    int openCount;

    JournalFile(String name, FileChannel channel, AddressSpace mapping, long inodePage) {
        this.name = name;
        this.channel = channel;
        this.mapping = mapping;
        this.inodePage = inodePage;
    }

    /** The file's name in the store. */
    public String name() {
        return name;
    }

    /** The file's page-cache mapping. */
    public AddressSpace mapping() {
        return mapping;
    }

    /** {@code i_size}. */
    public long size() {
        return mapping.size();
    }

    @Override
    public String toString() {
        return "journal file " + name + " (" + mapping + ")";
    }
}
