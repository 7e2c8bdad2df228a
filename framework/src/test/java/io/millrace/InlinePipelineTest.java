package io.millrace;

import io.millrace.metrics.MetricsSnapshot;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InlinePipelineTest
{
    static final int REQUESTS = 1_000_000;
    static final int STAGES = 5;

    static final class Request
    {
        int id;
        int stagesSeen;
        Thread firstThread;
        boolean switchedThread;
    }

    @Test
    void fiveInlineStagesRunAMillionRequestsWithoutAnyPublishAfterEntry()
    {
        final AtomicIntegerArray completions = new AtomicIntegerArray(REQUESTS);
        final AtomicLong badRequests = new AtomicLong();
        final PipelineBuilder<Request> b = Pipeline.builder();
        @SuppressWarnings("unchecked")
        final StageRef<Request>[] stages = new StageRef[STAGES];
        for (int i = 0; i < STAGES; i++)
        {
            stages[i] = b.stage("s" + i);
        }
        for (int i = 0; i < STAGES; i++)
        {
            final Outcome next = i + 1 < STAGES ? Outcome.next(stages[i + 1]) : Outcome.done();
            b.handle(stages[i], (r, ctx) ->
            {
                if (r.firstThread == null)
                {
                    r.firstThread = Thread.currentThread();
                }
                else if (r.firstThread != Thread.currentThread())
                {
                    r.switchedThread = true;
                }
                r.stagesSeen++;
                return next;
            });
        }
        final Pipeline<Request> pipeline = b.name("inline").workers(2).ringSize(1024)
            .onComplete((r, error) ->
            {
                if (error != null || r.stagesSeen != STAGES || r.switchedThread)
                {
                    badRequests.incrementAndGet();
                }
                completions.incrementAndGet(r.id);
            })
            .build().start();

        for (int i = 0; i < REQUESTS; i++)
        {
            final Request r = new Request();
            r.id = i;
            Submit.untilAccepted(pipeline, r);
        }
        final ShutdownReport report = pipeline.shutdown(Duration.ofSeconds(60));
        assertTrue(report.clean(), "shutdown should drain everything: " + report);

        for (int i = 0; i < REQUESTS; i++)
        {
            assertEquals(1, completions.get(i), "request " + i + " must complete exactly once");
        }
        assertEquals(0, badRequests.get(), "every request runs all 5 stages on one thread, without error");

        final MetricsSnapshot m = pipeline.metrics();
        assertEquals(REQUESTS, m.submitsReceived(), "one ring publish per request, at entry");
        assertEquals(0, m.internalPublishes(), "an inline pipeline publishes nothing after entry");
        assertEquals(0, m.workers().stream().mapToLong(w -> w.publishesSent()).sum());
        assertEquals(REQUESTS, m.completed());
        for (int i = 0; i < STAGES; i++)
        {
            assertEquals(REQUESTS, m.stage("s" + i).dispatches());
            assertEquals(REQUESTS, m.stage("s" + i).requests());
            assertEquals(0, m.stage("s" + i).errors());
            assertEquals(REQUESTS, m.stage("s" + i).serviceTimeNanos().getTotalCount());
        }
    }
}
