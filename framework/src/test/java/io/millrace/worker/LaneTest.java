package io.millrace.worker;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lane's swap handshake: a single writer recording with plain writes, readers collecting
 * consistent copies without losing or double-counting a record, without waiting for a writer that
 * does not turn, and without the writer allocating.
 */
class LaneTest
{
    private static final int STAGES = 3;
    /** The lane runs stages 0 and 1; stage 2 runs elsewhere. */
    private static final boolean[] RUNS = {true, true, false};
    private static final int RING = 64;
    /** Recorded values stay below 256, which a 2-digit HdrHistogram keeps exactly. */
    private static final int VALUES = 250;
    private static final long FOREVER = TimeUnit.HOURS.toNanos(1);
    private static final Duration GUARD = Duration.ofSeconds(30);

    /** The reader's totals, as {@link PipelineMetrics} keeps them. */
    private static final class Totals
    {
        final Histogram[] service = new Histogram[STAGES];
        final Histogram[] queue = new Histogram[STAGES];
        final Histogram endToEnd = new Histogram(1, Lane.MAX_TRACKED_NANOS, 2);
        final Histogram[] batches = {new Histogram(1, RING, 2)};

        Totals()
        {
            for (int s = 0; s < STAGES; s++)
            {
                service[s] = new Histogram(1, Lane.MAX_TRACKED_NANOS, 2);
                queue[s] = new Histogram(1, Lane.MAX_TRACKED_NANOS, 2);
            }
        }

        int collect(final Lane lane, final long maxWaitNanos)
        {
            return Lane.collect(new Lane[] {lane}, service, queue, endToEnd, batches, maxWaitNanos);
        }
    }

    /** What the writer recorded, by value; read by the test after joining the writer. */
    private static final class Expected
    {
        final long[][] service = new long[STAGES][VALUES + 1];
        final long[][] queue = new long[STAGES][VALUES + 1];
        final long[] endToEnd = new long[VALUES + 1];
        final long[] batches = new long[RING + 1];
        final long[] dispatches = new long[STAGES];
        final long[] errors = new long[STAGES];
        final long[] parked = new long[STAGES];
        final long[] redispatches = new long[STAGES];

        /** One dispatch's worth of records, as a worker would make them. */
        void record(final Lane lane, final int i)
        {
            final int stage = i & 1;
            final int v = 1 + i % VALUES;
            final int w = 1 + (i * 7) % VALUES;
            lane.recordQueueWait(stage, w);
            queue[stage][w]++;
            if (i % 11 == 0)
            {
                lane.recordError(stage, v);
                errors[stage]++;
            }
            else
            {
                lane.record(stage, v);
            }
            dispatches[stage]++;
            service[stage][v]++;
            if (i % 13 == 0)
            {
                lane.countParked(stage);
                parked[stage]++;
            }
            if (i % 17 == 0)
            {
                lane.countRedispatch(stage);
                redispatches[stage]++;
            }
            if (i % 5 == 0)
            {
                lane.recordEndToEnd(w);
                endToEnd[w]++;
            }
            if (i % 3 == 0)
            {
                final int b = 1 + i % RING;
                lane.recordBatch(b);
                batches[b]++;
            }
        }

        void assertCollected(final Lane lane, final Totals totals)
        {
            for (int s = 0; s < STAGES; s++)
            {
                assertEquals(dispatches[s], lane.dispatches(s), "dispatches of stage " + s);
                assertEquals(errors[s], lane.errors(s), "errors of stage " + s);
                assertEquals(parked[s], lane.parked(s), "parked of stage " + s);
                assertEquals(redispatches[s], lane.redispatches(s), "redispatches of stage " + s);
                assertEquals(dispatches[s], totals.service[s].getTotalCount(), "service times of stage " + s);
                for (int v = 1; v <= VALUES; v++)
                {
                    assertEquals(service[s][v], totals.service[s].getCountAtValue(v), "service time " + v + " of stage " + s);
                    assertEquals(queue[s][v], totals.queue[s].getCountAtValue(v), "queue wait " + v + " of stage " + s);
                }
            }
            for (int v = 1; v <= VALUES; v++)
            {
                assertEquals(endToEnd[v], totals.endToEnd.getCountAtValue(v), "end-to-end " + v);
            }
            for (int b = 1; b <= RING; b++)
            {
                assertEquals(batches[b], totals.batches[0].getCountAtValue(b), "batch " + b);
            }
        }
    }

