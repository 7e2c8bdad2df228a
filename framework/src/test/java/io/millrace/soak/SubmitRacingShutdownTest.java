package io.millrace.soak;

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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A submit that was admitted (it holds an in-flight permit) but has not yet handed its request to
 * a worker when the shutdown passes its deadline: the shutdown stops the workers and sweeps their
 * inboxes, and the request, published after that, is never completed while {@code submit} says
 * ACCEPTED; its permit is never given back. The window is the entry key function (user code, run
 * between admission and hand-off) plus a few instructions; a slow key function, as here, or a
 * descheduled submitting thread widens it. The shutdown now waits for such submits (a count kept in
 * the in-flight gate) before it sweeps, for up to 5 s; a key function that runs longer than that
 * across a shutdown leaves its request uncompleted, counted as dropped.
 */
class SubmitRacingShutdownTest
{
    @Test
    @Timeout(60)
    void aRequestAdmittedBeforeTheShutdownButPublishedAfterItsSweepStillCompletesExactlyOnce() throws Exception
    {
        final CountDownLatch inKey = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger completions = new AtomicInteger();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> entry = b.stage("entry", Placement.partitioned(id ->
        {
            if (id == 1)
            {
                inKey.countDown();
                try
                {
                    release.await(); // a slow key function: the submit is admitted, not yet published
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }
            return id;
        }));
        b.handle(entry, (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.name("submit-vs-shutdown").workers(2)
            .onComplete((id, error) -> completions.incrementAndGet()).build().start();

        final CompletableFuture<SubmitResult> submitted = CompletableFuture.supplyAsync(() -> pipeline.submit(1));
        assertTrue(inKey.await(10, TimeUnit.SECONDS));
        // The shutdown starts while the key function runs, and it is released 200 ms later: the
        // shutdown waits (up to 5 s) for admitted submits to reach a ring before it sweeps.
        final CompletableFuture<ShutdownReport> shutdown = CompletableFuture.supplyAsync(() -> pipeline.shutdown(Duration.ZERO));
        Thread.sleep(200);
        release.countDown();
        final ShutdownReport report = shutdown.get(20, TimeUnit.SECONDS);
        final SubmitResult result = submitted.get(10, TimeUnit.SECONDS);

        // The entry key runs before admission, so a shutdown that starts during it may refuse the
        // submit (nothing in flight at its start) or find it admitted: both are correct, and the
        // exactly-once rules below hold either way.
        assertTrue(report.inFlightAtStart() <= 1, "at most the one submit counts as in flight: " + report);
        if (result == SubmitResult.ACCEPTED)
        {
            final long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (completions.get() == 0 && System.nanoTime() - until < 0)
            {
                Thread.sleep(1);
            }
            assertEquals(1, completions.get(), "an accepted request completes exactly once, even one the shutdown raced with");
        }
        else
        {
            assertEquals(0, completions.get(), "a refused request is never completed");
        }
        assertEquals(0, pipeline.metrics().inFlight(), "no in-flight permit is left: " + result + ", " + report);
    }
}
