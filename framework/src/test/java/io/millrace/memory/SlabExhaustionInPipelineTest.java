package io.millrace.memory;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Slab exhaustion as a running server meets it: a stage that takes buffers from its worker's
 * allocator gets the typed failure for the one request that found none, the pipeline goes on, and
 * once buffers are released (here on another thread) requests get them again.
 */
class SlabExhaustionInPipelineTest
{
    record Outcomes(int id, Throwable error)
    {
    }

    @Test
    void theRequestThatFindsNoChunkFailsTypedAndTheServerRecovers() throws Exception
    {
        final LeakDetector leaks = LeakDetector.paranoid();
        final SlabArena arena = SlabArena.builder()
            .chunkSize(4096).slabSize(16 * 1024).initialSlabs(1).maxSlabs(1) // 4 chunks in all
            .leakDetector(leaks).build();
        final List<BufferDescriptor> held = new CopyOnWriteArrayList<>();
        final LinkedBlockingQueue<Outcomes> done = new LinkedBlockingQueue<>();

        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> grab = b.stage("grab");
        b.handle(grab, (id, ctx) ->
        {
            held.add(ctx.allocator().allocate()); // kept until the test lets go
            return Outcome.done();
        });
        final Pipeline<Integer> pipeline = b.name("slabs").workers(1).memory(arena)
            .onComplete((id, error) -> done.add(new Outcomes(id, error))).build().start();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                Submit.untilAccepted(pipeline, i);
                assertNull(done.poll(10, TimeUnit.SECONDS).error(), "request " + i + " got a chunk");
            }
            Submit.untilAccepted(pipeline, 4);
            final Outcomes fifth = done.poll(10, TimeUnit.SECONDS);
            assertNotNull(fifth);
            assertInstanceOf(SlabExhaustedException.class, fifth.error(), "the typed failure reaches the request");
            assertEquals(1, pipeline.metrics().stage("grab").errors());
            assertEquals(1, arena.slabCount(), "memory did not grow past the cap");

            // Released on this thread: the chunks travel home through the worker's return queue.
            held.forEach(BufferDescriptor::release);
            held.clear();
            for (int i = 5; i < 9; i++)
            {
                Submit.untilAccepted(pipeline, i);
                final Outcomes o = done.poll(10, TimeUnit.SECONDS);
                assertNull(o.error(), "after the release request " + i + " got a chunk again");
            }
            held.forEach(BufferDescriptor::release);
            held.clear();
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
        assertEquals(0, pipeline.metrics().workers().get(0).bufferChunks().live(), "every chunk is back");
        assertEquals(0, leaks.leaksReported());
    }
}
