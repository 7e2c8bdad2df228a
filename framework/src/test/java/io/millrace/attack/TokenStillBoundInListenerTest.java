package io.millrace.attack;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.SubmitResult;
import io.millrace.stage.CancelToken;
import io.millrace.stage.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A connection keeps one {@link CancelToken} and reuses it for its next request when the current
 * one completes.
 *
 * <p>Expected (CancelToken javadoc: "It is bound when the request starts and unbound when it
 * completes; reset() then makes it reusable"; "reset() only while the token is not bound (before
 * submitting, after completion)"; architecture.md: "reusable after reset(), so a connection keeps
 * one"): in the completion listener, the request has completed, so the token can be reset and the
 * next request submitted with it.
 *
 * <p>Actual: {@code StageRunner.complete} calls the listener first and unbinds the token only after
 * ({@code ExchangePool.recycle -> Exchange.clear -> token.unbind}). In the listener, reset() throws
 * "cannot reset a CancelToken while its request is in flight" and submit(next, token) throws "still
 * bound". Outside the listener it is a race: a thread woken by the listener (a future, a latch) may
 * reset before the worker has unbound.
 */
class TokenStillBoundInListenerTest
{
    @Test
    @Timeout(60)
    void theTokenIsReusableFromTheCompletionListener() throws Exception
    {
        final CancelToken token = new CancelToken();
        final CompletableFuture<Throwable> inListener = new CompletableFuture<>();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        b.handle(b.stage("only"), (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.name("token-reuse").workers(1)
            .onComplete((id, e) ->
            {
                try
                {
                    token.reset(); // the request completed: ready the token for the connection's next request
                    inListener.complete(null);
                }
                catch (final Throwable t)
                {
                    inListener.complete(t);
                }
            }).build().start();
        try
        {
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(1, token));
            assertEquals(null, inListener.get(10, TimeUnit.SECONDS), "reset() in the completion listener threw");
        }
        finally
        {
            pipeline.shutdown(Duration.ofSeconds(10));
        }
    }
}
