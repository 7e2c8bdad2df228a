package io.millrace;

import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import io.millrace.stage.Suspension;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SuspensionTest
{
    @Test
    void aSuspendedRequestResumedFromAnotherThreadContinuesOnItsHomeWorker() throws Exception
    {
        final int requests = 2_000;
        final LinkedBlockingQueue<Suspension> resource = new LinkedBlockingQueue<>();
        final Map<Integer, Thread> home = new ConcurrentHashMap<>();
        final List<String> problems = new CopyOnWriteArrayList<>();
        final CountDownLatch done = new CountDownLatch(requests);

        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> waitFor = b.stage("wait");
        final StageRef<Integer> carryOn = b.stage("carry-on");
        b.handle(waitFor, (id, ctx) ->
        {
            home.put(id, Thread.currentThread());
            resource.add(ctx.suspend());
            return Outcome.blocked();
        }).handle(carryOn, (id, ctx) ->
        {
            if (home.get(id) != Thread.currentThread())
            {
                problems.add(id + " resumed on another thread");
            }
            return Outcome.done();
        });
        final Pipeline<Integer> pipeline = b.name("susp").workers(2).ringSize(8192)
            .onComplete((id, error) ->
            {
                if (error != null)
                {
                    problems.add(id + " failed: " + error);
                }
                done.countDown();
            }).build().start();

        final Thread freer = Thread.ofPlatform().start(() ->
        {
            for (int i = 0; i < requests; i++)
            {
                try
                {
                    resource.take().resume(Outcome.next(carryOn));
                }
                catch (final InterruptedException ex)
                {
                    return;
                }
            }
        });
        for (int i = 0; i < requests; i++)
        {
            Submit.untilAccepted(pipeline, i);
        }
        assertTrue(done.await(60, TimeUnit.SECONDS));
        freer.join();
        assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        assertEquals(List.of(), problems);
        assertEquals(requests, pipeline.metrics().internalPublishes(), "each resume is one publish home");
    }

    @Test
    void misuseCompletesTheRequestWithAnErrorThatSaysWhatToDo() throws Exception
    {
        final Map<String, Throwable> errors = new ConcurrentHashMap<>();
        final CountDownLatch done = new CountDownLatch(4);
        final List<Suspension> kept = new CopyOnWriteArrayList<>();

        final PipelineBuilder<String> b = Pipeline.builder();
        final StageRef<String> stage = b.stage("misuse");
        b.handle(stage, (r, ctx) -> switch (r)
        {
            case "blocked-without-suspend" -> Outcome.blocked();
            case "null" -> null;
            case "suspend-then-done" ->
            {
                kept.add(ctx.suspend());
                yield Outcome.done();
            }
            default -> Outcome.done();
        });
        final Pipeline<String> pipeline = b.name("misuse").workers(1)
            .onComplete((r, error) ->
            {
                if (error != null)
                {
                    errors.put(r, error);
                }
                done.countDown();
            }).build().start();
        for (final String r : List.of("blocked-without-suspend", "null", "suspend-then-done", "fine"))
        {
            Submit.untilAccepted(pipeline, r);
        }
        assertTrue(done.await(30, TimeUnit.SECONDS));
        pipeline.shutdown(Duration.ofSeconds(5));

        assertInstanceOf(IllegalStateException.class, errors.get("blocked-without-suspend"));
        assertTrue(errors.get("blocked-without-suspend").getMessage().contains("without calling suspend()"));
        assertTrue(errors.get("null").getMessage().contains("returned null"));
        assertTrue(errors.get("suspend-then-done").getMessage().contains("must return Outcome.blocked()"));
        assertNull(errors.get("fine"));
        assertEquals(3, pipeline.metrics().stage("misuse").errors());

        final IllegalStateException late = assertThrows(IllegalStateException.class, () -> kept.get(0).resume(Outcome.done()));
        assertTrue(late.getMessage().contains("exactly once"), late.getMessage());
    }

    @Test
    void resumingTwiceThrowsAndTheRequestCompletesOnce() throws Exception
    {
        final List<Suspension> kept = new CopyOnWriteArrayList<>();
        final CountDownLatch done = new CountDownLatch(1);
        final PipelineBuilder<String> b = Pipeline.builder();
        b.handle(b.stage("park"), (r, ctx) ->
        {
            kept.add(ctx.suspend());
            return Outcome.blocked();
        });
        final Pipeline<String> pipeline = b.name("twice").workers(1).onComplete((r, e) -> done.countDown()).build().start();
        Submit.untilAccepted(pipeline, "r");
        while (kept.isEmpty())
        {
            Thread.onSpinWait();
        }
        kept.get(0).resume(Outcome.done());
        assertThrows(IllegalStateException.class, () -> kept.get(0).resume(Outcome.done()));
        assertThrows(IllegalArgumentException.class, () -> kept.get(0).resume(Outcome.blocked()));
        assertTrue(done.await(30, TimeUnit.SECONDS));
        assertTrue(pipeline.shutdown(Duration.ofSeconds(5)).clean());
        assertEquals(1, pipeline.metrics().completed());
    }
}
