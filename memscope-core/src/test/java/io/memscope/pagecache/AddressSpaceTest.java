package io.memscope.pagecache;

import static io.memscope.page.PageTableDescriptor.FLAG_DIRTY;
import static io.memscope.page.PageTableDescriptor.FLAG_LOCKED;
import static io.memscope.page.PageTableDescriptor.FLAG_LRU;
import static io.memscope.page.PageTableDescriptor.FLAG_REFERENCED;
import static io.memscope.page.PageTableDescriptor.FLAG_UPTODATE;
import static io.memscope.page.PageTableDescriptor.FLAG_WRITEBACK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memscope.gfp.Gfp;
import io.memscope.page.PageTable;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** mm/filemap.c and mm/page-writeback.c page states, lookups and the data path over a real file. */
class AddressSpaceTest {

    @Test
    void defaultMaskIsGfpHighuserMovable_asInodeInitAlways() {
        try (PageCacheFixture f = new PageCacheFixture()) {
            AddressSpace as = f.file("mask");
            assertThat(as.gfpMask()).isEqualTo(Gfp.HIGHUSER_MOVABLE);
            as.setGfpMask(as.gfpMask() & ~Gfp.FS); // what XFS does in xfs_setup_inode
            assertThat(as.gfpMask() & Gfp.FS).isZero();
        }
    }

    @Test
    void pageStatesFollowTheKernelsTransitions() {
        try (PageCacheFixture f = new PageCacheFixture()) {
            AddressSpace as = f.file("states");
            PageTable pt = f.mm.pages().pageTable();
            int pfn = as.filemapGetFolio(3, Fgp.LOCK | Fgp.CREAT | Fgp.ACCESSED);
            assertThat(pfn).isNotNegative();
            assertThat(pt.pageFlags(pfn) & (FLAG_LOCKED | FLAG_LRU | FLAG_REFERENCED))
                    .isEqualTo(FLAG_LOCKED | FLAG_LRU | FLAG_REFERENCED);
            assertThat(as.isUptodate(pfn)).isFalse();
            assertThat(pt.refcount(pfn)).as("the cache's reference + ours").isEqualTo(2);
            assertThat(pt.mapping(pfn)).isEqualTo(as.id());
            assertThat(as.nrpages()).isEqualTo(1);
            assertThat(f.cache.nrFilePages()).isEqualTo(1);

            as.folioMarkUptodate(pfn);
            assertThat(as.folioMarkDirty(pfn)).isTrue();
            assertThat(as.folioMarkDirty(pfn)).as("already dirty").isFalse();
            assertThat(f.cache.nrDirty()).isEqualTo(1);
            assertThat(f.bdi.nrDirtyInodes()).as("__mark_inode_dirty").isEqualTo(1);

            assertThat(as.folioClearDirtyForIo(pfn)).isTrue();
            assertThat(pt.pageFlags(pfn) & FLAG_DIRTY).isZero();
            assertThat(f.cache.nrDirty()).isZero();
            as.folioStartWriteback(pfn);
            assertThat(f.cache.nrWriteback()).isEqualTo(1);
            assertThatThrownBy(() -> as.folioStartWriteback(pfn)).isInstanceOf(FolioStateException.class)
                    .hasMessageContaining("expected a page not under writeback");
            as.folioUnlock(pfn);
            assertThatThrownBy(() -> as.folioClearDirtyForIo(pfn)).isInstanceOf(FolioStateException.class)
                    .hasMessageContaining("expected a locked page");
            as.folioEndWriteback(pfn);
            assertThat(pt.pageFlags(pfn) & (FLAG_WRITEBACK | FLAG_LOCKED | FLAG_DIRTY)).isZero();
            assertThat(pt.pageFlags(pfn) & FLAG_UPTODATE).isNotZero();
            assertThat(f.cache.nrWriteback()).isZero();
            assertThat(f.cache.nrWritten()).isEqualTo(1);
            assertThat(f.cache.nrDirtied()).isEqualTo(1);
            assertThatThrownBy(() -> as.folioEndWriteback(pfn)).isInstanceOf(FolioStateException.class)
                    .hasMessageContaining("expected a page under writeback");
            as.folioPut(pfn);
            assertThat(pt.refcount(pfn)).isEqualTo(1);
            assertThat(f.cache.validate()).isZero();
        }
    }

