package io.millrace.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link BufferAllocator#allocate(int)}: small buffers carved from shared chunks, asserted from the
 * pools' counters; their chunks recycled in place, given back when idle and when the owner stops,
 * released from other threads, and reported by the leak detector when leaked.
 */
@Timeout(60)
class SmallBufferTest
{
    private static final int CHUNK = 16 * 1024;
    private static final Duration SWEEP = Duration.ofSeconds(1);

    private final List<LeakReport> leaks = new CopyOnWriteArrayList<>();
    private final LeakDetector detector = LeakDetector.paranoid().onLeak(leaks::add);
    private final SlabArena arena = SlabArena.builder()
        .chunkSize(CHUNK).slabSize(16 * CHUNK).maxSlabs(4).sweepInterval(SWEEP).leakDetector(detector)
        .build();
    private final BufferAllocator alloc = arena.newAllocator("t");

    private static long chunksAcquired(final BufferAllocator a)
    {
        final PoolStats s = a.chunkStats();
        return s.hits() + s.misses();
    }

    @Test
    void allocate40TakesA64ByteSlotNotAWholeChunk()
    {
        final BufferDescriptor reply = alloc.allocate(40);
        final Chunk shared = reply.chunk;
        assertEquals(64, reply.writableBytes());
        assertEquals(64, reply.capacity());
        assertEquals(1, chunksAcquired(alloc), "the first small buffer takes one chunk to carve from");

        // 200 more 40-byte replies at once: 201 x 64 bytes fit in that one chunk.
        final List<BufferDescriptor> held = new ArrayList<>();
        for (int i = 0; i < 200; i++)
        {
            held.add(alloc.allocate(40));
        }
        assertEquals(1, chunksAcquired(alloc), "201 small buffers, one 16 KiB chunk: " + alloc.chunkStats());
        assertEquals(1, alloc.chunkStats().live());
        assertEquals(new SmallBufferStats(201, 1, 0, 1), alloc.smallBufferStats());
        assertEquals(202, reply.chunk.refCnt(), "one count per small buffer, one for the allocator");

        // For contrast: allocate() takes a whole chunk each time.
        final BufferDescriptor whole = alloc.allocate();
        assertEquals(CHUNK, whole.writableBytes());
        assertEquals(2, chunksAcquired(alloc));
        whole.release();
        reply.release();
        held.forEach(BufferDescriptor::release);
        assertEquals(1, shared.refCnt(), "every small buffer gave its count back; the allocator's is left");
        assertEquals(0, alloc.descriptorStats().live());
    }

    @Test
    void sizesRoundUpToPowersOfTwoAndPastHalfAChunkTakeAWholeOne()
    {
        final int[][] cases = {{1, 64}, {40, 64}, {64, 64}, {65, 128}, {1000, 1024}, {4097, 8192}, {CHUNK / 2, CHUNK / 2},
            {CHUNK / 2 + 1, CHUNK}, {CHUNK, CHUNK}};
        for (final int[] c : cases)
        {
            final BufferDescriptor d = alloc.allocate(c[0]);
            assertEquals(c[1], d.writableBytes(), "allocate(" + c[0] + ")");
            assertEquals(c[1], d.capacity(), "allocate(" + c[0] + ")");
            d.release();
        }
        // Seven small ones in four classes (64, 128, 1024, 8192); the last two took whole chunks.
        assertEquals(7, alloc.smallBufferStats().allocations());
        assertEquals(4, alloc.smallBufferStats().chunksHeld(), "one chunk per class in use: " + alloc.smallBufferStats());
        assertEquals(6, chunksAcquired(alloc), "four shared chunks and two whole ones");
    }

    @Test
    void aFullChunkIsLeftToItsBuffersAndANewOneCarved()
    {
        final List<BufferDescriptor> first = new ArrayList<>();
        for (int i = 0; i < CHUNK / 64; i++)
        {
            final BufferDescriptor d = alloc.allocate(64);
            d.putAscii(Integer.toString(i));
            first.add(d);
        }
        final Chunk full = first.get(0).chunk;
        for (final BufferDescriptor d : first)
        {
            assertSame(full, d.chunk, "256 slots of 64 bytes fill one 16 KiB chunk");
        }
        final BufferDescriptor next = alloc.allocate(64);
        assertNotSame(full, next.chunk, "the 257th takes a new chunk");
        assertEquals(2, alloc.smallBufferStats().chunksTaken());
        assertEquals(CHUNK / 64, full.refCnt(), "the allocator gave its count of the full chunk back");
        for (int i = 0; i < first.size(); i++)
        {
            assertEquals(Integer.toString(i), BufferConveniencesTest.string(first.get(i)), "slots do not overlap");
        }
        final long idleBefore = alloc.chunkStats().idle();
        first.forEach(BufferDescriptor::release);
        assertEquals(idleBefore + 1, alloc.chunkStats().idle(), "its last buffer's release sent the full chunk home");
        next.release();
        assertEquals(1, alloc.chunkStats().live(), "only the chunk being carved is out");
    }

