package io.millrace.lock;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import io.millrace.stage.Suspension;
import io.millrace.testing.Submit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.PackedHistogram;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.millrace.lock.LockGridTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report flags cells whose waits dwarf their holds, and only those with enough samples. */
class ConvoyReportTest
{
    @Test
    void aCellIsAConvoyWhenItsMeanWaitIsOverTenTimesItsMeanHoldWithEnoughSamples()
    {
        final CellStats convoy = cell(100, 1_000_000, 100, 50_000);       // 1 ms waits, 50 µs holds: 20x
        assertEquals(20, convoy.waitToHold(), 0.5);
        assertTrue(convoy.waitDwarfsHold());

        assertFalse(cell(100, 1_000_000, 100, 200_000).waitDwarfsHold(), "5x is not a convoy");
        assertFalse(cell(99, 1_000_000, 100, 1_000).waitDwarfsHold(), "99 waits are too few to tell");
        assertFalse(cell(100, 1_000_000, 99, 1_000).waitDwarfsHold(), "99 timed holds are too few to tell");
        assertFalse(cell(0, 0, 0, 0).waitDwarfsHold());
        assertEquals(0, cell(0, 0, 500, 1_000).waitToHold());
        // A hold shorter than the clock's resolution reads as 0 ns: it counts as 1 ns, not as infinite.
        assertEquals(1_000_000, cell(100, 1_000_000, 100, 0).waitToHold(), 20_000);

        final ContentionReport report = new ContentionReport("g", List.of("s"), 3,
            List.of(cell(0, 100, 1_000_000, 100, 50_000), cell(1, 100, 1_000_000, 100, 200_000), cell(2, 200, 4_000_000, 200, 2_000)));
        assertEquals(List.of(2, 0), report.convoys().stream().map(CellStats::column).toList(), "worst first");
        final String table = report.table();
        assertTrue(table.contains("convoys: requests wait far longer for these cells than anyone holds them"), table);
        assertTrue(table.contains(ContentionReport.CONVOY_ADVICE), table);
        assertTrue(table.contains(ContentionReport.nanos(Math.round(report.cell(0, 2).meanWaitNanos()))),
            "mean wait of data set 2: " + table);
        assertTrue(table.contains("2.00 µs"), "mean hold of data set 2: " + table);
        assertTrue(table.contains("2,003x"), "4.01 ms (the histogram's precision) over 2 µs: " + table);
        assertTrue(table.contains("20.0x"), table);

        final ContentionReport quiet = new ContentionReport("g", List.of("s"), 1, List.of(cell(100, 1_000, 100, 1_000)));
        assertEquals(List.of(), quiet.convoys());
        assertFalse(quiet.table().contains("convoys"), quiet.table());
    }

    @Test
    void theIntervalOfTwoReportsKeepsItsOwnHolds()
    {
        final ContentionReport earlier = new ContentionReport("g", List.of("s"), 1, List.of(cell(100, 1_000, 40, 100)));
        final ContentionReport later = new ContentionReport("g", List.of("s"), 1, List.of(cell(300, 1_000, 240, 433)));
        final CellStats interval = later.since(earlier).cell(0, 0);
        assertEquals(200, interval.holdSamples());
        assertEquals(240 * 433 - 40 * 100, interval.holdNanos());
        assertEquals((240 * 433 - 40 * 100) / 200.0, interval.meanHoldNanos(), 0.001);
        assertEquals(200, interval.waitTimes().getTotalCount());
        assertEquals(240, later.row(0).holdSamples(), "a row sums its cells' holds");
    }

    /**
     * The new user's case in miniature: a few nanoseconds of work under one cell, and a queue in front
     * of it. Here the queue is forced (a holder keeps the cell for 50 ms while 150 requests park on
     * it), so the numbers are certain: every wait is at least 50 ms, every hold is a counter bump.
     */
    @Test
    void aLiveGridFlagsTheCellThatRequestsQueueForButBarelyHold() throws Exception
    {
        final PipelineBuilder<Boolean> b = Pipeline.builder();
        final StageRef<Boolean> bump = b.stage("bump");
        final StageRef<Boolean> hold = b.stage("hold");
        final StageRef<Boolean> give = b.stage("give");
        final LockGrid grid = LockGrid.builder().name("counter").rows(bump).columns(4).build();
        final LinkedBlockingQueue<Suspension> held = new LinkedBlockingQueue<>();
        final long[] counter = new long[1];
        final AtomicInteger completed = new AtomicInteger();
        b.handle(bump, (holder, ctx) ->
            {
                if (!grid.acquire(ctx, 7L))
                {
                    return Outcome.blocked();
                }
                counter[0]++;
                if (holder)
                {
                    return Outcome.next(hold);
                }
                grid.release(ctx, 7L);
                return Outcome.done();
            })
            .handle(hold, (holder, ctx) ->
            {
                held.add(ctx.suspend());
                return Outcome.blocked();
            })
            .handle(give, (holder, ctx) ->
            {
                grid.release(ctx, bump, 7L);
                return Outcome.done();
            });
        final Pipeline<Boolean> pipeline = b.name("convoy").workers(2)
            .onComplete((r, error) -> completed.incrementAndGet()).build().start();
        Submit.untilAccepted(pipeline, Boolean.TRUE);
        final Suspension holder = held.poll(30, TimeUnit.SECONDS);
        assertTrue(holder != null, "the holder took the cell");
        final int waiters = 150;
        for (int i = 0; i < waiters; i++)
        {
            Submit.untilAccepted(pipeline, Boolean.FALSE);
        }
        final int column = grid.columnOf(7L);
        awaitTrue(() -> grid.report().cell(0, column).contended() == waiters, "all waiters parked");
        Thread.sleep(50);
        holder.resume(Outcome.next(give));
        awaitTrue(() -> completed.get() == waiters + 1, "all served");
        assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());

        final ContentionReport report = grid.report();
        final CellStats cell = report.cell(0, column);
        assertEquals(waiters + 1, counter[0]);
        assertEquals(waiters, cell.waitTimes().getTotalCount());
        assertTrue(cell.holdSamples() >= waiters, "every contended hold is timed: " + cell.holdSamples());
        assertTrue(cell.meanWaitNanos() >= 50_000_000, "waited for the holder: " + cell.meanWaitNanos());
        assertTrue(cell.waitDwarfsHold(), report.table());
        assertEquals(List.of(cell), report.convoys());
        assertTrue(report.table().contains("convoys:"), report.table());
    }

    private static CellStats cell(final int waits, final long waitNanos, final long holdSamples, final long holdNanosEach)
    {
        return cell(0, waits, waitNanos, holdSamples, holdNanosEach);
    }

    private static CellStats cell(final int column, final int waits, final long waitNanos, final long holdSamples,
        final long holdNanosEach)
    {
        final Histogram h = new PackedHistogram(2);
        for (int i = 0; i < waits; i++)
        {
            h.recordValue(waitNanos);
        }
        return new CellStats("s", 0, column, waits + holdSamples, waits, 0, h, holdSamples, holdSamples * holdNanosEach);
    }
}