    @Test
    void lookupHitsMissesAndNowait() {
        try (PageCacheFixture f = new PageCacheFixture()) {
            AddressSpace as = f.file("lookup");
            assertThat(as.filemapGetFolio(7, 0)).isEqualTo(AddressSpace.ENOENT);
            int pfn = as.filemapGetFolio(7, Fgp.LOCK | Fgp.CREAT);
            assertThat(as.filemapGetFolio(7, Fgp.LOCK | Fgp.NOWAIT)).as("page lock is held").isEqualTo(AddressSpace.EAGAIN);
            int hit = as.filemapGetFolio(7, 0);
            assertThat(hit).isEqualTo(pfn);
            assertThat(f.mm.pages().pageTable().refcount(pfn)).isEqualTo(3);
            as.folioPut(hit);
            as.folioUnlock(pfn);
            as.folioPut(pfn);
            int unlockedNew = as.filemapGetFolio(8, Fgp.CREAT);
            assertThat(as.folioTest(unlockedNew, FLAG_LOCKED)).as("no FGP_LOCK: returned unlocked").isFalse();
            as.folioPut(unlockedNew);
            assertThatThrownBy(() -> as.filemapGetFolio(-1, 0)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void fileContentsOnDiskEqualWhatWasWritten_afterFsyncAndAfterEvictionAndReread() {
        try (PageCacheFixture f = new PageCacheFixture()) {
            AddressSpace as = f.file("data");
            Random rnd = new Random(PageCacheFixture.SEED);
            byte[] model = new byte[96 * 1024 + 123];
            for (int i = 0; i < 60; i++) {
                int off = rnd.nextInt(model.length - 1);
                int len = 1 + rnd.nextInt(Math.min(9000, model.length - off));
                byte[] chunk = new byte[len];
                rnd.nextBytes(chunk);
                System.arraycopy(chunk, 0, model, off, len);
                assertThat(as.performWrite(off, chunk, 0, len)).isEqualTo(len);
            }
            byte[] tail = {1, 2, 3};
            System.arraycopy(tail, 0, model, model.length - 3, 3);
            as.performWrite(model.length - 3, tail, 0, 3);
            assertThat(as.size()).isEqualTo(model.length);
            assertThat(f.cache.nrDirty()).isPositive();

            as.filemapWriteAndWait();
            assertThat(f.cache.nrDirty()).isZero();
            assertThat(f.cache.nrWriteback()).isZero();
            assertThat(f.onDisk("data")).isEqualTo(model);

            assertThat(as.invalidateMappingPages(0, Integer.MAX_VALUE)).isEqualTo((model.length + 4095) / 4096);
            assertThat(as.nrpages()).isZero();
            byte[] back = new byte[model.length];
            assertThat(as.read(0, back, 0, back.length)).isEqualTo(model.length);
            assertThat(back).isEqualTo(model);
            assertThat(as.read(model.length, back, 0, 1)).as("EOF").isEqualTo(-1);
        }
    }

    @Test
    void invalidateLeavesDirtyLockedAndReferencedPages() {
        try (PageCacheFixture f = new PageCacheFixture()) {
            AddressSpace as = f.file("inval");
            as.performWrite(0, new byte[3 * 4096], 0, 3 * 4096);
            int held = as.filemapGetFolio(1, 0);
            assertThat(as.invalidateMappingPages(0, 10)).as("all dirty").isZero();
            as.filemapWriteAndWait();
            assertThat(as.invalidateMappingPages(0, 10)).as("page 1 is referenced").isEqualTo(2);
            as.folioPut(held);
            assertThat(as.invalidateMappingPages(0, 10)).isEqualTo(1);
        }
    }

    @Test
    void truncateDropsPagesAndZeroesThePartialTail() {
        try (PageCacheFixture f = new PageCacheFixture()) {
            AddressSpace as = f.file("trunc");
            byte[] ones = new byte[5 * 4096];
            Arrays.fill(ones, (byte) 1);
            as.performWrite(0, ones, 0, ones.length);
            as.truncateSetsize(4096 + 100);
            assertThat(as.nrpages()).isEqualTo(2);
            assertThat(f.cache.nrDirty()).as("dirty data beyond the size is thrown away").isEqualTo(2);
            as.setSize(2 * 4096);
            byte[] back = new byte[2 * 4096];
            as.read(0, back, 0, back.length);
            assertThat(back[4096 + 99]).isEqualTo((byte) 1);
            assertThat(back[4096 + 100]).as("zeroed by truncate_inode_partial_folio").isZero();
            assertThat(f.log().warnCount()).isZero();
        }
    }

    @Test
    void evictedMappingRefusesUse() {
        try (PageCacheFixture f = new PageCacheFixture()) {
            AddressSpace as = f.file("gone");
            as.performWrite(0, new byte[10], 0, 10);
            as.filemapWriteAndWait();
            as.evict();
            assertThat(f.cache.mappingOf(as.id())).isNull();
            assertThatThrownBy(() -> as.filemapGetFolio(0, Fgp.CREAT | Fgp.LOCK))
                    .isInstanceOf(MappingEvictedException.class).hasMessageContaining("found it evicted");
        }
    }
}
