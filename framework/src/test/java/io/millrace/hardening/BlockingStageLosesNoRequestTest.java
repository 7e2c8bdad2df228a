package io.millrace.hardening;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The new-user app that used to hang: inline, partitioned, blocking(n) with sub-millisecond
 * handlers, inline, on two workers. Every burst must complete in full without any later traffic
 * to push a stalled request through: a lost permit in the blocking pool's hand-off left the last
 * requests of a burst waiting forever.
 */
class BlockingStageLosesNoRequestTest
{
    @Test
    @Timeout(120)
    void everyRequestOfEveryBurstCompletesWithNoTrafficAfterIt() throws InterruptedException
    {
        final int bursts = 20;
        final int perBurst = 5_000;
        final AtomicInteger completed = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final java.util.concurrent.atomic.AtomicReference<Throwable> firstError = new java.util.concurrent.atomic.AtomicReference<>();
        final CountDownLatch[] done = {null};

        final PipelineBuilder<long[]> b = Pipeline.builder();
        final StageRef<long[]> parse = b.stage("parse");
        final StageRef<long[]> account = b.stage("account", Placement.partitioned(r -> (int)r[0]));
        final StageRef<long[]> db = b.stage("db", Placement.blocking(64));
        final StageRef<long[]> reply = b.stage("reply");
        b.handle(parse, (r, ctx) -> Outcome.next(account))
         .handle(account, (r, ctx) -> { r[1]++; return Outcome.next(db); })
         .handle(db, (r, ctx) -> { LockSupport.parkNanos(200_000 + (r[0] % 5) * 200_000); return Outcome.next(reply); })
         .handle(reply, (r, ctx) -> Outcome.done());
        final Pipeline<long[]> pipeline = b.name("burst").workers(2).ringSize(4096)
            .onComplete((r, error) ->
            {
                (error == null ? completed : failed).incrementAndGet();
                if (error != null)
                {
                    firstError.compareAndSet(null, error);
                }
                done[0].countDown();
            }).build().start();
        try
        {
            for (int burst = 0; burst < bursts; burst++)
            {
                done[0] = new CountDownLatch(perBurst);
                completed.set(0);
                for (int i = 0; i < perBurst; i++)
                {
                    Submit.untilAccepted(pipeline, new long[] {i, 0});
                }
                // A liveness bound, not a speed check: a burst takes milliseconds when nothing is lost.
                assertTrue(done[0].await(30, TimeUnit.SECONDS), "burst " + burst + ": " + done[0].getCount() +
                    " requests never completed");
                assertEquals(perBurst, completed.get(), () -> "failed: " + failed.get() + ", first error: " + firstError.get());
            }
            assertEquals(0, failed.get());
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }
}
