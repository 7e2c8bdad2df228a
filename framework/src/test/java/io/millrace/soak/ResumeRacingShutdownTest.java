package io.millrace.soak;

import io.millrace.Pipeline;
import io.millrace.PipelineAbortedException;
import io.millrace.PipelineBuilder;
import io.millrace.ShutdownReport;
import io.millrace.stage.CancelToken;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import io.millrace.stage.Suspension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Resumers, cancellers and a shutdown with no deadline, all at once, on parked requests: the
 * shutdown sweep withdraws each parked suspension and completes its request, and a resume or cancel
 * that won the suspension a moment earlier must neither fail (a resumer used to read the request's
 * home after winning, which the sweep may have cleared by then: a NullPointerException from
 * {@code resume} or {@code cancel}) nor change what the request completes with: an aborted request
 * completes with the abort, once.
 */
class ResumeRacingShutdownTest
{
    @Test
    @Timeout(120)
    void resumesAndCancelsRacingTheShutdownSweepNeitherThrowNorChangeTheAbort() throws Exception
    {
        for (int round = 0; round < 20; round++)
        {
            race(round);
        }
    }

    private static void race(final int round) throws Exception
    {
        final int requests = 1_000;
        final List<Suspension> parked = new ArrayList<>();
        final ConcurrentLinkedQueue<Suspension> handedOut = new ConcurrentLinkedQueue<>();
        final AtomicIntegerArray completions = new AtomicIntegerArray(requests);
        final AtomicReferenceArray<Throwable> errors = new AtomicReferenceArray<>(requests);
        final ConcurrentLinkedQueue<Throwable> problems = new ConcurrentLinkedQueue<>();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> park = b.stage("park");
        final StageRef<Integer> done = b.stage("done");
        b.handle(park, (id, ctx) ->
        {
            handedOut.add(ctx.suspend());
            return Outcome.blocked();
        }).handle(done, (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.name("resume-vs-sweep-" + round).workers(2).ringSize(4096)
            .onComplete((id, error) ->
            {
                completions.incrementAndGet(id);
                errors.set(id, error);
            }).build().start();
        final CancelToken[] tokens = new CancelToken[requests];
        for (int i = 0; i < requests; i++)
        {
            tokens[i] = new CancelToken();
            while (!pipeline.submit(i, tokens[i]).accepted())
            {
                Thread.onSpinWait();
            }
        }
        final long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (handedOut.size() < requests && System.nanoTime() - until < 0)
        {
            Thread.sleep(1);
        }
        parked.addAll(handedOut);
        assertEquals(requests, parked.size(), "every request parked");

        final CountDownLatch go = new CountDownLatch(1);
        final Thread resumer = Thread.ofPlatform().start(() ->
        {
            await(go);
            for (int i = parked.size() - 1; i >= 0; i--)
            {
                try
                {
                    if ((i & 1) == 0)
                    {
                        parked.get(i).resume(Outcome.next(done));
                    }
                    else
                    {
                        parked.get(i).fail(new IllegalStateException("answer for a request the shutdown aborts"));
                    }
                }
                catch (final IllegalStateException refused)
                {
                    // withdrawn by the sweep: expected
                }
                catch (final Throwable ex)
                {
                    problems.add(ex);
                }
            }
        });
        final Thread canceller = Thread.ofPlatform().start(() ->
        {
            await(go);
            for (final CancelToken token : tokens)
            {
                try
                {
                    token.cancel();
                }
                catch (final Throwable ex)
                {
                    problems.add(ex);
                }
            }
        });
        go.countDown();
        final ShutdownReport report = pipeline.shutdown(Duration.ZERO);
        resumer.join(TimeUnit.SECONDS.toMillis(30));
        canceller.join(TimeUnit.SECONDS.toMillis(30));

        assertTrue(problems.isEmpty(), "round " + round + ": resume or cancel threw: " + problems);
        int aborted = 0;
        for (int i = 0; i < requests; i++)
        {
            assertEquals(1, completions.get(i), "round " + round + ": request " + i + " completions");
            if (errors.get(i) instanceof PipelineAbortedException)
            {
                aborted++;
            }
        }
        assertEquals(report.aborted(), aborted, "round " + round + ": every request the sweep aborted completed with the abort: " + report);
        assertEquals(0, pipeline.metrics().inFlight());
    }

    private static void await(final CountDownLatch latch)
    {
        try
        {
            latch.await();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
