package io.millrace;

import io.millrace.metrics.MetricsSnapshot;
import io.millrace.metrics.StageMetrics;
import io.millrace.metrics.WorkerMetrics;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import io.millrace.stage.Suspension;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The metrics a pipeline records through its lanes: dispatches against requests, parked requests,
 * end-to-end latency, queue waits and batch sizes, and snapshots that add up while requests run.
 */
class MetricsWiringTest
{
    private record Waiting(int id, Suspension suspension)
    {
    }

    @Test
    void aRequestResumedIntoTheStageItSuspendedInIsDispatchedTwiceAndCountedOnce() throws Exception
    {
        final int requests = 1_000; // even ids resume into "lock" again, odd ids into "after"
        final LinkedBlockingQueue<Waiting> waiting = new LinkedBlockingQueue<>();
        final Set<Integer> waited = ConcurrentHashMap.newKeySet();
        final CountDownLatch done = new CountDownLatch(requests);

        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> lock = b.stage("lock");
        final StageRef<Integer> after = b.stage("after");
        b.handle(lock, (id, ctx) ->
        {
            if (waited.add(id))
            {
                waiting.add(new Waiting(id, ctx.suspend()));
                return Outcome.blocked();
            }
            return Outcome.next(after);
        }).handle(after, (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.name("wiring").workers(2).ringSize(4096)
            .onComplete((id, error) -> done.countDown()).build().start();
        final Thread resumer = Thread.ofPlatform().start(() ->
        {
            for (int i = 0; i < requests; i++)
            {
                try
                {
                    final Waiting w = waiting.take();
                    w.suspension().resume(Outcome.next(w.id() % 2 == 0 ? lock : after));
                }
                catch (final InterruptedException ex)
                {
                    return;
                }
            }
        });
        for (int i = 0; i < requests; i++)
        {
            Submit.untilAccepted(pipeline, i);
        }
        assertTrue(done.await(60, TimeUnit.SECONDS));
        resumer.join();

        assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        final MetricsSnapshot m = pipeline.metrics(); // the threads have ended idle: everything is handed over
        final StageMetrics l = m.stage("lock");
        assertEquals(requests + requests / 2, l.dispatches());
        assertEquals(requests, l.requests());
        assertEquals(requests, l.parked());
        assertEquals(l.dispatches(), l.serviceTimeNanos().getTotalCount(), "every dispatch timed by default");
        final StageMetrics a = m.stage("after");
        assertEquals(requests, a.dispatches());
        assertEquals(requests, a.requests());
        assertEquals(0, a.parked());

        assertEquals(requests, m.endToEndNanos().getTotalCount(), "one end-to-end latency per completed request");
        // Queue waits: every submit and every resume into "lock" waited in a ring before its dispatch,
        // resumes into "after" too; "after" following "lock" inline did not wait. At most that many when sampled.
        assertTrue(l.queueWaitNanos().getTotalCount() > 0 && l.queueWaitNanos().getTotalCount() <= requests + requests / 2,
            "queue waits of lock: " + l.queueWaitNanos().getTotalCount());
        assertTrue(a.queueWaitNanos().getTotalCount() <= requests / 2, "queue waits of after: " + a.queueWaitNanos().getTotalCount());
        for (final WorkerMetrics w : m.workers())
        {
            assertEquals(w.batches(), w.batchSizes().getTotalCount(), "one batch size per non-empty poll of " + w.threadName());
        }
    }

    @Test
    void aBlockingStageRecordsItsQueueWaitAndServiceTimeOnItsOwnThreads() throws Exception
    {
        final int requests = 200;
        final CountDownLatch done = new CountDownLatch(requests);
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> before = b.stage("before");
        final StageRef<Integer> query = b.stage("query", Placement.blocking(2));
        b.handle(before, (id, ctx) -> Outcome.next(query)).handle(query, (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.name("blk-wiring").workers(2).onComplete((id, error) -> done.countDown())
            .build().start();
        for (int i = 0; i < requests; i++)
        {
            Submit.untilAccepted(pipeline, i);
        }
        assertTrue(done.await(60, TimeUnit.SECONDS));
        // While the pipeline runs: threads waiting for work are idle and collected without them, busy
        // ones on their next turn; within a few snapshots everything has been handed over.
        MetricsSnapshot m = pipeline.metrics();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((m.stage("query").serviceTimeNanos().getTotalCount() < requests || m.endToEndNanos().getTotalCount() < requests)
            && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
            m = pipeline.metrics();
        }
        assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());

        final StageMetrics q = m.stage("query");
        assertEquals(requests, q.dispatches());
        assertEquals(requests, q.requests());
        assertEquals(requests, q.serviceTimeNanos().getTotalCount());
        assertTrue(q.queueWaitNanos().getTotalCount() > 0 && q.queueWaitNanos().getTotalCount() <= requests,
            "queue waits of query: " + q.queueWaitNanos().getTotalCount());
        assertEquals(requests, m.endToEndNanos().getTotalCount());
    }

    @Test
    void snapshotsTakenWhileRequestsRunAddUpToTheCounts() throws Exception
    {
        final int requests = 20_000;
        final CountDownLatch done = new CountDownLatch(requests);
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> parse = b.stage("parse");
        final StageRef<Integer> owner = b.stage("owner", Placement.partitioned(id -> id));
        b.handle(parse, (id, ctx) -> Outcome.next(owner)).handle(owner, (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.name("scrape").workers(2).onComplete((id, error) -> done.countDown())
            .build().start();
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicReference<String> problem = new AtomicReference<>();
        final Thread scraper = Thread.ofPlatform().start(() ->
        {
            while (!stop.get())
            {
                final MetricsSnapshot m = pipeline.metrics();
                for (final StageMetrics s : m.stages())
                {
                    if (s.serviceTimeNanos().getTotalCount() > s.dispatches())
                    {
                        problem.compareAndSet(null, s.name() + ": more service times than dispatches");
                    }
                }
            }
        });
        for (int i = 0; i < requests; i++)
        {
            Submit.untilAccepted(pipeline, i);
        }
        assertTrue(done.await(60, TimeUnit.SECONDS));
        stop.set(true);
        scraper.join();
        assertNull(problem.get());
        assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        final MetricsSnapshot m = pipeline.metrics(); // the threads have ended idle: everything is handed over
        for (final StageMetrics s : m.stages())
        {
            assertEquals(requests, s.dispatches(), s.name());
            assertEquals(requests, s.serviceTimeNanos().getTotalCount(), s.name() + ": nothing lost, nothing twice");
        }
        assertEquals(requests, m.endToEndNanos().getTotalCount());
    }
}