    @Test
    void shortLivedSmallBuffersReuseOneChunkInPlaceWithoutTheirPool()
    {
        for (int i = 0; i < 10_000; i++)
        {
            final BufferDescriptor d = alloc.allocate(40).putAscii("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
            assertEquals(40, d.length());
            d.release();
        }
        final SmallBufferStats s = alloc.smallBufferStats();
        assertEquals(10_000, s.allocations());
        assertEquals(1, s.chunksTaken());
        assertEquals(1, chunksAcquired(alloc), "one chunk served 10,000 replies");
        assertEquals(0, alloc.descriptorStats().live());
        assertEquals(0, detector.tracked(), "every buffer was released");

        // Held for overlapping lifetimes, they wrap around the chunk and start over once all are back.
        final List<BufferDescriptor> batch = new ArrayList<>();
        for (int round = 0; round < 10; round++)
        {
            for (int i = 0; i < 200; i++)
            {
                batch.add(alloc.allocate(40));
            }
            batch.forEach(BufferDescriptor::release);
            batch.clear();
        }
        assertEquals(1, alloc.smallBufferStats().chunksTaken());
        assertTrue(alloc.smallBufferStats().recycledInPlace() >= 10, alloc.smallBufferStats().toString());
    }

    @Test
    void anIdleClassGivesItsChunkBackAndNothingLeaks()
    {
        final long start = System.nanoTime();
        alloc.onIdle(start);                                      // starts the clocks
        alloc.allocate(40).putAscii("hello").release();
        alloc.allocate(500).release();
        assertEquals(2, alloc.smallBufferStats().chunksHeld());
        assertEquals(2, alloc.chunkStats().live());

        alloc.onIdle(start + SWEEP.toNanos());                    // used since the last sweep: kept
        assertEquals(2, alloc.smallBufferStats().chunksHeld());
        alloc.onIdle(start + 2 * SWEEP.toNanos());                // idle for an interval: given back
        assertEquals(0, alloc.smallBufferStats().chunksHeld());
        assertEquals(0, alloc.chunkStats().live());
        alloc.onIdle(start + 3 * SWEEP.toNanos());
        alloc.onIdle(start + 4 * SWEEP.toNanos());                // the chunk pool's two generations let them go
        assertEquals(0, alloc.chunkStats().idle());
        assertEquals(arena.slabCount() * 16, arena.chunksInReserve(), "every chunk is back in the arena");
        assertEquals(0, detector.tracked());
        assertEquals(0, detector.leaksReported());
        assertTrue(leaks.isEmpty());
    }

    @Test
    void buffersReleasedOnAnotherThreadFreeTheirChunkForReuse() throws InterruptedException
    {
        final List<BufferDescriptor> batch = new ArrayList<>();
        for (int i = 0; i < 100; i++)
        {
            batch.add(alloc.allocate(100).putAscii("reply " + i));
        }
        final Chunk chunk = batch.get(0).chunk;
        final Thread releaser = new Thread(() -> batch.forEach(BufferDescriptor::release), "releaser");
        releaser.start();
        releaser.join();
        assertEquals(101, chunk.refCnt(), "the released buffers wait in the owner's merge queue, holding their counts");
        final BufferDescriptor again = alloc.allocate(100);     // drains the merge queue first: the chunk's count is 1
        assertSame(chunk, again.chunk);
        assertEquals(0, again.offset(), "carved again from the start");
        assertEquals(1, alloc.smallBufferStats().recycledInPlace());
        again.release();
    }

    @Test
    void whenTheOwnerStopsEveryChunkGoesBackIncludingThoseStillOut() throws InterruptedException
    {
        final BufferAllocator owned = arena.newAllocator("worker");
        final List<BufferDescriptor> out = new ArrayList<>();
        final Thread worker = new Thread(() ->
        {
            for (int i = 0; i < 300; i++)
            {
                out.add(owned.allocate(64));          // two chunks: a full one, and one being carved
            }
            owned.allocate(3000).release();
        }, "worker");
        worker.start();
        worker.join();
        assertEquals(2, owned.smallBufferStats().chunksHeld(), "the 64-byte class's second chunk and the 4 KiB class's");
        assertEquals(3, owned.chunkStats().live(), "and the full first chunk, held by its buffers");
        owned.ownerStopped();
        assertEquals(0, owned.smallBufferStats().chunksHeld());
        out.forEach(BufferDescriptor::release);     // on this thread, after the owner is gone
        assertEquals(0, owned.chunkStats().live(), owned.chunkStats().toString());
        assertEquals(arena.slabCount() * 16, arena.chunksInReserve(), "every chunk is back in the arena");
        assertEquals(0, detector.tracked());
    }

    @Test
    void aLeakedSmallBufferIsReportedAndGivesItsChunkCountBack() throws InterruptedException
    {
        final Chunk chunk = allocateAndForget();
        assertEquals(2, chunk.refCnt(), "the allocator's count and the leaked buffer's");
        int found = 0;
        for (int attempt = 0; attempt < 200 && found == 0; attempt++)
        {
            System.gc();
            Thread.sleep(5);
            found = detector.poll();
        }
        assertEquals(1, found, "expected one leak report (this test leaks on purpose; its ERROR log is expected)");
        assertTrue(leaks.get(0).allocationSite().contains("SmallBufferTest.allocateAndForget"), leaks.get(0).allocationSite());
        assertEquals(1, chunk.refCnt(), "the report gave the leaked buffer's count back");
        final BufferDescriptor next = alloc.allocate(40);
        assertSame(chunk, next.chunk);
        assertEquals(0, next.offset(), "so the chunk is carved again from its start");
        next.release();
    }

    private Chunk allocateAndForget()
    {
        final BufferDescriptor d = alloc.allocate(40).putAscii("never released");
        return d.chunk;
    }
}
