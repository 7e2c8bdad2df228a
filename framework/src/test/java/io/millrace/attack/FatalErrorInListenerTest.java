package io.millrace.attack;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.SubmitResult;
import io.millrace.stage.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An {@link OutOfMemoryError} thrown by the completion listener.
 *
 * <p>Expected (docs/architecture.md, "Errors": "Contained is every Throwable except a
 * VirtualMachineError other than StackOverflowError"; "A fatal error ends the thread's loop, and the
 * pipeline is failed"; the completion listener is user code on the completing worker): the pipeline
 * fails, the FatalErrorHandler runs, intake closes - and the request still counts as completed once.
 *
 * <p>Actual: {@code PipelineRuntime.notifyComplete} catches Throwable and only logs it, with no
 * {@code Fatal.rethrowIfFatal}: the OOM is contained, the pipeline keeps running, failure() is null.
 * (A fix must still finish the completion - recycle and release the permit - before rethrowing, or
 * the sweep will complete the request a second time.)
 */
class FatalErrorInListenerTest
{
    @Test
    @Timeout(60)
    void anOutOfMemoryErrorInTheCompletionListenerFailsThePipeline() throws Exception
    {
        final OutOfMemoryError oom = new OutOfMemoryError("simulated, in the completion listener");
        final CompletableFuture<Throwable> handler = new CompletableFuture<>();
        final AtomicInteger listenerCalls = new AtomicInteger();
        final CountDownLatch called = new CountDownLatch(1);
        final PipelineBuilder<Integer> b = Pipeline.builder();
        b.handle(b.stage("only"), (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.name("listener-oom").workers(1)
            .onFatalError((name, thread, error) -> handler.complete(error))
            .onComplete((id, e) ->
            {
                listenerCalls.incrementAndGet();
                called.countDown();
                throw oom;
            }).build().start();
        try
        {
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(1));
            assertTrue(called.await(10, TimeUnit.SECONDS));
            Throwable seen = null;
            try
            {
                seen = handler.get(2, TimeUnit.SECONDS);
            }
            catch (final java.util.concurrent.TimeoutException ignored)
            {
                // not failed
            }
            final Throwable fatal = seen;
            assertAll(
                () -> assertSame(oom, fatal, "FatalErrorHandler told of the listener's OOM"),
                () -> assertSame(oom, pipeline.failure(), "pipeline failed"),
                () -> assertEquals(SubmitResult.REJECTED_NOT_RUNNING, pipeline.submit(2), "intake closed"));
        }
        finally
        {
            pipeline.shutdown(Duration.ofSeconds(10));
        }
        assertEquals(1, listenerCalls.get(), "the request completed exactly once");
    }
}
