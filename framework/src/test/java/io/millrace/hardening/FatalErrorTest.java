package io.millrace.hardening;

import io.millrace.Pipeline;
import io.millrace.PipelineAbortedException;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An error the runtime cannot contain (here a thrown {@link OutOfMemoryError}) must not leave a
 * half-alive pipeline: it is marked failed, intake closes, the user's hook hears of it, the threads
 * stop, and every accepted request still completes exactly once.
 */
class FatalErrorTest
{
    @Test
    @Timeout(60)
    void anOutOfMemoryErrorInAWorkerFailsThePipelineAndAbortsWhatIsInFlight() throws Exception
    {
        check(false);
    }

    @Test
    @Timeout(60)
    void anOutOfMemoryErrorInABlockingStageFailsThePipelineToo() throws Exception
    {
        check(true);
    }

    private static void check(final boolean inBlockingStage) throws Exception
    {
        final OutOfMemoryError oom = new OutOfMemoryError("simulated: Java heap space");
        final CompletableFuture<Thread> hookThread = new CompletableFuture<>();
        final AtomicInteger hookCalls = new AtomicInteger();
        final ConcurrentHashMap<Integer, Throwable> completions = new ConcurrentHashMap<>();
        final AtomicInteger duplicates = new AtomicInteger();
        final CountDownLatch parkedAll = new CountDownLatch(50);

        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> entry = b.stage("entry");
        final StageRef<Integer> park = b.stage("park");
        final StageRef<Integer> boom = b.stage("boom", inBlockingStage ? Placement.blocking(2) : Placement.inline());
        b.handle(entry, (id, ctx) -> id < 50 ? Outcome.next(park) : Outcome.next(boom))
         // never resumed; the latch counts down inside the stage, so the fatal error may stop a worker
         // while the last park stage is still returning: that request is aborted with the error too
         .handle(park, (id, ctx) -> { ctx.suspend(); parkedAll.countDown(); return Outcome.blocked(); })
         .handle(boom, (id, ctx) -> { throw oom; });
        final Pipeline<Integer> pipeline = b.name("fatal").workers(2)
            .onFatalError((name, thread, error) -> { hookCalls.incrementAndGet(); hookThread.complete(thread); })
            .onComplete((id, error) ->
            {
                if (completions.putIfAbsent(id, error == null ? new Throwable("success") : error) != null)
                {
                    duplicates.incrementAndGet();
                }
            }).build().start();

        for (int i = 0; i < 50; i++)
        {
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(i));
        }
        assertTrue(parkedAll.await(10, TimeUnit.SECONDS));
        assertEquals(SubmitResult.ACCEPTED, pipeline.submit(50));

        final Thread failing = hookThread.get(10, TimeUnit.SECONDS);
        assertTrue(failing.getName().startsWith(inBlockingStage ? "fatal-blocking-boom" : "fatal-worker-"), failing.getName());
        assertSame(oom, pipeline.failure());
        assertFalse(pipeline.metrics().up());
        assertEquals(SubmitResult.REJECTED_NOT_RUNNING, pipeline.submit(99), "intake is closed");

        // The failure aborts what is in flight by itself, without waiting for the user's shutdown.
        for (int i = 0; i < 10_000 && completions.size() < 51; i++)
        {
            Thread.sleep(1);
        }
        assertEquals(51, completions.size(), "every accepted request completed");
        for (int i = 0; i < 50; i++)
        {
            assertTrue(completions.get(i) instanceof PipelineAbortedException a && a.getCause() == oom, String.valueOf(completions.get(i)));
        }
        assertTrue(completions.get(50) instanceof PipelineAbortedException, String.valueOf(completions.get(50)));
        final ShutdownReport report = pipeline.shutdown(Duration.ofSeconds(10));
        assertEquals(0, report.dropped());
        assertEquals(0, duplicates.get());
        assertEquals(1, hookCalls.get());
        for (final Thread t : Thread.getAllStackTraces().keySet())
        {
            assertFalse(t.getName().startsWith("fatal-worker-") && t.isAlive(), "worker still running: " + t.getName());
        }
    }
}
