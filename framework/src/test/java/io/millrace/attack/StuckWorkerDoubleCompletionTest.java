package io.millrace.attack;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.ShutdownReport;
import io.millrace.SubmitResult;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A worker stuck in user code past the shutdown deadline, with a request that hopped to it from
 * another worker (a CONTINUE event) waiting later in the same inbox batch.
 *
 * <p>Expected (docs/architecture.md, "Lifecycle"; {@link ShutdownReport}): "Every other accepted
 * request completes exactly once", and a dropped request's "listener is never called". The sweep
 * aborts the hopped request (its {@code home} is still the worker it hopped from, which is not
 * stuck). Then the stuck call returns and the stuck worker goes on with the rest of its batch: it
 * runs the already-swept context (request now null) and completes it a second time, releasing its
 * in-flight permit a second time, which drives the gate's count below zero (clearing its closed
 * bit: {@code metrics().inFlight()} becomes 2^62 - 1 and submit answers REJECTED_OVERLOADED instead
 * of REJECTED_NOT_RUNNING). It also completes the dropped request, whose listener "is never called".
 */
class StuckWorkerDoubleCompletionTest
{
    record Req(String name, int entryWorker)
    {
    }

    @Test
    @Timeout(60)
    void aSweptRequestIsNotCompletedAgainWhenTheStuckWorkerComesBack() throws Exception
    {
        final List<String> completions = new CopyOnWriteArrayList<>();
        final CountDownLatch pRunning = new CountDownLatch(1);
        final CountDownLatch releaseP = new CountDownLatch(1);
        final CountDownLatch xRunning = new CountDownLatch(1);
        final CountDownLatch xReturned = new CountDownLatch(1);
        final CountDownLatch yHopping = new CountDownLatch(1);

        final PipelineBuilder<Req> b = Pipeline.builder();
        final StageRef<Req> first = b.stage("first", Placement.onWorker(Req::entryWorker));
        final StageRef<Req> second = b.stage("second", Placement.onWorker(r -> 1));
        b.handle(first, (r, ctx) ->
        {
            switch (r.name())
            {
                case "P" ->
                {
                    pRunning.countDown();
                    releaseP.await();
                    return Outcome.done();
                }
                case "X" ->
                {
                    xRunning.countDown();
                    // Stuck in user code, ignoring interrupts, well past deadline + the 1 s join grace.
                    final long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3_000);
                    while (System.nanoTime() - until < 0)
                    {
                        try
                        {
                            Thread.sleep(10);
                        }
                        catch (final InterruptedException ignored)
                        {
                            // keep being stuck
                        }
                    }
                    xReturned.countDown();
                    return Outcome.done();
                }
                default ->
                {
                    yHopping.countDown();
                    return Outcome.next(second); // worker 0 -> worker 1: a CONTINUE into worker 1's ring
                }
            }
        }).handle(second, (r, ctx) -> Outcome.done());
        final Pipeline<Req> pipeline = b.name("stuck-hop").workers(2)
            .onComplete((r, e) -> completions.add(r == null ? "null" : r.name()))
            .build().start();

        assertEquals(SubmitResult.ACCEPTED, pipeline.submit(new Req("P", 1)));
        assertTrue(pRunning.await(10, TimeUnit.SECONDS));
        // Worker 1 is busy in P: both X (a submit) and Y's hop land in its ring and form its next batch.
        assertEquals(SubmitResult.ACCEPTED, pipeline.submit(new Req("X", 1)));
        assertEquals(SubmitResult.ACCEPTED, pipeline.submit(new Req("Y", 0)));
        assertTrue(yHopping.await(10, TimeUnit.SECONDS));
        Thread.sleep(100); // let worker 0 finish the hop's publish
        releaseP.countDown();
        assertTrue(xRunning.await(10, TimeUnit.SECONDS));

        final ShutdownReport report = pipeline.shutdown(Duration.ofMillis(50));
        assertEquals(List.of("stuck-hop-worker-1"), report.stuckThreadNames(), report.toString());
        assertEquals(1, report.dropped(), report.toString()); // X
        assertEquals(1, report.aborted(), report.toString()); // Y

        assertTrue(xReturned.await(20, TimeUnit.SECONDS));
        Thread.sleep(300); // let the worker finish its batch

        final long yCount = completions.stream().filter("Y"::equals).count();
        assertAll(
            () -> assertEquals(1, yCount, "Y completed exactly once: " + completions),
            () -> assertTrue(!completions.contains("null"), "a listener call with a null (swept) request: " + completions),
            () -> assertEquals(0, pipeline.metrics().inFlight(), "in-flight count after everything completed"),
            () -> assertEquals(SubmitResult.REJECTED_NOT_RUNNING, pipeline.submit(new Req("late", 0)), "intake stays closed"),
            () -> assertTrue(!completions.contains("X"), "X was reported dropped, whose listener 'is never called': " + completions));
    }
}
