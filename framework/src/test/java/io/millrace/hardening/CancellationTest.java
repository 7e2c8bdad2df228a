package io.millrace.hardening;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.SubmitResult;
import io.millrace.lock.LockGrid;
import io.millrace.stage.CancelToken;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.RequestCancelledException;
import io.millrace.stage.StageRef;
import io.millrace.stage.Suspension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cancellation and deadlines: a cancelled request completes with {@link RequestCancelledException}
 * at its next stage boundary, and the queued work for it is skipped, not run.
 */
class CancellationTest
{
    private final Map<Integer, CompletableFuture<Throwable>> outcomes = new ConcurrentHashMap<>();

    private CompletableFuture<Throwable> outcome(final int id)
    {
        return outcomes.computeIfAbsent(id, k -> new CompletableFuture<>());
    }

    private void complete(final int id, final Throwable error)
    {
        if (!outcome(id).complete(error))
        {
            throw new AssertionError("request " + id + " completed twice");
        }
    }

    private static RequestCancelledException cancelled(final CompletableFuture<Throwable> f) throws Exception
    {
        return assertInstanceOf(RequestCancelledException.class, f.get(10, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(60)
    void aParkedRequestIsWithdrawnAtOnceAndALateResumeIsRefused() throws Exception
    {
        final LinkedBlockingQueue<Suspension> parked = new LinkedBlockingQueue<>();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> park = b.stage("park");
        b.handle(park, (id, ctx) ->
        {
            parked.add(ctx.suspend());
            return Outcome.blocked();
        });
        final Pipeline<Integer> pipeline = b.workers(2).onComplete(this::complete).build().start();
        try
        {
            final CancelToken token = new CancelToken();
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(1, token));
            final Suspension suspension = parked.poll(10, TimeUnit.SECONDS);
            assertTrue(token.cancel());
            assertFalse(token.cancel(), "cancel is idempotent");
            assertEquals(RequestCancelledException.Reason.CANCELLED, cancelled(outcome(1)).reason());
            assertThrows(IllegalStateException.class, () -> suspension.resume(Outcome.done()));
            // The token is unbound at completion and can serve the next request after a reset.
            waitUntil(() -> !token.isBound());
            token.reset();
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(2, token));
            parked.poll(10, TimeUnit.SECONDS).resume(Outcome.done());
            assertNull(outcome(2).get(10, TimeUnit.SECONDS));
            assertEquals(1, pipeline.metrics().workers().stream().mapToLong(w -> w.cancelled()).sum());
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }

    @Test
    @Timeout(60)
    void aRequestQueuedForABlockingStageIsSkippedNotRun() throws Exception
    {
        final CountDownLatch gate = new CountDownLatch(1);
        final CountDownLatch firstInside = new CountDownLatch(1);
        final AtomicInteger ran = new AtomicInteger();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> db = b.stage("db", Placement.blocking(1));
        b.handle(db, (id, ctx) ->
        {
            ran.incrementAndGet();
            firstInside.countDown();
            gate.await();
            return Outcome.done();
        });
        final Pipeline<Integer> pipeline = b.workers(1).onComplete(this::complete).build().start();
        try
        {
            pipeline.submit(1);
            assertTrue(firstInside.await(10, TimeUnit.SECONDS));
            final CancelToken token = new CancelToken();
            pipeline.submit(2, token); // queued behind request 1: the stage has one thread
            token.cancel();
            gate.countDown();
            assertNull(outcome(1).get(10, TimeUnit.SECONDS));
            cancelled(outcome(2));
            assertEquals(1, ran.get(), "the cancelled request's blocking call never ran");
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }

    @Test
    @Timeout(60)
    void aLockGridWaitIsWithdrawnAndTheCellPassesOverIt() throws Exception
    {
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> take = b.stage("take");
        final StageRef<Integer> hold = b.stage("hold");
        final LockGrid grid = LockGrid.builder().name("cancel").rows(take).columns(4).build();
        final LinkedBlockingQueue<Suspension> holding = new LinkedBlockingQueue<>();
        final AtomicInteger criticalSections = new AtomicInteger();
        b.handle(take, (id, ctx) ->
        {
            if (!grid.acquire(ctx, 7))
            {
                return Outcome.blocked();
            }
            criticalSections.incrementAndGet();
            return Outcome.next(hold);
        }).handle(hold, (id, ctx) ->
        {
            if (id == 1)
            {
                holding.add(ctx.suspend()); // request 1 keeps the cell until the test resumes it
                return Outcome.blocked();
            }
            grid.release(ctx, take, 7);
            return Outcome.done();
        });
        final Pipeline<Integer> pipeline = b.workers(2).onComplete(this::complete).build().start();
        try
        {
            pipeline.submit(1);
            final Suspension owner = holding.poll(10, TimeUnit.SECONDS);
            final CancelToken token = new CancelToken();
            pipeline.submit(2, token);
            waitUntil(() -> grid.report().contended() >= 1); // request 2 is parked on the cell
            token.cancel();
            cancelled(outcome(2));
            pipeline.submit(3); // waits behind request 1, and must get the cell next, not the cancelled 2
            owner.resume(Outcome.done()); // request 1 completes holding the cell: the runtime releases it
            assertNull(outcome(3).get(10, TimeUnit.SECONDS));
            assertEquals(2, criticalSections.get(), "requests 1 and 3 ran the critical section, 2 never did");
        }
        finally
        {
            pipeline.shutdown(Duration.ofSeconds(10));
        }
    }

    @Test
    @Timeout(60)
    void aPassedDeadlineStopsTheRequestBeforeItsNextStage() throws Exception
    {
        final AtomicInteger secondRan = new AtomicInteger();
        // The deadline is long enough that the request reaches 'slow' before it on a loaded machine
        // (a 5 ms deadline sometimes passed before the first stage: the error then named 'slow'),
        // and 'slow' runs until the deadline has passed, so the boundary after it always sees it.
        final CancelToken token = new CancelToken().deadlineAfter(Duration.ofSeconds(1));
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> slow = b.stage("slow", Placement.blocking(1));
        final StageRef<Integer> after = b.stage("after");
        b.handle(slow, (id, ctx) ->
        {
            while (!token.isExpired(System.nanoTime()))
            {
                Thread.sleep(5);
            }
            return Outcome.next(after);
        }).handle(after, (id, ctx) ->
        {
            secondRan.incrementAndGet();
            return Outcome.done();
        });
        final Pipeline<Integer> pipeline = b.workers(1).onComplete(this::complete).build().start();
        try
        {
            pipeline.submit(1, token);
            final RequestCancelledException error = cancelled(outcome(1));
            assertEquals(RequestCancelledException.Reason.DEADLINE_EXCEEDED, error.reason());
            assertTrue(error.getMessage().contains("'after'"), error.getMessage());
            assertEquals(0, secondRan.get());
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }

    @Test
    @Timeout(60)
    void aTokenCancelledBeforeSubmitStopsTheRequestAtItsFirstStage() throws Exception
    {
        final AtomicInteger ran = new AtomicInteger();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        b.handle(b.stage("only"), (id, ctx) -> { ran.incrementAndGet(); return Outcome.done(); });
        final Pipeline<Integer> pipeline = b.workers(1).onComplete(this::complete).build().start();
        try
        {
            final CancelToken token = new CancelToken();
            token.cancel();
            pipeline.submit(1, token);
            cancelled(outcome(1));
            assertEquals(0, ran.get());
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }

    @Test
    @Timeout(60)
    void aTokenServesOneRequestAtATime() throws Exception
    {
        final LinkedBlockingQueue<Suspension> parked = new LinkedBlockingQueue<>();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        b.handle(b.stage("park"), (id, ctx) -> { parked.add(ctx.suspend()); return Outcome.blocked(); });
        final Pipeline<Integer> pipeline = b.workers(1).onComplete(this::complete).build().start();
        try
        {
            final CancelToken token = new CancelToken();
            pipeline.submit(1, token);
            final Suspension s = parked.poll(10, TimeUnit.SECONDS);
            final IllegalStateException e = assertThrows(IllegalStateException.class, () -> pipeline.submit(2, token));
            assertTrue(e.getMessage().contains("reset()"), e.getMessage());
            assertThrows(IllegalStateException.class, token::reset);
            s.resume(Outcome.done());
            assertNull(outcome(1).get(10, TimeUnit.SECONDS));
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }

    static void waitUntil(final java.util.function.BooleanSupplier condition) throws InterruptedException
    {
        for (int i = 0; i < 10_000 && !condition.getAsBoolean(); i++)
        {
            Thread.sleep(1);
        }
        assertTrue(condition.getAsBoolean(), "condition not reached within the liveness bound");
    }
}
