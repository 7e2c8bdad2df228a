package io.millrace.hardening;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.stage.EndOfTurnHook;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import io.millrace.stage.Suspension;
import io.millrace.stage.WorkerTimers;
import io.millrace.testing.Submit;
import io.millrace.worker.WorkerIo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runtime services stages build on: worker timers, end-of-turn hooks, and intake from a
 * worker's own thread without a ring publish.
 */
class WorkerServicesTest
{
    @Test
    @Timeout(60)
    void aTimerFiresOnTheWorkerAndResumesAParkedRequestEvenWhenTheWorkerIsIdle() throws Exception
    {
        final CompletableFuture<Thread> firedOn = new CompletableFuture<>();
        final AtomicReference<Thread> stageThread = new AtomicReference<>();
        final CountDownLatch done = new CountDownLatch(1);
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> wait = b.stage("wait");
        b.handle(wait, (id, ctx) ->
        {
            stageThread.set(Thread.currentThread());
            final Suspension s = ctx.suspend();
            ctx.timers().scheduleAfter(TimeUnit.MILLISECONDS.toNanos(20), (timerId, now) ->
            {
                firedOn.complete(Thread.currentThread());
                s.resume(Outcome.done());
            });
            return Outcome.blocked();
        });
        final Pipeline<Integer> pipeline = b.workers(1).onComplete((id, e) -> done.countDown()).build().start();
        try
        {
            pipeline.submit(1);
            assertTrue(done.await(10, TimeUnit.SECONDS), "the parked worker woke for its timer");
            assertEquals(stageThread.get(), firedOn.get(), "the timer ran on the worker, not a timer thread");
            assertEquals(1, pipeline.metrics().workers().get(0).localResumes(), "a resume on the worker itself skips the ring");
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }

    @Test
    @Timeout(60)
    void aCancelledTimerNeverFiresAndAThrowingOneLeavesTheWorkerServing() throws Exception
    {
        final AtomicInteger fired = new AtomicInteger();
        final CountDownLatch done = new CountDownLatch(3);
        final PipelineBuilder<Integer> b = Pipeline.builder();
        b.handle(b.stage("timers"), (id, ctx) ->
        {
            final WorkerTimers timers = ctx.timers();
            if (id == 1)
            {
                final long t = timers.scheduleAfter(TimeUnit.MILLISECONDS.toNanos(5), (timerId, now) -> fired.incrementAndGet());
                assertTrue(timers.cancel(t));
                assertFalse(timers.cancel(t));
            }
            else if (id == 2)
            {
                timers.scheduleAfter(0, (timerId, now) -> { throw new AssertionError("timer callback fails"); });
            }
            return Outcome.done();
        });
        final Pipeline<Integer> pipeline = b.workers(1).onComplete((id, e) -> done.countDown()).build().start();
        try
        {
            pipeline.submit(1);
            pipeline.submit(2);
            Thread.sleep(50);
            pipeline.submit(3);
            assertTrue(done.await(10, TimeUnit.SECONDS), "the worker still serves after a timer callback threw");
            assertEquals(0, fired.get());
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }

    @Test
    @Timeout(60)
    void timersRefuseForeignThreadsWithTheRemedy() throws Exception
    {
        final CompletableFuture<WorkerTimers> leaked = new CompletableFuture<>();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        b.handle(b.stage("leak"), (id, ctx) -> { leaked.complete(ctx.timers()); return Outcome.done(); });
        final Pipeline<Integer> pipeline = b.workers(1).build().start();
        try
        {
            pipeline.submit(1);
            final WorkerTimers timers = leaked.get(10, TimeUnit.SECONDS);
            final IllegalStateException e = assertThrows(IllegalStateException.class, () -> timers.scheduleAfter(1, (t, n) -> { }));
            assertTrue(e.getMessage().contains("from code running on that worker"), e.getMessage());
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }

    @Test
    @Timeout(60)
    void anEndOfTurnHookRunsOnceAfterEveryRequestOfItsTurnAndCanCompleteThem() throws Exception
    {
        // Group commit in miniature: each request parks and registers the same hook; the hook
        // "commits" once for everything parked in the turn and resumes them all.
        final int requests = 5_000;
        final List<Suspension> batch = new ArrayList<>();
        final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
        final CountDownLatch done = new CountDownLatch(requests);
        final AtomicInteger errors = new AtomicInteger();
        final EndOfTurnHook commit = () ->
        {
            batchSizes.add(batch.size());
            for (final Suspension s : batch)
            {
                s.resume(Outcome.done());
            }
            batch.clear();
        };
        final PipelineBuilder<Integer> b = Pipeline.builder();
        b.handle(b.stage("append"), (id, ctx) ->
        {
            batch.add(ctx.suspend()); // the worker owns batch: no lock
            ctx.atEndOfTurn(commit);
            ctx.atEndOfTurn(commit); // registered twice, runs once
            return Outcome.blocked();
        });
        final Pipeline<Integer> pipeline = b.workers(1).ringSize(1024)
            .onComplete((id, e) -> { if (e != null) errors.incrementAndGet(); done.countDown(); }).build().start();
        try
        {
            for (int i = 0; i < requests; i++)
            {
                Submit.untilAccepted(pipeline, i);
            }
            assertTrue(done.await(30, TimeUnit.SECONDS));
            assertEquals(0, errors.get());
            assertEquals(requests, batchSizes.stream().mapToInt(Integer::intValue).sum(), "every request committed exactly once");
            assertTrue(batchSizes.stream().allMatch(n -> n > 0), "the hook ran only in turns that registered it");
            assertTrue(batchSizes.size() < requests, "turns batch several requests: " + batchSizes.size() + " commits");
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }

    @Test
    @Timeout(60)
    void aSubmitFromTheWorkersOwnIoTakesNoRingSlot() throws Exception
    {
        // Like the transport: the worker's I/O poll submits requests whose stages all run on it.
        final int requests = 10_000;
        final CountDownLatch done = new CountDownLatch(requests);
        final AtomicReference<Pipeline<Integer>> self = new AtomicReference<>();
        final AtomicInteger submitted = new AtomicInteger();
        final AtomicInteger refused = new AtomicInteger();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> parse = b.stage("parse");
        final StageRef<Integer> respond = b.stage("respond");
        b.handle(parse, (id, ctx) -> Outcome.next(respond)).handle(respond, (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.workers(1).maxInFlight(256)
            .io((threads, allocators, timers) -> new WorkerIo[] {new WorkerIo()
            {
                @Override
                public int poll()
                {
                    final Pipeline<Integer> p = self.get();
                    int n = 0;
                    while (p != null && n < 64 && submitted.get() < requests)
                    {
                        if (!p.submit(submitted.get()).accepted())
                        {
                            refused.incrementAndGet();
                            break;
                        }
                        submitted.incrementAndGet();
                        n++;
                    }
                    return n;
                }

                @Override
                public void park(final long maxNanos)
                {
                    java.util.concurrent.locks.LockSupport.parkNanos(maxNanos);
                }

                @Override
                public void wakeup()
                {
                }

                @Override
                public void stopIntake()
                {
                }

                @Override
                public void close()
                {
                }
            }})
            .memory(io.millrace.memory.SlabArena.builder().build())
            .onComplete((id, e) -> done.countDown()).build();
        self.set(pipeline);
        pipeline.start();
        try
        {
            assertTrue(done.await(30, TimeUnit.SECONDS));
            final MetricsSnapshot m = pipeline.metrics();
            assertEquals(0, m.workers().get(0).publishesReceived(), "no request went through the ring");
            assertEquals(requests, m.workers().get(0).localSubmits());
            assertEquals(requests, m.completed());
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }

    @Test
    @Timeout(60)
    void aSubmitFromInsideAStageRunsAfterThatStageReturns() throws Exception
    {
        final List<String> order = new CopyOnWriteArrayList<>();
        final CountDownLatch done = new CountDownLatch(2);
        final AtomicReference<Pipeline<Integer>> self = new AtomicReference<>();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        b.handle(b.stage("only"), (id, ctx) ->
        {
            order.add("enter " + id);
            if (id == 1)
            {
                assertTrue(self.get().submit(2).accepted());
            }
            order.add("leave " + id);
            return Outcome.done();
        });
        final Pipeline<Integer> pipeline = b.workers(1).onComplete((id, e) -> { assertNull(e); done.countDown(); }).build();
        self.set(pipeline);
        pipeline.start();
        try
        {
            pipeline.submit(1);
            assertTrue(done.await(10, TimeUnit.SECONDS));
            assertEquals(List.of("enter 1", "leave 1", "enter 2", "leave 2"), order, "no re-entrant dispatch");
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }

}
