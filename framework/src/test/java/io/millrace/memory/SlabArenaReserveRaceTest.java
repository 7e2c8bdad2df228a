package io.millrace.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The arena's reserve under concurrent give-back and take: an allocation fails only when every
 * chunk is really taken, never because another thread's give-back is half done.
 */
@Timeout(120)
class SlabArenaReserveRaceTest
{
    private static final int ITERATIONS = 1_000_000;

    /**
     * Two chunks, two threads, each holding one and swapping it through the reserve: give back,
     * take. A thread takes only after its own give-back returned, so a chunk is always there for
     * it; a {@link SlabExhaustedException} (or a give-back refused as a "double give-back") can only
     * come from the reserve reporting empty or full while another thread's offer or poll is
     * claimed but not yet published.
     */
    @Test
    void concurrentGiveBackAndTakeNeverReportASpuriousExhaustion() throws Exception
    {
        final SlabArena arena = SlabArena.builder()
            .chunkSize(4096).slabSize(8192).pageSize(4096).initialSlabs(1).maxSlabs(1) // 2 chunks in all
            .leakDetector(LeakDetector.disabled())
            .build();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final CyclicBarrier start = new CyclicBarrier(2);
        final Thread[] threads = new Thread[2];
        for (int t = 0; t < threads.length; t++)
        {
            threads[t] = new Thread(() ->
            {
                try
                {
                    Chunk mine = arena.takeChunk("swapper");
                    start.await();
                    for (int i = 0; i < ITERATIONS && failure.get() == null; i++)
                    {
                        arena.giveBack(mine);
                        mine = arena.takeChunk("swapper");
                    }
                    arena.giveBack(mine);
                }
                catch (final Throwable ex)
                {
                    failure.compareAndSet(null, ex);
                }
            }, "swapper-" + t);
            threads[t].start();
        }
        for (final Thread thread : threads)
        {
            thread.join();
        }
        assertNull(failure.get(), () -> "a spurious failure: " + failure.get());
        assertEquals(0, arena.exhaustions());
        assertEquals(2, arena.chunksInReserve(), "both chunks are back");
        assertEquals(1, arena.slabCount());
    }

    /** The give-back that now waits out a half-done poll still refuses a real double give-back instead of waiting forever. */
    @Test
    void aChunkGivenBackTwiceToAFullReserveFailsInsteadOfWaiting()
    {
        final SlabArena arena = SlabArena.builder()
            .chunkSize(4096).slabSize(8192).pageSize(4096).initialSlabs(1).maxSlabs(1) // 2 chunks, a reserve of 2
            .leakDetector(LeakDetector.disabled())
            .build();
        final Chunk chunk = arena.takeChunk("twice");
        arena.giveBack(chunk);
        final IllegalStateException ex = assertThrows(IllegalStateException.class, () -> arena.giveBack(chunk));
        assertTrue(ex.getMessage().contains("given back twice"), ex.getMessage());
        assertEquals(2, arena.chunksInReserve(), "the refused give-back did not count");
    }
}
