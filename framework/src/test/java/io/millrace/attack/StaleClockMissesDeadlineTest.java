package io.millrace.attack;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.SubmitResult;
import io.millrace.stage.CancelToken;
import io.millrace.stage.Outcome;
import io.millrace.stage.RequestCancelledException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chained clock of a timed dispatch ({@code StageRunner.lastNow}/{@code lastNowFresh}) survives
 * the completion listener, and the deadline check at the next stage boundary uses it.
 *
 * <p>Expected (docs/architecture.md, "Cancellation and deadlines": "At every stage boundary the
 * runner checks the token ... and completes a stopped request with RequestCancelledException
 * (CANCELLED or DEADLINE_EXCEEDED) before the next stage runs"): a request whose deadline passed
 * before it reaches its first stage is completed with DEADLINE_EXCEEDED and the stage never runs.
 *
 * <p>Actual: {@code StageRunner.run} sets {@code lastNowFresh = true} after a timed stage and nothing
 * makes it stale again before the next event of the same batch, although {@code complete()} runs
 * the user's completion listener in between ({@code PipelineRuntime.notifyComplete}), which may take
 * any time. The next request's {@code run} then takes {@code start = lastNow} (read before the
 * listener) and passes it to {@code stopped(exchange, s, start)} -> {@code Exchange.stopReason}, which
 * uses it as "now" for {@code token.isExpired}: the deadline check sees a clock that is as old as
 * the listener was long, and the stage runs for a request that was already past its deadline. (The
 * same stale start is also charged to that request's queue wait and first service time: a listener's
 * 300 ms show up nowhere, and a request submitted from the listener gets a negative queue wait,
 * clamped to 1 ns.) Deterministic: serviceTimeSampling(1) times every dispatch.
 */
class StaleClockMissesDeadlineTest
{
    @Test
    @Timeout(60)
    void aDeadlineThatPassedDuringThePreviousListenerIsSeenAtTheNextStageBoundary() throws Exception
    {
        final List<Integer> ran = new CopyOnWriteArrayList<>();
        final CountDownLatch pRunning = new CountDownLatch(1);
        final CountDownLatch releaseP = new CountDownLatch(1);
        final Map<Integer, CompletableFuture<Throwable>> done = new ConcurrentHashMap<>();
        for (int i = 0; i < 3; i++)
        {
            done.put(i, new CompletableFuture<>());
        }
        final PipelineBuilder<Integer> b = Pipeline.builder();
        b.handle(b.stage("only"), (id, ctx) ->
        {
            ran.add(id);
            if (id == 0)
            {
                pRunning.countDown();
                releaseP.await();
            }
            return Outcome.done();
        });
        final Pipeline<Integer> pipeline = b.name("stale-clock").workers(1).serviceTimeSampling(1)
            .onComplete((id, e) ->
            {
                if (id == 1)
                {
                    try
                    {
                        Thread.sleep(300); // a slow listener (logging, a blocking write...)
                    }
                    catch (final InterruptedException ex)
                    {
                        Thread.currentThread().interrupt();
                    }
                }
                done.get(id).complete(e);
            }).build().start();
        try
        {
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(0));
            assertTrue(pRunning.await(10, TimeUnit.SECONDS));
            // The worker is busy with 0: requests 1 and 2 form its next inbox batch.
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(1));
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(2, new CancelToken().deadlineAfter(Duration.ofMillis(100))));
            releaseP.countDown();

            final Throwable second = done.get(2).get(10, TimeUnit.SECONDS);
            // Request 2 reached its first stage boundary ~300 ms after submit, 200 ms past its deadline.
            assertInstanceOf(RequestCancelledException.class, second,
                "request 2 reached its entry stage 200 ms past its deadline but completed with " + second);
            assertEquals(RequestCancelledException.Reason.DEADLINE_EXCEEDED, ((RequestCancelledException)second).reason());
            assertFalse(ran.contains(2), "the stage ran for a request past its deadline: " + ran);
        }
        finally
        {
            pipeline.shutdown(Duration.ofSeconds(5));
        }
    }
}
