package io.millrace.hardening;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.stage.HeldResource;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every call into user code is contained: a throwing {@link HeldResource#releaseAbandoned} or
 * completion listener fails at most its own request, and the one worker keeps serving.
 */
class WorkerSurvivesUserErrorsTest
{
    @Test
    @Timeout(120)
    void aHeldResourceWhoseReleaseThrowsDoesNotKillTheWorker() throws InterruptedException
    {
        final int requests = 1_000;
        final CountDownLatch done = new CountDownLatch(requests);
        final AtomicInteger failed = new AtomicInteger();
        final HeldResource throwing = holder -> { throw new AssertionError("release failed"); };

        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> only = b.stage("holds");
        b.handle(only, (id, ctx) ->
        {
            if (id % 2 == 0)
            {
                ctx.hold(throwing); // completes holding it: the runtime releases it and that throws
            }
            return Outcome.done();
        });
        final Pipeline<Integer> pipeline = b.workers(1).ringSize(64)
            .onComplete((id, error) ->
            {
                if (error != null)
                {
                    failed.incrementAndGet();
                }
                done.countDown();
            }).build().start();
        try
        {
            for (int i = 0; i < requests; i++)
            {
                Submit.untilAccepted(pipeline, i);
            }
            assertTrue(done.await(30, TimeUnit.SECONDS), done.getCount() + " requests never completed: the worker died");
            assertEquals(requests / 2, failed.get(), "each request whose abandoned resource failed to release completes with that error");
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }

    @Test
    @Timeout(120)
    void aCompletionListenerThrowingAnErrorDoesNotKillTheWorker() throws InterruptedException
    {
        final int requests = 1_000;
        final CountDownLatch done = new CountDownLatch(requests);
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> only = b.stage("only");
        b.handle(only, (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.workers(1).ringSize(64)
            .onComplete((id, error) ->
            {
                done.countDown();
                if (id % 3 == 0)
                {
                    throw new StackOverflowError("listener");
                }
            }).build().start();
        try
        {
            for (int i = 0; i < requests; i++)
            {
                Submit.untilAccepted(pipeline, i);
            }
            assertTrue(done.await(30, TimeUnit.SECONDS));
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }
}
