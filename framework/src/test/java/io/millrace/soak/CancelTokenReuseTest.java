package io.millrace.soak;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.SubmitResult;
import io.millrace.stage.CancelToken;
import io.millrace.stage.Outcome;
import io.millrace.stage.RequestCancelledException;
import io.millrace.stage.StageRef;
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
 * One token for all the requests of a connection, as {@link CancelToken} promises: the completion
 * listener is where a connection learns that its request is done, so the token must be reusable
 * there. It used to be unbound only after the listener returned, so {@code reset()} in the
 * listener threw "cannot reset a CancelToken while its request is in flight", and so did submitting
 * the connection's next request with it (every soak seed, which resets tokens in its listener, failed
 * this way; also {@code attack.TokenStillBoundInListenerTest}).
 */
class CancelTokenReuseTest
{
    @Test
    @Timeout(60)
    void theCompletionListenerResetsTheTokenAndSubmitsTheNextRequestWithIt() throws Exception
    {
        final int requests = 200;
        final CancelToken token = new CancelToken();
        final AtomicReference<Pipeline<Integer>> self = new AtomicReference<>();
        final ConcurrentLinkedQueue<Throwable> problems = new ConcurrentLinkedQueue<>();
        final AtomicInteger cancelled = new AtomicInteger();
        final CountDownLatch last = new CountDownLatch(1);
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> work = b.stage("work");
        final StageRef<Integer> finish = b.stage("finish");
        b.handle(work, (id, ctx) ->
        {
            if (id % 10 == 3)
            {
                token.cancel(); // every tenth request cancels itself through the shared token
            }
            return Outcome.next(finish);
        }).handle(finish, (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.name("token-reuse").workers(1).onComplete((id, error) ->
        {
            if (error instanceof RequestCancelledException)
            {
                cancelled.incrementAndGet();
            }
            else if (error != null)
            {
                problems.add(error);
            }
            try
            {
                token.reset(); // the request is complete: the token is free again
                if (id + 1 < requests)
                {
                    final SubmitResult next = self.get().submit(id + 1, token.deadlineAfter(Duration.ofSeconds(30)));
                    if (next != SubmitResult.ACCEPTED)
                    {
                        problems.add(new AssertionError("request " + (id + 1) + " was " + next));
                    }
                }
                else
                {
                    last.countDown();
                }
            }
            catch (final Throwable ex)
            {
                problems.add(ex);
                last.countDown();
            }
        }).build();
        self.set(pipeline);
        pipeline.start();
        try
        {
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(0, token));
            assertTrue(last.await(30, TimeUnit.SECONDS), "the chain of requests stopped");
            assertTrue(problems.isEmpty(), problems.toString());
            assertEquals(requests / 10, cancelled.get(), "each self-cancelled request, and only those");
        }
        finally
        {
            pipeline.shutdown(Duration.ofSeconds(5));
        }
    }
}
