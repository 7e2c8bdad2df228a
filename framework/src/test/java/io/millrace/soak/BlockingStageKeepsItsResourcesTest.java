package io.millrace.soak;

import io.millrace.Pipeline;
import io.millrace.PipelineAbortedException;
import io.millrace.PipelineBuilder;
import io.millrace.ShutdownReport;
import io.millrace.stage.HeldResource;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageContext;
import io.millrace.stage.StageRef;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A request whose blocking stage is still running when the shutdown deadline passes is completed
 * with the abort by the shutdown sweep, and its blocking thread, interrupted, drops it when its
 * call returns. The sweep must not release what the request holds while that call still runs: a
 * pooled buffer would go back to the arena (and to the next allocation) under the stage that is
 * still writing into it. The blocking thread gives the resources back when its call returns.
 */
class BlockingStageKeepsItsResourcesTest
{
    @Test
    @Timeout(60)
    void resourcesHeldByARunningBlockingStageAreReleasedOnlyWhenItsCallReturns() throws Exception
    {
        final CountDownLatch inStage = new CountDownLatch(1);
        final AtomicBoolean stageRunning = new AtomicBoolean();
        final AtomicBoolean releasedWhileRunning = new AtomicBoolean();
        final AtomicInteger releases = new AtomicInteger();
        final CountDownLatch released = new CountDownLatch(1);
        final LinkedBlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
        final HeldResource resource = (StageContext holder) ->
        {
            if (stageRunning.get())
            {
                releasedWhileRunning.set(true);
            }
            releases.incrementAndGet();
            released.countDown();
        };
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> take = b.stage("take");
        final StageRef<Integer> slow = b.stage("slow", Placement.blocking(1));
        b.handle(take, (id, ctx) ->
        {
            ctx.hold(resource); // say, a buffer the blocking call fills
            return Outcome.next(slow);
        }).handle(slow, (id, ctx) ->
        {
            stageRunning.set(true);
            inStage.countDown();
            try
            {
                Thread.sleep(300); // a slow call; the shutdown interrupts it
            }
            catch (final InterruptedException ex)
            {
                Thread.sleep(100); // and it takes a little while to unwind, still using the buffer
            }
            finally
            {
                stageRunning.set(false);
            }
            return Outcome.done();
        });
        final Pipeline<Integer> pipeline = b.name("blocking-holds").workers(1)
            .onComplete((id, error) -> errors.add(error == null ? new AssertionError("completed normally") : error)).build().start();
        Submit.untilAccepted(pipeline, 1);
        assertTrue(inStage.await(10, TimeUnit.SECONDS));

        final ShutdownReport report = pipeline.shutdown(Duration.ZERO);

        assertEquals(1, report.aborted(), report.toString());
        assertInstanceOf(PipelineAbortedException.class, errors.poll(10, TimeUnit.SECONDS));
        assertTrue(released.await(10, TimeUnit.SECONDS), "the resource is released once the blocking call returned");
        assertFalse(releasedWhileRunning.get(), "the resource was released while its blocking stage still ran");
        assertEquals(1, releases.get(), "released exactly once");
    }
}
