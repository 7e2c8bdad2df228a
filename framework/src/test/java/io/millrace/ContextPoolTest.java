package io.millrace;

import io.millrace.memory.PoolStats;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.metrics.WorkerMetrics;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Request contexts come from each worker's lookaside pool and go back to the pool they came from. */
class ContextPoolTest
{
    static final int REQUESTS = 200_000;

    static final class Request
    {
        final int key;

        Request(final int key)
        {
            this.key = key;
        }
    }

    @Test
    void inlineRequestsReuseThePreallocatedContexts()
    {
        final PipelineBuilder<Request> b = Pipeline.builder();
        final StageRef<Request> only = b.stage("only");
        b.handle(only, (r, ctx) -> Outcome.done());
        final Pipeline<Request> pipeline = b.name("ctx-inline").workers(2).ringSize(256).preallocate(128).build().start();
        for (int i = 0; i < REQUESTS; i++)
        {
            Submit.untilAccepted(pipeline, new Request(i));
        }
        assertTrue(pipeline.shutdown(Duration.ofSeconds(30)).clean());

        final MetricsSnapshot m = pipeline.metrics();
        long hits = 0;
        for (final WorkerMetrics w : m.workers())
        {
            final PoolStats pool = w.contextPool();
            assertEquals(0, pool.live(), "every context is back in its pool after the drain: " + pool);
            assertTrue(pool.misses() <= 128, "in-flight is bounded by 128, so the preallocated contexts suffice: " + pool);
            hits += pool.hits();
        }
        assertEquals(REQUESTS, hits + m.workers().stream().mapToLong(w -> w.contextPool().misses()).sum(),
            "one context acquisition per request");
    }

    @Test
    void aContextCompletedOnAnotherWorkerReturnsToItsOwnerThroughTheReturnQueue()
    {
        final PipelineBuilder<Request> b = Pipeline.builder();
        final StageRef<Request> entry = b.stage("entry");
        final StageRef<Request> owned = b.stage("owned", Placement.partitioned(r -> r.key));
        b.handle(entry, (r, ctx) -> Outcome.next(owned)).handle(owned, (r, ctx) -> Outcome.done());
        final Pipeline<Request> pipeline = b.name("ctx-hop").workers(2).ringSize(256).build().start();
        for (int i = 0; i < REQUESTS / 4; i++)
        {
            Submit.untilAccepted(pipeline, new Request(i));
        }
        assertTrue(pipeline.shutdown(Duration.ofSeconds(30)).clean());

        long returns = 0;
        long live = 0;
        for (final WorkerMetrics w : pipeline.metrics().workers())
        {
            returns += w.contextPool().returns() + w.contextPool().drops();
            live += w.contextPool().live();
        }
        assertTrue(returns > 0, "requests that completed on the other worker sent their contexts home");
        // A context still in a return queue counts as live until its owner drains it; the drain runs
        // on the owner's next miss or idle turn, so after shutdown at most the queued ones remain.
        assertTrue(live >= 0 && live <= 256, "live contexts are bounded by the in-flight bound: " + live);
    }
}