    @Test
    void concurrentCollectionsLoseNothingAndCountNothingTwice() throws InterruptedException
    {
        final int blocks = 240;
        final int perBlock = 500;
        final Lane lane = new Lane(STAGES, RUNS, RING);
        final Expected expected = new Expected();
        final Totals totals = new Totals();
        final AtomicInteger collections = new AtomicInteger();
        final AtomicBoolean writerDone = new AtomicBoolean();
        final AtomicReference<Throwable> writerFailure = new AtomicReference<>();

        // Blocks of records; between blocks the writer goes on at once, waits busy (turning) for a
        // collection, or waits idle for one, so collections meet the writer in every state.
        final Thread writer = new Thread(() ->
        {
            try
            {
                lane.exitIdle();
                int i = 0;
                for (int block = 0; block < blocks; block++)
                {
                    for (int k = 0; k < perBlock; k++)
                    {
                        expected.record(lane, i++);
                        if ((k & 7) == 0)
                        {
                            lane.onTurn();
                        }
                    }
                    final int seen = collections.get();
                    final long deadline = System.nanoTime() + GUARD.toNanos();
                    switch (block % 3)
                    {
                        case 1 ->
                        {
                            while (collections.get() == seen && System.nanoTime() < deadline)
                            {
                                lane.onTurn();
                                Thread.onSpinWait();
                            }
                        }
                        case 2 ->
                        {
                            lane.enterIdle();
                            while (collections.get() == seen && System.nanoTime() < deadline)
                            {
                                LockSupport.parkNanos(20_000);
                            }
                            lane.exitIdle();
                        }
                        default -> lane.onTurn();
                    }
                }
                lane.enterIdle();
            }
            catch (final Throwable t)
            {
                writerFailure.set(t);
            }
            finally
            {
                writerDone.set(true);
            }
        }, "lane-writer");

        assertTimeoutPreemptively(GUARD, () ->
        {
            writer.start();
            while (!writerDone.get())
            {
                totals.collect(lane, TimeUnit.MILLISECONDS.toNanos(20));
                collections.incrementAndGet();
                for (int s = 0; s < 2; s++)
                {
                    // Everything handed over was counted first: a copy never runs ahead of the counts.
                    assertTrue(totals.service[s].getTotalCount() <= lane.dispatches(s), "service times ahead of dispatches");
                }
            }
            writer.join();
        });
        assertEquals(null, writerFailure.get());
        assertTrue(collections.get() >= blocks * 2 / 3, "a collection between blocks: " + collections.get());

        assertEquals(0, totals.collect(lane, FOREVER), "an idle writer's lane is collected without waiting");
        expected.assertCollected(lane, totals);
        assertEquals(0, totals.collect(lane, FOREVER), "nothing more to collect");
        expected.assertCollected(lane, totals);
    }

    @Test
    void aWriterThatDoesNotTurnDelaysItsHistogramsNotTheReader() throws InterruptedException
    {
        final Lane lane = new Lane(STAGES, RUNS, RING);
        final Expected expected = new Expected();
        final Totals totals = new Totals();
        final CountDownLatch recorded = new CountDownLatch(1);
        final CountDownLatch unstick = new CountDownLatch(1);
        final CountDownLatch turned = new CountDownLatch(1);
        final CountDownLatch finish = new CountDownLatch(1);
        final Thread writer = new Thread(() ->
        {
            lane.exitIdle();
            for (int i = 0; i < 100; i++)
            {
                expected.record(lane, i);
            }
            recorded.countDown();
            await(unstick); // busy in a long call: no turn, no idle
            lane.onTurn();
            turned.countDown();
            await(finish);
            lane.enterIdle();
        }, "stuck-writer");
        writer.start();
        assertTrue(recorded.await(30, TimeUnit.SECONDS));

        assertTimeoutPreemptively(GUARD, () ->
        {
            assertEquals(1, totals.collect(lane, TimeUnit.MILLISECONDS.toNanos(20)), "skipped after the bound");
            assertEquals(0, totals.service[0].getTotalCount() + totals.service[1].getTotalCount());
            assertEquals(50, lane.dispatches(0), "counts are exact without the histograms");
            // Still asked from the last collection: not waited for again, however long the bound.
            assertEquals(1, totals.collect(lane, FOREVER));
            assertEquals(0, totals.service[0].getTotalCount() + totals.service[1].getTotalCount());
        });

        unstick.countDown();
        assertTrue(turned.await(30, TimeUnit.SECONDS));
        assertTimeoutPreemptively(GUARD, () ->
        {
            // The late answer is collected; the new request waits for a turn that does not come.
            assertEquals(1, totals.collect(lane, TimeUnit.MILLISECONDS.toNanos(20)));
            expected.assertCollected(lane, totals);
        });

        finish.countDown();
        writer.join();
        assertTimeoutPreemptively(GUARD, () -> assertEquals(0, totals.collect(lane, FOREVER)));
        expected.assertCollected(lane, totals);
    }

