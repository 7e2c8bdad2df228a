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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A submit admitted before shutdown whose entry key function returns only after the shutdown sweep.
 *
 * <p>Expected ({@code PipelineLifecycle.awaitPublishers}: "a key function that never returns leaves its
 * request in flight, which the report then counts as dropped"; docs/architecture.md, "Lifecycle":
 * "Dropped is 0 unless a worker thread itself is stuck in user code past the deadline ... Every other
 * accepted request completes exactly once"): no worker is stuck, so the report says dropped 0 and
 * every accepted submit completes; or, if the submit is counted as dropped, it completes once its
 * user code returns (as the ShutdownSweep javadoc promises for a dropped request).
 *
 * <p>Actual: the sweep waits at most 5 s ({@code PUBLISH_WAIT_NANOS}) for the publishing count, then
 * drains the rings and reports the submit as dropped although no worker is stuck. When the key
 * function returns, {@code PipelineIntake.admitted} publishes into the stopped worker's ring, which
 * nobody drains any more, and {@code submit} returns ACCEPTED: the request never completes and its
 * in-flight permit is never released ({@code metrics().inFlight()} stays 1 for good).
 * Second method: the same from a worker thread (a stage submitting), which takes no publishing count
 * at all ("A worker thread needs no count: the sweep runs only after it was joined" - not true for a
 * worker stuck past the deadline in the key function): its request is published after the sweep and
 * is lost too, although the worker's user code returned.
 * Deterministic (latches); the first method takes about 6 s.
 */
class LatePublishAfterSweepTest
{
    @Test
    @Timeout(60)
    void aSubmitWhoseKeyFunctionReturnsAfterTheSweepStillCompletes() throws Exception
    {
        final CountDownLatch inKey = new CountDownLatch(1);
        final CountDownLatch releaseKey = new CountDownLatch(1);
        final CompletableFuture<Throwable> completed = new CompletableFuture<>();
        final AtomicInteger calls = new AtomicInteger();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> entry = b.stage("entry", Placement.onWorker(id ->
        {
            inKey.countDown();
            try
            {
                releaseKey.await(); // a slow key function (a lookup), outside any pipeline thread
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            return 0;
        }));
        b.handle(entry, (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.name("late-publish").workers(1)
            .onComplete((id, e) ->
            {
                calls.incrementAndGet();
                completed.complete(e);
            }).build().start();

        final CompletableFuture<SubmitResult> submitted = CompletableFuture.supplyAsync(() -> pipeline.submit(1));
        assertTrue(inKey.await(10, TimeUnit.SECONDS));
        final ShutdownReport report = pipeline.shutdown(Duration.ZERO); // waits 5 s for the publisher, then sweeps
        releaseKey.countDown();
        final SubmitResult result = submitted.get(10, TimeUnit.SECONDS);
        Throwable seen = null;
        try
        {
            seen = completed.get(3, TimeUnit.SECONDS);
        }
        catch (final java.util.concurrent.TimeoutException ignored)
        {
            // checked below
        }
        final Throwable outcome = seen;
        assertAll(
            () -> assertEquals(0, report.stuckThreads(), report.toString()),
            () -> assertEquals(0, report.dropped(), "no worker is stuck, yet the report counts a drop: " + report),
            () -> assertTrue(result != SubmitResult.ACCEPTED || calls.get() == 1,
                "submit returned ACCEPTED but the listener was called " + calls.get() + " times (" + outcome + ")"),
            () -> assertEquals(0, pipeline.metrics().inFlight(), "in-flight permits left after the shutdown"));
    }

    @Test
    @Timeout(60)
    void aSubmitFromAStageWhoseKeyFunctionOutlivesTheSweepStillCompletesWhenItReturns() throws Exception
    {
        final CountDownLatch inKey = new CountDownLatch(1);
        final CountDownLatch releaseKey = new CountDownLatch(1);
        final CompletableFuture<SubmitResult> inner = new CompletableFuture<>();
        final CompletableFuture<Throwable> firstDone = new CompletableFuture<>();
        final CompletableFuture<Throwable> secondDone = new CompletableFuture<>();
        final Pipeline<?>[] self = new Pipeline<?>[1];
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> entry = b.stage("entry", Placement.onWorker(id ->
        {
            if (id == 2)
            {
                inKey.countDown();
                try
                {
                    releaseKey.await(); // stuck past the shutdown deadline, in user code
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
                return 1;
            }
            return 0;
        }));
        b.handle(entry, (id, ctx) ->
        {
            if (id == 1)
            {
                @SuppressWarnings("unchecked")
                final Pipeline<Integer> p = (Pipeline<Integer>)self[0];
                inner.complete(p.submit(2)); // from worker 0's thread, for worker 1
            }
            return Outcome.done();
        });
        final Pipeline<Integer> pipeline = b.name("late-publish-worker").workers(2)
            .onComplete((id, e) -> (id == 1 ? firstDone : secondDone).complete(e)).build();
        self[0] = pipeline;
        pipeline.start();

        assertEquals(SubmitResult.ACCEPTED, pipeline.submit(1));
        assertTrue(inKey.await(10, TimeUnit.SECONDS));
        final ShutdownReport report = pipeline.shutdown(Duration.ofMillis(50));
        releaseKey.countDown(); // the stuck worker's user code returns
        final SubmitResult result = inner.get(10, TimeUnit.SECONDS);
        firstDone.get(10, TimeUnit.SECONDS); // request 1 completes (aborted) once its worker returns
        Throwable seen = null;
        boolean second = false;
        try
        {
            seen = secondDone.get(3, TimeUnit.SECONDS);
            second = true;
        }
        catch (final java.util.concurrent.TimeoutException ignored)
        {
            // checked below
        }
        final boolean secondCompleted = second;
        final Throwable outcome = seen;
        assertAll(
            () -> assertEquals(1, report.stuckThreads(), report.toString()),
            () -> assertTrue(result != SubmitResult.ACCEPTED || secondCompleted,
                "the stage's submit returned ACCEPTED but request 2 never completed (" + outcome + "); report " + report),
            () -> assertEquals(0, pipeline.metrics().inFlight(), "in-flight permits left after everything returned"));
    }
}
