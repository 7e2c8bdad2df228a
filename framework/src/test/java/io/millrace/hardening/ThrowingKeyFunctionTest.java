package io.millrace.hardening;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.SubmitResult;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A key function is user code: when it throws, that request fails with the error, the failure is
 * counted against the stage, and the worker (and the in-flight bound) carry on.
 */
class ThrowingKeyFunctionTest
{
    static final class BadKey extends RuntimeException
    {
        BadKey(final int id)
        {
            super("no key for request " + id);
        }
    }

    private static int keyOf(final int id)
    {
        if (id % 7 == 0)
        {
            throw new BadKey(id);
        }
        return id;
    }

    @Test
    @Timeout(120)
    void aPartitionedKeyThatThrowsMidPipelineFailsOnlyThatRequestAndTheWorkerGoesOn() throws InterruptedException
    {
        check(false, Placement.partitioned(ThrowingKeyFunctionTest::keyOf));
    }

    @Test
    @Timeout(120)
    void anOnWorkerKeyThatThrowsMidPipelineFailsOnlyThatRequest() throws InterruptedException
    {
        check(false, Placement.onWorker(id -> keyOf(id) & 1));
    }

    @Test
    @Timeout(120)
    void aPartitionedEntryKeyThatThrowsAtSubmitLeaksNoInFlightPermit() throws InterruptedException
    {
        // 3,000 throwing keys against an in-flight bound of 64: a leaked permit per throw would
        // refuse every submit after the 64th.
        check(true, Placement.partitioned(ThrowingKeyFunctionTest::keyOf));
    }

    @Test
    @Timeout(120)
    void anOnWorkerEntryKeyThatThrowsAtSubmitLeaksNoInFlightPermit() throws InterruptedException
    {
        check(true, Placement.onWorker(id -> keyOf(id) & 1));
    }

    private static void check(final boolean atEntry, final Placement<Integer> placement) throws InterruptedException
    {
        final int requests = 21_000;
        final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger badKey = new AtomicInteger();
        final AtomicInteger wrong = new AtomicInteger();
        final CountDownLatch done = new CountDownLatch(requests);
        final ConcurrentHashMap<Integer, Boolean> seen = new ConcurrentHashMap<>();

        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> keyed;
        if (atEntry)
        {
            keyed = b.stage("keyed", placement);
            b.handle(keyed, (id, ctx) -> Outcome.done());
        }
        else
        {
            final StageRef<Integer> first = b.stage("first");
            keyed = b.stage("keyed", placement);
            b.handle(first, (id, ctx) -> Outcome.next(keyed)).handle(keyed, (id, ctx) -> Outcome.done());
        }
        final Pipeline<Integer> pipeline = b.name("keys").workers(2).ringSize(256).maxInFlight(64)
            .onComplete((id, error) ->
            {
                if (seen.put(id, Boolean.TRUE) != null)
                {
                    wrong.incrementAndGet(); // completed twice
                }
                if (error == null && id % 7 != 0)
                {
                    ok.incrementAndGet();
                }
                else if (error instanceof BadKey && id % 7 == 0)
                {
                    badKey.incrementAndGet();
                }
                else
                {
                    wrong.incrementAndGet();
                }
                done.countDown();
            }).build().start();
        try
        {
            for (int i = 0; i < requests; i++)
            {
                final int refused = Submit.untilAccepted(pipeline, i);
                assertTrue(refused < 10_000_000, "request " + i + " was never admitted");
            }
            assertTrue(done.await(30, TimeUnit.SECONDS), done.getCount() + " requests never completed");
            final int multiplesOf7 = (requests + 6) / 7;
            assertEquals(multiplesOf7, badKey.get());
            assertEquals(requests - multiplesOf7, ok.get());
            assertEquals(0, wrong.get());
            assertEquals(multiplesOf7, pipeline.metrics().stage("keyed").errors(), "key failures count against the stage");
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(1));
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }

    @Test
    @Timeout(120)
    void theErrorReachesTheListenerAsThrown() throws InterruptedException
    {
        final CountDownLatch done = new CountDownLatch(1);
        final Throwable[] got = new Throwable[1];
        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> keyed = b.stage("keyed", Placement.partitioned(id -> { throw new StackOverflowError("deep key"); }));
        b.handle(keyed, (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.workers(1).onComplete((id, error) -> { got[0] = error; done.countDown(); }).build().start();
        try
        {
            assertEquals(SubmitResult.ACCEPTED, pipeline.submit(1));
            assertTrue(done.await(10, TimeUnit.SECONDS));
            assertInstanceOf(StackOverflowError.class, got[0]);
        }
        finally
        {
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        }
    }
}