    @Test
    void theReaderSwapsIdleLanesItselfAndTheWriterGoesOnAfterwards() throws InterruptedException
    {
        final Lane lane = new Lane(STAGES, RUNS, RING);
        final Expected expected = new Expected();
        final Totals totals = new Totals();
        assertTimeoutPreemptively(GUARD, () -> assertEquals(0, totals.collect(lane, FOREVER), "a lane not started yet"));

        final CountDownLatch idle = new CountDownLatch(1);
        final CountDownLatch more = new CountDownLatch(1);
        final Thread writer = new Thread(() ->
        {
            lane.exitIdle();
            for (int i = 0; i < 300; i++)
            {
                expected.record(lane, i);
            }
            lane.enterIdle();
            idle.countDown();
            await(more);
            lane.exitIdle();
            for (int i = 300; i < 700; i++)
            {
                expected.record(lane, i);
            }
            lane.enterIdle();
        }, "idle-writer");
        writer.start();
        assertTrue(idle.await(30, TimeUnit.SECONDS));
        assertTimeoutPreemptively(GUARD, () ->
        {
            assertEquals(0, totals.collect(lane, FOREVER));
            assertEquals(0, totals.collect(lane, FOREVER));
        });
        more.countDown();
        writer.join();
        assertTimeoutPreemptively(GUARD, () -> assertEquals(0, totals.collect(lane, FOREVER)));
        expected.assertCollected(lane, totals);
    }

    @Test
    void collectsSeveralLanesIntoOneTotalAndSkipsOnlyTheStuckOne() throws InterruptedException
    {
        final Lane idleLane = new Lane(STAGES, RUNS, RING);
        final Lane stuckLane = new Lane(STAGES, RUNS, 0); // a blocking thread's lane: no batches, no end-to-end
        final Histogram[] service = {new Histogram(1, Lane.MAX_TRACKED_NANOS, 2), new Histogram(1, Lane.MAX_TRACKED_NANOS, 2),
            new Histogram(1, Lane.MAX_TRACKED_NANOS, 2)};
        final Histogram[] queue = {new Histogram(1, Lane.MAX_TRACKED_NANOS, 2), new Histogram(1, Lane.MAX_TRACKED_NANOS, 2),
            new Histogram(1, Lane.MAX_TRACKED_NANOS, 2)};
        final Histogram endToEnd = new Histogram(1, Lane.MAX_TRACKED_NANOS, 2);
        final Histogram[] batches = {new Histogram(1, RING, 2), null};
        final Lane[] lanes = {idleLane, stuckLane};

        final CountDownLatch recorded = new CountDownLatch(2);
        final CountDownLatch release = new CountDownLatch(1);
        final Thread a = new Thread(() ->
        {
            idleLane.exitIdle();
            idleLane.record(0, 1_000);
            idleLane.recordEndToEnd(5_000);
            idleLane.recordBatch(3);
            idleLane.enterIdle();
            recorded.countDown();
        });
        final Thread b = new Thread(() ->
        {
            stuckLane.exitIdle();
            stuckLane.record(0, 2_000);
            stuckLane.recordQueueWait(0, 700);
            recorded.countDown();
            await(release);
            stuckLane.enterIdle();
        });
        a.start();
        b.start();
        assertTrue(recorded.await(30, TimeUnit.SECONDS));
        assertTimeoutPreemptively(GUARD,
            () -> assertEquals(1, Lane.collect(lanes, service, queue, endToEnd, batches, TimeUnit.MILLISECONDS.toNanos(20))));
        assertEquals(1, service[0].getTotalCount());
        assertEquals(1, endToEnd.getTotalCount());
        assertEquals(1, batches[0].getTotalCount());
        assertEquals(0, queue[0].getTotalCount());

        release.countDown();
        a.join();
        b.join();
        assertTimeoutPreemptively(GUARD, () -> assertEquals(0, Lane.collect(lanes, service, queue, endToEnd, batches, FOREVER)));
        assertEquals(2, service[0].getTotalCount());
        assertEquals(1, queue[0].getTotalCount());
        assertEquals(2, idleLane.dispatches(0) + stuckLane.dispatches(0));
    }

