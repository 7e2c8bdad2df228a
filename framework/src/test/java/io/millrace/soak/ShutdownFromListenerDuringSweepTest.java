package io.millrace.soak;

import io.millrace.Pipeline;
import io.millrace.PipelineAbortedException;
import io.millrace.PipelineBuilder;
import io.millrace.ShutdownReport;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shutdown sweep calls the completion listener of each request it aborts on the thread that
 * called {@code shutdown}, inside the runtime's lifecycle lock. A listener that calls
 * {@code shutdown} there (it is not a pipeline thread, so the pipeline-thread check lets it through)
 * re-enters the lock and runs a whole nested shutdown, once per aborted request, each waiting out
 * its own deadline: the nesting is as deep as the requests in flight, and the outer report counts
 * only the requests its own sweep reached (here 1 of 10).
 */
class ShutdownFromListenerDuringSweepTest
{
    @Test
    @Timeout(60)
    void aListenerCallingShutdownDuringTheSweepGetsTheOneShutdownNotANestedOne() throws Exception
    {
        final int requests = 10;
        final AtomicReference<Pipeline<Integer>> self = new AtomicReference<>();
        final ConcurrentLinkedQueue<Object> fromListener = new ConcurrentLinkedQueue<>();
        final AtomicInteger aborted = new AtomicInteger();
        final CountDownLatch parked = new CountDownLatch(requests);
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> park = b.stage("park");
        b.handle(park, (id, ctx) ->
        {
            ctx.suspend();
            parked.countDown();
            return Outcome.blocked();
        });
        final Pipeline<Integer> pipeline = b.name("listener-shutdown").workers(2).onComplete((id, error) ->
        {
            if (error instanceof PipelineAbortedException)
            {
                aborted.incrementAndGet();
            }
            try
            {
                fromListener.add(self.get().shutdown(Duration.ofMillis(10)));
            }
            catch (final Throwable ex)
            {
                fromListener.add(ex);
            }
        }).build();
        self.set(pipeline);
        pipeline.start();
        for (int i = 0; i < requests; i++)
        {
            Submit.untilAccepted(pipeline, i);
        }
        assertTrue(parked.await(10, TimeUnit.SECONDS));

        final ShutdownReport report = pipeline.shutdown(Duration.ZERO);

        assertEquals(requests, aborted.get());
        assertEquals(requests, report.aborted(), "the report counts every request the shutdown aborted: " + report + " listener saw " + fromListener);
        for (final Object answer : fromListener)
        {
            assertTrue(!(answer instanceof ShutdownReport) || answer.equals(report),
                "a listener's shutdown() during the shutdown is that shutdown, not a nested one: " + answer + " vs " + report);
        }
    }
}
