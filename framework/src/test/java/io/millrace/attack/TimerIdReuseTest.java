package io.millrace.attack;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.SubmitResult;
import io.millrace.stage.Outcome;
import io.millrace.stage.WorkerTimers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Worker timers: ids and far deadlines.
 *
 * <p>1. {@link WorkerTimers#cancel}: "@return true if the timer was pending and will not fire". Agrona's
 * {@code DeadlineTimerWheel} ids are (spoke, slot) and are reused as soon as a timer fires, and
 * {@code WorkerTimerWheel} hands them out unchanged. Cancelling the id of a timer that already fired
 * (request 1's timeout, cancelled late by its answer path) cancels whichever new timer got the same
 * slot (request 2's timeout), returns true, and request 2's timeout never fires: a request that
 * relies on its timeout is then parked forever.
 *
 * <p>2. "A timer fires in the first turn at or after its deadline, never before." {@code scheduleAfter}
 * computes {@code System.nanoTime() + delay}, which overflows for a very long delay (Long.MAX_VALUE as
 * "practically never"), giving a deadline in the past: the timer fires at once.
 */
class TimerIdReuseTest
{
    @Test
    @Timeout(60)
    void cancellingAFiredTimersIdDoesNotCancelAnotherTimer() throws Exception
    {
        final CompletableFuture<String> result = new CompletableFuture<>();
        final CountDownLatch firstFired = new CountDownLatch(1);
        final AtomicBoolean secondFired = new AtomicBoolean();
        final long[] firstId = new long[1];
        final long[] firstDeadline = new long[1];
        final PipelineBuilder<Integer> b = Pipeline.builder();
        b.handle(b.stage("timers"), (id, ctx) ->
        {
            final WorkerTimers timers = ctx.timers();
            if (id == 1)
            {
                firstDeadline[0] = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5);
                firstId[0] = timers.schedule(firstDeadline[0], (t, now) -> firstFired.countDown());
            }
            else
            {
                // A new timer, 512 ticks (one wheel turn) away: same spoke, and the slot is free again.
                final long secondId = timers.schedule(firstDeadline[0] + (512L << 20), (t, now) -> secondFired.set(true));
                final boolean cancelled = timers.cancel(firstId[0]); // request 1's answer path, late
                result.complete("firstId=" + firstId[0] + " secondId=" + secondId + " cancelReturned=" + cancelled +
                    " pendingAfter=" + timers.pending());
            }
            return Outcome.done();
        });
        final Pipeline<Integer> pipeline = b.name("timer-ids").workers(1).build().start();
        try
        {
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(1));
            assertTrue(firstFired.await(10, TimeUnit.SECONDS));
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(2));
            final String r = result.get(10, TimeUnit.SECONDS);
            final boolean sameId = r.contains("secondId=" + r.substring(r.indexOf('=') + 1, r.indexOf(' ')) + " ");
            Thread.sleep(1_000); // past the second timer's deadline (~537 ms after the first's)
            assertAll(
                () -> assertFalse(r.contains("cancelReturned=true"), "cancel of a fired timer's id returned true: " + r),
                () -> assertTrue(r.contains("pendingAfter=1"), "the other timer must still be pending: " + r + " (same id: " + sameId + ")"),
                () -> assertTrue(secondFired.get(), "the second timer never fired: " + r));
        }
        finally
        {
            pipeline.shutdown(Duration.ofSeconds(10));
        }
    }

    @Test
    @Timeout(60)
    void aVeryLongDelayDoesNotFireAtOnce() throws Exception
    {
        final CountDownLatch fired = new CountDownLatch(1);
        final PipelineBuilder<Integer> b = Pipeline.builder();
        b.handle(b.stage("timers"), (id, ctx) ->
        {
            ctx.timers().scheduleAfter(Long.MAX_VALUE, (t, now) -> fired.countDown()); // "never", in practice
            return Outcome.done();
        });
        final Pipeline<Integer> pipeline = b.name("timer-far").workers(1).build().start();
        try
        {
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(1));
            assertFalse(fired.await(500, TimeUnit.MILLISECONDS), "a timer ~292 years out fired within 500 ms");
        }
        finally
        {
            pipeline.shutdown(Duration.ofSeconds(10));
        }
    }
}
