package io.millrace.jfr;

import io.millrace.Idle;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Millrace's events cost no allocation while a JFR recording runs without them: the JDK's default
 * settings are recording (so the event classes are instrumented and the probes are live), every
 * Millrace event is disabled, and a pipeline whose requests hop between two workers (inline stage,
 * partitioned stage, ring publish) allocates under a byte per request on its own threads. Counted
 * with the JVM's per-thread allocation counters, as in {@code HttpServerAllocationTest}; nothing is
 * timed.
 */
class JfrDisabledAllocationTest
{
    private static final int WARM_UP = 20_000;
    private static final int MEASURED = 50_000;

    /** A request; {@code garbage} makes the control stage allocate. */
    static final class Req
    {
        final int key;
        boolean garbage;
        long[] made;

        Req(final int key)
        {
            this.key = key;
        }
    }

    @Test
    @Timeout(120)
    void disabledEventsAllocateNothingOnTheWorkersWhileARecordingRuns() throws Exception
    {
        try (Recording recording = new Recording(Configuration.getConfiguration("default")))
        {
            for (final String name : new String[] {StageDispatchEvent.NAME, RingHopEvent.NAME, WorkerParkEvent.NAME,
                LockWaitEvent.NAME, SlabExhaustedEvent.NAME, LeakReportEvent.NAME, RequestRejectedEvent.NAME})
            {
                recording.disable(name);
            }
            recording.start();

            final AtomicLong completed = new AtomicLong();
            final PipelineBuilder<Req> b = Pipeline.builder();
            final StageRef<Req> parse = b.stage("parse");
            final StageRef<Req> owner = b.stage("owner", Placement.partitioned(r -> r.key));
            b.handle(parse, (r, ctx) ->
            {
                if (r.garbage)
                {
                    r.made = new long[4]; // the control: an allocation the count must see
                }
                return Outcome.next(owner);
            }).handle(owner, (r, ctx) -> Outcome.done());
            final Pipeline<Req> pipeline = b.name("jfr-alloc-test").workers(2).partitions(2).idle(Idle.backoff())
                .onComplete((r, e) -> completed.incrementAndGet()).build().start();
            try
            {
                final Req[] requests = new Req[64];
                for (int i = 0; i < requests.length; i++)
                {
                    requests[i] = new Req(i);
                }
                run(pipeline, requests, completed, WARM_UP);
                final long before = pipelineThreadsAllocated();
                run(pipeline, requests, completed, MEASURED);
                final double perRequest = (double)(pipelineThreadsAllocated() - before) / MEASURED;

                for (final Req r : requests)
                {
                    r.garbage = true;
                }
                final long controlBefore = pipelineThreadsAllocated();
                run(pipeline, requests, completed, MEASURED);
                final double control = (double)(pipelineThreadsAllocated() - controlBefore) / MEASURED;

                System.out.printf("allocated per request by the workers with a recording running: %.3f B (control %.1f B)%n",
                    perRequest, control);
                assertTrue(perRequest < 1.0, "disabled events allocate nothing: " + perRequest + " B per request");
                assertTrue(control >= 32, "the count sees a stage's allocation: " + control + " B per request");
            }
            finally
            {
                pipeline.shutdown(Duration.ofSeconds(5));
            }
        }
    }

    /**
     * Submits {@code count} requests, at most about the array's length in flight, and waits for them
     * all. The request objects are reused; the stages keep no state in them but the control's array.
     */
    private static void run(final Pipeline<Req> pipeline, final Req[] requests, final AtomicLong completed, final int count)
    {
        final long start = completed.get();
        for (int i = 0; i < count; i++)
        {
            while (i - (completed.get() - start) >= requests.length)
            {
                Thread.onSpinWait();
            }
            while (!pipeline.submit(requests[i % requests.length]).accepted())
            {
                Thread.onSpinWait();
            }
        }
        while (completed.get() - start < count)
        {
            Thread.onSpinWait();
        }
    }

    private static long pipelineThreadsAllocated()
    {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        long sum = 0;
        int found = 0;
        for (final Thread t : Thread.getAllStackTraces().keySet())
        {
            if (t.getName().startsWith("jfr-alloc-test"))
            {
                sum += threads.getThreadAllocatedBytes(t.threadId());
                found++;
            }
        }
        assertTrue(found >= 2, "the workers' threads are named after the pipeline");
        return sum;
    }
}
