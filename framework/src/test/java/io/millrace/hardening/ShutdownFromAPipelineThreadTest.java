package io.millrace.hardening;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.ShutdownReport;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * shutdown() waits for workers to finish, so calling it on a worker (from a completion listener or
 * a stage) used to wait out its own deadline and join itself. It now fails fast with the remedy,
 * and shutdownAsync works from anywhere.
 */
class ShutdownFromAPipelineThreadTest
{
    @Test
    @Timeout(120)
    void shutdownOnAWorkerFailsFastAndShutdownAsyncCompletes() throws Exception
    {
        final AtomicReference<Throwable> fromListener = new AtomicReference<>();
        final CompletableFuture<CompletableFuture<ShutdownReport>> async = new CompletableFuture<>();
        final AtomicReference<Pipeline<Integer>> self = new AtomicReference<>();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> only = b.stage("only");
        b.handle(only, (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.workers(1).onComplete((id, error) ->
        {
            try
            {
                self.get().shutdown(Duration.ofSeconds(5));
            }
            catch (final Throwable ex)
            {
                fromListener.set(ex);
            }
            async.complete(self.get().shutdownAsync(Duration.ofSeconds(5)));
        }).build();
        self.set(pipeline);
        pipeline.start();
        pipeline.submit(1);
        final ShutdownReport report = async.get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
        assertInstanceOf(IllegalStateException.class, fromListener.get());
        assertTrue(fromListener.get().getMessage().contains("shutdownAsync"), fromListener.get().getMessage());
        assertTrue(report.clean(), report.toString());
    }
}
