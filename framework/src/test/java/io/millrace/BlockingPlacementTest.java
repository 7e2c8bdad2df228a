package io.millrace;

import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockingPlacementTest
{
    static final class Request
    {
        Thread before;
        Thread blockedOn;
        Thread after;
    }

    @Test
    void blockingTwoNeverRunsMoreThanTwoAndResumesOnTheHomeWorker() throws Exception
    {
        final int requests = 50;
        final AtomicInteger active = new AtomicInteger();
        final AtomicInteger maxActive = new AtomicInteger();
        final CountDownLatch done = new CountDownLatch(requests);
        final List<String> problems = new CopyOnWriteArrayList<>();

        final PipelineBuilder<Request> b = Pipeline.builder();
        final StageRef<Request> before = b.stage("before");
        final StageRef<Request> query = b.stage("query", Placement.blocking(2));
        final StageRef<Request> after = b.stage("after");
        b.handle(before, (r, ctx) ->
        {
            r.before = Thread.currentThread();
            return Outcome.next(query);
        }).handle(query, (r, ctx) ->
        {
            final int now = active.incrementAndGet();
            maxActive.accumulateAndGet(now, Math::max);
            r.blockedOn = Thread.currentThread();
            try
            {
                Thread.sleep(5); // a JDBC call, say
            }
            finally
            {
                active.decrementAndGet();
            }
            return Outcome.next(after);
        }).handle(after, (r, ctx) ->
        {
            r.after = Thread.currentThread();
            return Outcome.done();
        });
        final Pipeline<Request> pipeline = b.name("blk").workers(2).ringSize(128)
            .onComplete((r, error) ->
            {
                if (error != null)
                {
                    problems.add("failed: " + error);
                }
                else if (r.after != r.before)
                {
                    problems.add("resumed on " + r.after.getName() + ", home was " + r.before.getName());
                }
                else if (!r.blockedOn.getName().startsWith("blk-blocking-query-"))
                {
                    problems.add("blocked on " + r.blockedOn.getName());
                }
                done.countDown();
            }).build().start();

        for (int i = 0; i < requests; i++)
        {
            Submit.untilAccepted(pipeline, new Request());
        }
        assertTrue(done.await(60, TimeUnit.SECONDS), "all 50 requests complete");
        assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        assertEquals(List.of(), problems);
        assertTrue(maxActive.get() <= 2, "never more than 2 threads in the blocking stage, saw " + maxActive.get());
        assertEquals(2, maxActive.get(), "both blocking threads were used");
        assertEquals(requests, pipeline.metrics().stage("query").dispatches());
        assertEquals(requests, pipeline.metrics().stage("query").requests());
        assertEquals(requests, pipeline.metrics().internalPublishes(), "one publish per resume into the home inbox");
    }

    @Test
    void aBlockingStageThatThrowsFailsTheRequestOnItsHomeWorker() throws Exception
    {
        final CountDownLatch done = new CountDownLatch(1);
        final AtomicInteger failures = new AtomicInteger();
        final PipelineBuilder<String> b = Pipeline.builder();
        final StageRef<String> query = b.stage("query", Placement.blocking(1));
        b.handle(query, (r, ctx) ->
        {
            throw new java.io.IOException("database down");
        });
        final Pipeline<String> pipeline = b.name("blkfail").workers(1)
            .onComplete((r, error) ->
            {
                if (error instanceof java.io.IOException && Thread.currentThread().getName().startsWith("blkfail-worker-"))
                {
                    failures.incrementAndGet();
                }
                done.countDown();
            }).build().start();
        Submit.untilAccepted(pipeline, "r");
        assertTrue(done.await(30, TimeUnit.SECONDS));
        pipeline.shutdown(Duration.ofSeconds(5));
        assertEquals(1, failures.get());
        assertEquals(1, pipeline.metrics().stage("query").errors());
    }
}
