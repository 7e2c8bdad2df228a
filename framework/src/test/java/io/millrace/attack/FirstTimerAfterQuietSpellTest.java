package io.millrace.attack;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.SubmitResult;
import io.millrace.stage.Outcome;
import org.agrona.DeadlineTimerWheel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The first worker timer after a long spell without timers stalls the worker.
 *
 * <p>Expected: no turn of the worker loop is long; {@code WorkerTimerWheel.poll} even says so: "Keep
 * the wheel's clock near now, so that a timer set after a long quiet spell does not make the next
 * poll walk every tick in between."
 *
 * <p>Actual: that branch is dead code. {@code Worker.doWork} calls {@code timers.poll} only when
 * {@code timers.pending() > 0}, so while no timer is pending nothing advances the Agrona wheel, whose
 * current tick stays where it was (tick 0 for a worker that never had a timer). The first timer
 * that is not yet due after N hours (a request timeout, say) makes one poll walk N * 3.4 million
 * ticks (1 tick = 2^20 ns) inside the do/while of {@code WorkerTimerWheel.poll}, in a single turn:
 * about 1.8 s per day of uptime on this machine, during which the worker serves nothing. This test
 * stands in for 24 hours of uptime by building each worker's wheel with a start time 24 h in the past
 * (exactly the state of a worker started a day ago that never scheduled a timer), schedules a 30 s
 * timeout from request 1 and measures how long request 2, submitted right after, takes.
 */
class FirstTimerAfterQuietSpellTest
{
    @Test
    @Timeout(120)
    void theFirstTimerAfterADayWithoutTimersDoesNotStallTheWorker() throws Exception
    {
        final CompletableFuture<Long> second = new CompletableFuture<>();
        final PipelineBuilder<Integer> b = Pipeline.builder();
        b.handle(b.stage("timer"), (id, ctx) ->
        {
            if (id == 1)
            {
                ctx.timers().scheduleAfter(TimeUnit.SECONDS.toNanos(30), (t, now) -> { }); // a request timeout
            }
            return Outcome.done();
        });
        final long[] submitted = new long[1];
        final Pipeline<Integer> pipeline = b.name("quiet").workers(1)
            .onComplete((id, e) ->
            {
                if (id == 2)
                {
                    second.complete(System.nanoTime() - submitted[0]);
                }
            }).build();
        simulateUptimeWithoutTimers(pipeline, TimeUnit.HOURS.toNanos(24));
        pipeline.start();
        try
        {
            // Warm up the path (no timer), so that what is measured is the stall, not class loading.
            for (int i = 100; i < 2_100; i++)
            {
                while (pipeline.submit(i) != SubmitResult.ACCEPTED)
                {
                    Thread.onSpinWait();
                }
            }
            Thread.sleep(200);
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(1));
            submitted[0] = System.nanoTime();
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(2));
            final long nanos = second.get(100, TimeUnit.SECONDS);
            assertTrue(nanos < TimeUnit.MILLISECONDS.toNanos(250),
                "request 2 took " + TimeUnit.NANOSECONDS.toMillis(nanos) + " ms: the worker walked a day of timer ticks in one turn");
        }
        finally
        {
            pipeline.shutdown(Duration.ofSeconds(10));
        }
    }

    /** The wheel of a worker that has run for {@code uptime} without a timer: start time in the past, tick 0. */
    private static void simulateUptimeWithoutTimers(final Pipeline<?> pipeline, final long uptime) throws Exception
    {
        final Object runtime = field(pipeline, "runtime");
        final Object[] workers = (Object[])field(runtime, "workers");
        for (final Object worker : workers)
        {
            final Object timers = field(worker, "timers");
            final Field wheel = timers.getClass().getDeclaredField("wheel");
            wheel.setAccessible(true);
            wheel.set(timers, new DeadlineTimerWheel(TimeUnit.NANOSECONDS, System.nanoTime() - uptime, 1L << 20, 512));
        }
    }

    private static Object field(final Object target, final String name) throws Exception
    {
        final Field f = target.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(target);
    }
}