    /**
     * The writer's whole path (every record kind, turns that flip while a reader collects, idle
     * entries and exits) allocates nothing. Measured with the thread's allocation counter, which
     * counts TLAB and outside-TLAB allocations of this thread only; the reader thread's allocations
     * are not in it. The counter's own read is calibrated out (it is 0 on current JDKs).
     */
    @Test
    void theWriterPathAllocatesNothing() throws InterruptedException
    {
        final com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final long self = Thread.currentThread().threadId();
        final Lane lane = new Lane(STAGES, RUNS, RING);
        final Totals totals = new Totals();
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicInteger collections = new AtomicInteger();
        final Thread reader = new Thread(() ->
        {
            while (!stop.get())
            {
                totals.collect(lane, TimeUnit.MILLISECONDS.toNanos(20));
                collections.incrementAndGet();
                LockSupport.parkNanos(100_000);
            }
        }, "lane-reader");
        lane.exitIdle();
        reader.start();
        try
        {
            for (int round = 0; round < 3; round++)
            {
                writerPath(lane, 100_000); // warm-up: interpreter, then compiled code
            }
            final long calibrationStart = bean.getThreadAllocatedBytes(self);
            final long calibration = bean.getThreadAllocatedBytes(self) - calibrationStart;
            final int collectionsBefore = collections.get();

            final long before = bean.getThreadAllocatedBytes(self);
            writerPath(lane, 100_000);
            // And at least two collections answered by this thread's turns (flips) inside the measurement.
            final long deadline = System.nanoTime() + GUARD.toNanos();
            while (collections.get() < collectionsBefore + 2 && System.nanoTime() < deadline)
            {
                lane.onTurn();
                Thread.onSpinWait();
            }
            final long allocated = bean.getThreadAllocatedBytes(self) - before - calibration;

            assertEquals(0, allocated, "bytes allocated by 100,000 dispatches' worth of recording");
            assertTrue(collections.get() >= collectionsBefore + 2, "the reader collected during the measurement");
        }
        finally
        {
            stop.set(true);
            reader.join();
            lane.enterIdle();
        }
    }

    private static void writerPath(final Lane lane, final int dispatches)
    {
        for (int i = 0; i < dispatches; i++)
        {
            final int stage = i & 1;
            final long nanos = (i * 7919L) % 3_000_000_000L;
            lane.recordQueueWait(stage, nanos / 3);
            if (i % 97 == 0)
            {
                lane.recordError(stage, nanos);
                lane.recordMisuse(stage);
            }
            else
            {
                lane.record(stage, (i & 15) == 0 ? Lane.UNTIMED : nanos);
            }
            lane.countParked(stage);
            lane.countRedispatch(stage);
            lane.recordEndToEnd(nanos * 2);
            lane.recordBatch(1 + (i & 127));
            if ((i & 15) == 0)
            {
                lane.onTurn();
            }
            if (i % 10_000 == 0)
            {
                lane.enterIdle();
                lane.exitIdle();
            }
        }
    }

    private static void await(final CountDownLatch latch)
    {
        try
        {
            if (!latch.await(60, TimeUnit.SECONDS))
            {
                throw new AssertionError("test latch not released");
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new AssertionError(ex);
        }
    }
}
