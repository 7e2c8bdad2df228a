package io.millrace;

import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import io.millrace.stage.Suspension;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShutdownTest
{
    @Test
    void tenThousandInFlightRequestsAllDrainBeforeTheDeadline() throws Exception
    {
        final int requests = 10_000;
        final CountDownLatch gate = new CountDownLatch(1);
        final AtomicLong completed = new AtomicLong();
        final List<Suspension> parked = new CopyOnWriteArrayList<>();

        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> hold = b.stage("hold");
        final StageRef<Integer> finish = b.stage("finish");
        b.handle(hold, (id, ctx) ->
        {
            if (gate.getCount() > 0)
            {
                parked.add(ctx.suspend()); // held until the test releases them all at once
                return Outcome.blocked();
            }
            return Outcome.next(finish);
        }).handle(finish, (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.name("drain").workers(2).ringSize(32_768)
            .onComplete((id, e) -> completed.incrementAndGet()).build().start();

        for (int i = 0; i < requests; i++)
        {
            Submit.untilAccepted(pipeline, i);
        }
        while (parked.size() < requests)
        {
            Thread.onSpinWait();
        }
        assertEquals(requests, pipeline.metrics().inFlight());

        final Thread releaser = Thread.ofPlatform().start(() ->
        {
            try
            {
                Thread.sleep(50); // shutdown is already waiting when the requests move again
            }
            catch (final InterruptedException ignored)
            {
                return;
            }
            gate.countDown();
            for (final Suspension s : parked)
            {
                s.resume(Outcome.next(finish));
            }
        });
        final ShutdownReport report = pipeline.shutdown(Duration.ofSeconds(60));
        releaser.join();

        assertEquals(requests, report.inFlightAtStart());
        assertEquals(0, report.dropped());
        assertEquals(requests, report.drained());
        assertEquals(0, report.stuckThreads());
        assertEquals(requests, completed.get());
        assertEquals(SubmitResult.REJECTED_NOT_RUNNING, pipeline.submit(1), "intake stays closed");
    }

    @Test
    void aRequestThatNeverFinishesIsAbortedAtTheDeadlineAndCompletesExactlyOnce()
    {
        final CountDownLatch forever = new CountDownLatch(1);
        final AtomicLong completed = new AtomicLong();
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> route = b.stage("route");
        final StageRef<Integer> stuck = b.stage("stuck", Placement.blocking(1));
        b.handle(route, (id, ctx) -> id == 0 ? Outcome.next(stuck) : Outcome.done())
            .handle(stuck, (id, ctx) ->
            {
                forever.await(); // interrupted by shutdown
                return Outcome.done();
            });
        final Pipeline<Integer> pipeline = b.name("stuck").workers(1)
            .onComplete((id, e) ->
            {
                completed.incrementAndGet();
                if (e != null)
                {
                    errors.add(e);
                }
            }).build().start();
        for (int i = 0; i < 100; i++)
        {
            Submit.untilAccepted(pipeline, i);
        }
        while (completed.get() < 99)
        {
            Thread.onSpinWait();
        }
        final long begin = System.nanoTime();
        final ShutdownReport report = pipeline.shutdown(Duration.ofMillis(300));
        final long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);

        assertEquals(1, report.inFlightAtStart());
        assertEquals(1, report.aborted(), "the stuck request is completed with an error, not dropped");
        assertEquals(0, report.dropped());
        assertTrue(report.elapsed().toMillis() >= 300, "waited for the deadline: " + report.elapsed());
        // Not a speed check: a shutdown that ignored its deadline would never return at all.
        assertTrue(tookMillis < 60_000, "returned after the deadline, took " + tookMillis + " ms");
        assertEquals(100, completed.get(), "every accepted request completed, the stuck one with an error");
        assertEquals(1, errors.size());
        assertTrue(errors.get(0) instanceof PipelineAbortedException, errors.toString());
        assertTrue(errors.get(0).getMessage().contains("blocking stage 'stuck'"), errors.get(0).getMessage());
    }

    @Test
    void aParkedRequestThatIsNeverResumedIsAbortedAndTheReportIsStable()
    {
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final AtomicLong aborted = new AtomicLong();
        final List<Suspension> lost = new CopyOnWriteArrayList<>();
        b.handle(b.stage("park"), (id, ctx) ->
        {
            lost.add(ctx.suspend());
            return Outcome.blocked();
        });
        final Pipeline<Integer> pipeline = b.name("park").workers(1)
            .onComplete((id, e) ->
            {
                if (e instanceof PipelineAbortedException)
                {
                    aborted.incrementAndGet();
                }
            }).build().start();
        for (int i = 0; i < 3; i++)
        {
            Submit.untilAccepted(pipeline, i);
        }
        while (lost.size() < 3)
        {
            Thread.onSpinWait();
        }
        final ShutdownReport report = pipeline.shutdown(Duration.ofMillis(100));
        assertEquals(3, report.aborted());
        assertEquals(0, report.dropped());
        assertEquals(3, aborted.get(), "each parked request completed once, with the abort error");
        assertEquals(0, report.stuckThreads());
        // A late resume finds the suspension withdrawn and says so, instead of reaching a dead worker.
        assertThrows(IllegalStateException.class, () -> lost.get(0).resume(Outcome.done()));
        assertEquals(report, pipeline.shutdown(Duration.ofSeconds(1)), "shutdown is idempotent");
    }
}
