package io.millrace;

import io.millrace.metrics.MetricsSnapshot;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import io.millrace.testing.CapturedLog;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StageErrorTest
{
    static final class Boom extends RuntimeException
    {
        Boom(final int id)
        {
            super("request " + id + " is a multiple of 10");
        }
    }

    @Test
    void aStageThrowingOnEveryTenthRequestFailsOnlyThoseAndTheWorkerLivesOn()
    {
        final int requests = 20_000;
        final AtomicLong ok = new AtomicLong();
        final AtomicLong failedWithBoom = new AtomicLong();
        final AtomicLong wrong = new AtomicLong();
        final Set<Thread> threadsBefore = ConcurrentHashMap.newKeySet();
        final Set<Thread> threadsAfter = ConcurrentHashMap.newKeySet();
        final int half = requests / 2;

        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> check = b.stage("check");
        final StageRef<Integer> fragile = b.stage("fragile-stage");
        b.handle(check, (id, ctx) -> Outcome.next(fragile)).handle(fragile, (id, ctx) ->
        {
            (id < half ? threadsBefore : threadsAfter).add(Thread.currentThread());
            if (id % 10 == 0)
            {
                throw new Boom(id);
            }
            return Outcome.done();
        });
        final Pipeline<Integer> pipeline = b.name("errors").workers(1).ringSize(256)
            .onComplete((id, error) ->
            {
                if (error == null && id % 10 != 0)
                {
                    ok.incrementAndGet();
                }
                else if (error != null && id % 10 == 0)
                {
                    assertInstanceOf(Boom.class, error);
                    failedWithBoom.incrementAndGet();
                }
                else
                {
                    wrong.incrementAndGet();
                }
            }).build().start();

        for (int i = 0; i < requests; i++)
        {
            Submit.untilAccepted(pipeline, i);
        }
        assertTrue(pipeline.shutdown(Duration.ofSeconds(30)).clean());

        assertEquals(requests - requests / 10, ok.get());
        assertEquals(requests / 10, failedWithBoom.get());
        assertEquals(0, wrong.get());
        assertEquals(1, threadsBefore.size());
        assertEquals(threadsBefore, threadsAfter, "the same worker thread ran the stage before and after the errors");

        final MetricsSnapshot m = pipeline.metrics();
        assertEquals(requests / 10, m.stage("fragile-stage").errors());
        assertEquals(requests, m.stage("fragile-stage").dispatches());
        assertEquals(requests / 10, m.failed());

        final long lines = CapturedLog.lines("stage 'fragile-stage'").size();
        assertTrue(lines >= 1, "the first error is logged");
        // At most one line per second for the stage: the run takes seconds at most, 2,000 errors.
        assertTrue(lines <= 1 + m.stage("fragile-stage").serviceTimeNanos().getTotalCount() / 1000 && lines < 30,
            "error logging is rate limited, saw " + lines + " lines for 2000 errors");
    }

    @Test
    void aThrowingCompletionListenerIsLoggedAndDoesNotStopTheWorker()
    {
        final AtomicLong calls = new AtomicLong();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        b.handle(b.stage("only"), (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.name("listener").workers(1)
            .onComplete((id, error) ->
            {
                calls.incrementAndGet();
                throw new IllegalArgumentException("listener bug");
            }).build().start();
        for (int i = 0; i < 1000; i++)
        {
            Submit.untilAccepted(pipeline, i);
        }
        assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        assertEquals(1000, calls.get());
        assertTrue(CapturedLog.lines("completion listener of pipeline 'listener'").size() >= 1);
    }
}
