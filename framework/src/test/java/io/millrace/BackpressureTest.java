package io.millrace;

import io.millrace.metrics.MetricsSnapshot;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackpressureTest
{
    static final int PRODUCERS = 4;
    static final int PER_PRODUCER = 50_000;

    @Test
    void aFloodedRingOfEightSlotsRejectsExplicitlyAndLosesNothing() throws Exception
    {
        final int total = PRODUCERS * PER_PRODUCER;
        final AtomicIntegerArray completions = new AtomicIntegerArray(total);
        final AtomicIntegerArray accepted = new AtomicIntegerArray(total);
        final AtomicLong rejected = new AtomicLong();

        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> first = b.stage("first");
        final StageRef<Integer> owner = b.stage("owner", Placement.partitioned(2, i -> i));
        b.handle(first, (i, ctx) -> Outcome.next(owner))
            .handle(owner, (i, ctx) ->
            {
                if ((i & 1023) == 0)
                {
                    Thread.yield(); // let the ring fill up now and then
                }
                return Outcome.done();
            });
        final Pipeline<Integer> pipeline = b.name("flood").workers(2).ringSize(8)
            .onComplete((i, error) -> completions.incrementAndGet(i)).build().start();

        final List<Thread> producers = new ArrayList<>();
        for (int p = 0; p < PRODUCERS; p++)
        {
            final int base = p * PER_PRODUCER;
            producers.add(Thread.ofPlatform().name("producer-" + p).start(() ->
            {
                for (int i = base; i < base + PER_PRODUCER; i++)
                {
                    final SubmitResult result = pipeline.submit(i);
                    if (result.accepted())
                    {
                        accepted.incrementAndGet(i);
                    }
                    else
                    {
                        assertEquals(SubmitResult.REJECTED_OVERLOADED, result);
                        rejected.incrementAndGet();
                    }
                }
            }));
        }
        for (final Thread t : producers)
        {
            t.join();
        }
        assertEquals(List.of("flood-worker-0", "flood-worker-1"), Thread.getAllStackTraces().keySet().stream()
            .map(Thread::getName).filter(n -> n.startsWith("flood-")).sorted().toList(),
            "exactly the configured workers, named, and no thread added under load");
        assertTrue(pipeline.shutdown(Duration.ofSeconds(30)).clean());

        long completed = 0;
        for (int i = 0; i < total; i++)
        {
            final int c = completions.get(i);
            assertTrue(c <= 1, "request " + i + " completed " + c + " times");
            assertEquals(accepted.get(i), c, "request " + i + ": completed iff accepted");
            completed += c;
        }
        assertEquals(total, completed + rejected.get(), "completed + rejected == submitted");
        assertTrue(rejected.get() > 0, "a ring of 8 slots under 4 producers must refuse some requests");
        final MetricsSnapshot m = pipeline.metrics();
        assertEquals(rejected.get(), m.rejectedOverloaded());
        assertEquals(completed, m.completed());
        assertEquals(4, m.maxInFlight(), "the in-flight bound defaults to half the ring");
    }

    @Test
    void submitBeforeStartAndAfterShutdownIsRefusedAsNotRunning()
    {
        final PipelineBuilder<String> b = Pipeline.builder();
        b.handle(b.stage("only"), (r, ctx) -> Outcome.done());
        final Pipeline<String> pipeline = b.workers(1).build();
        assertEquals(SubmitResult.REJECTED_NOT_RUNNING, pipeline.submit("early"));
        pipeline.start();
        assertEquals(SubmitResult.ACCEPTED, pipeline.submit("ok"));
        pipeline.shutdown(Duration.ofSeconds(5));
        assertEquals(SubmitResult.REJECTED_NOT_RUNNING, pipeline.submit("late"));
        assertEquals(2, pipeline.metrics().rejectedNotRunning());
    }
}
