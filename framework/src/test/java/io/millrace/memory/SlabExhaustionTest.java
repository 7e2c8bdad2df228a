package io.millrace.memory;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The slab cap: a typed failure for the request that asked, and recovery once buffers come back. */
class SlabExhaustionTest
{
    private static SlabArena arena(final int maxIdleChunks)
    {
        // 4 chunks per slab, at most 2 slabs: 8 chunks in all.
        return SlabArena.builder()
            .chunkSize(4096).slabSize(16 * 1024).initialSlabs(1).maxSlabs(2)
            .maxIdleChunksPerAllocator(maxIdleChunks)
            .sweepInterval(Duration.ofNanos(100))
            .leakDetector(LeakDetector.paranoid())
            .build();
    }

    @Test
    void exhaustionFailsOnlyTheRequestThatAskedAndAllocationRecoversOnRelease()
    {
        final SlabArena arena = arena(16);
        final BufferAllocator alloc = arena.newAllocator("w0");
        assertEquals(1, arena.slabCount());
        final List<BufferDescriptor> held = new ArrayList<>();
        for (int i = 0; i < 8; i++)
        {
            held.add(alloc.allocate());
        }
        assertEquals(2, arena.slabCount(), "grew one slab, up to the cap");

        final SlabExhaustedException ex = assertThrows(SlabExhaustedException.class, alloc::allocate);
        assertTrue(ex.getMessage().contains("allocator 'w0'"), ex.getMessage());
        assertTrue(ex.getMessage().contains("maxSlabs is 2"), ex.getMessage());
        assertEquals(1, arena.exhaustions());
        assertEquals(2, arena.slabCount(), "memory did not grow past the cap");
        assertEquals(8, alloc.chunkStats().live(), "the failed request took nothing");
        assertEquals(8, alloc.descriptorStats().live());
        for (final BufferDescriptor d : held)
        {
            assertEquals(1, d.refCnt(), "buffers allocated before are untouched");
        }

        held.remove(0).release();
        final BufferDescriptor again = alloc.allocate();
        assertEquals(4096, again.writableBytes());
        assertThrows(SlabExhaustedException.class, alloc::allocate);
        again.release();
        held.forEach(BufferDescriptor::release);
        held.clear();
        for (int i = 0; i < 8; i++)
        {
            held.add(alloc.allocate());
        }
        assertEquals(2, arena.exhaustions());
        held.forEach(BufferDescriptor::release);
    }

    @Test
    void chunksIdleInOneAllocatorReachAnotherAfterTwoSweeps()
    {
        final SlabArena arena = arena(16);
        final BufferAllocator a = arena.newAllocator("a");
        final BufferAllocator b = arena.newAllocator("b");
        final List<BufferDescriptor> held = new ArrayList<>();
        for (int i = 0; i < 8; i++)
        {
            held.add(a.allocate());
        }
        held.forEach(BufferDescriptor::release);
        assertEquals(8, a.chunkStats().idle(), "kept in a's lookaside pool");
        assertThrows(SlabExhaustedException.class, b::allocate, "b cannot see chunks idle in a's pool");

        a.onIdle(0);
        a.onIdle(100);          // sweep 1: aged
        assertThrows(SlabExhaustedException.class, b::allocate);
        a.onIdle(200);          // sweep 2: let go, back to the arena
        assertEquals(8, arena.chunksInReserve());
        final BufferDescriptor d = b.allocate();
        d.release();
    }

    @Test
    void anAllocatorsIdleCapSendsSurplusChunksStraightBack()
    {
        final SlabArena arena = arena(2);
        final BufferAllocator a = arena.newAllocator("a");
        final BufferAllocator b = arena.newAllocator("b");
        final List<BufferDescriptor> held = new ArrayList<>();
        for (int i = 0; i < 8; i++)
        {
            held.add(a.allocate());
        }
        held.forEach(BufferDescriptor::release);
        held.clear();
        assertEquals(2, a.chunkStats().idle());
        assertEquals(6, arena.chunksInReserve());
        for (int i = 0; i < 6; i++)
        {
            held.add(b.allocate());
        }
        assertThrows(SlabExhaustedException.class, b::allocate);
        held.forEach(BufferDescriptor::release);
    }
}
