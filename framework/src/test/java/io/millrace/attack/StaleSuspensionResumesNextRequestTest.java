package io.millrace.attack;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.SubmitResult;
import io.millrace.stage.Outcome;
import io.millrace.stage.Suspension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A {@link Suspension} resumed a second time, after its request completed and its pooled context
 * was reused by the next request.
 *
 * <p>Expected ({@link Suspension#resume}/{@link Suspension#fail}: "@throws IllegalStateException if the
 * suspension was already resumed or failed"; docs/architecture.md: "a second call throws"): the late
 * call throws and the next request is untouched. This is the documented timeout pattern
 * ({@code WorkerTimers} javadoc): the answer resumes the suspension, and a timeout timer that was not
 * cancelled (or a cancel-withdrawn request whose timer still fires) calls {@code fail} later.
 *
 * <p>Before the fix the Suspension was the Exchange itself, and {@code Exchange.wake} CASed whatever
 * state the context was in, ignoring which suspension it was taken in: the stale handle won the next
 * request's suspension. Now each suspension is a handle stamped with its own sequence.
 */
class StaleSuspensionResumesNextRequestTest
{
    @Test
    @Timeout(60)
    void aSecondResumeOfACompletedRequestsSuspensionThrowsAndLeavesTheNextRequestAlone() throws Exception
    {
        final LinkedBlockingQueue<Suspension> parked = new LinkedBlockingQueue<>();
        final Map<Integer, CompletableFuture<Throwable>> done = new ConcurrentHashMap<>();
        final Map<Integer, Object> contexts = new ConcurrentHashMap<>();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        b.handle(b.stage("park"), (id, ctx) ->
        {
            contexts.put(id, ctx);
            parked.add(ctx.suspend());
            return Outcome.blocked();
        });
        final Pipeline<Integer> pipeline = b.name("aba").workers(1)
            .onComplete((id, e) -> done.computeIfAbsent(id, k -> new CompletableFuture<>()).complete(e))
            .build().start();
        try
        {
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(1));
            final Suspension s1 = parked.poll(10, TimeUnit.SECONDS);
            assertNotNull(s1);
            s1.resume(Outcome.done()); // the answer came first
            assertEquals(null, done.computeIfAbsent(1, k -> new CompletableFuture<>()).get(10, TimeUnit.SECONDS));

            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(2));
            final Suspension s2 = parked.poll(10, TimeUnit.SECONDS);
            assertNotNull(s2);
            // Request 2 runs in request 1's pooled context (one worker, one context in use at a time);
            // its suspension handle is a different one, stamped with its own sequence.
            assertNotSame(s1, s2);

            // Request 1's timeout fires late: its suspension was already resumed.
            assertThrows(IllegalStateException.class, () -> s1.fail(new java.util.concurrent.TimeoutException("request 1 timed out")),
                "a second resume/fail of request 1's suspension must throw");
            Thread.sleep(100);
            assertFalse(done.containsKey(2) && done.get(2).isDone(), "request 2 was completed by request 1's stale suspension: " +
                (done.containsKey(2) ? done.get(2).getNow(null) : null));
            s2.resume(Outcome.done()); // request 2's own answer
            assertEquals(null, done.computeIfAbsent(2, k -> new CompletableFuture<>()).get(10, TimeUnit.SECONDS));
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).stuckThreadNames().isEmpty());
        }
    }
}
