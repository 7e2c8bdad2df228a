package io.millrace.lock;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import io.millrace.stage.Suspension;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.millrace.lock.LockGridTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The report and the heat map, from a run whose counts are known exactly: one holder and three
 * waiters on one cell, five free acquisitions of another.
 */
class ContentionReportTest
{
    private record Req(long key, boolean holder)
    {
    }

    @Test
    void reportTableAndHeatMapShowTheContendedCell(@TempDir final Path dir) throws Exception
    {
        final PipelineBuilder<Req> b = Pipeline.builder();
        final StageRef<Req> route = b.stage("route");
        final StageRef<Req> first = b.stage("x&y");
        final StageRef<Req> hold = b.stage("hold");
        final StageRef<Req> second = b.stage("second");
        final LockGrid grid = LockGrid.builder().name("report").rows(first, second).columns(8).build();
        final long hotKey = keyIn(grid, 2);
        final long coldKey = keyIn(grid, 4);
        final LinkedBlockingQueue<Suspension> held = new LinkedBlockingQueue<>();
        final AtomicInteger completed = new AtomicInteger();
        b.handle(route, (r, ctx) -> Outcome.next(r.key() == hotKey ? first : second))
         .handle(first, (r, ctx) ->
         {
             if (!grid.acquire(ctx, r.key()))
             {
                 return Outcome.blocked();
             }
             if (r.holder())
             {
                 return Outcome.next(hold);
             }
             grid.release(ctx, r.key());
             return Outcome.done();
         })
         .handle(hold, (r, ctx) ->
         {
             held.add(ctx.suspend());
             return Outcome.blocked();
         })
         .handle(second, (r, ctx) ->
         {
             if (!grid.acquire(ctx, r.key()))
             {
                 return Outcome.blocked();
             }
             grid.release(ctx, r.key());
             return Outcome.done();
         });
        b.handle(b.stage("unused"), (r, ctx) -> Outcome.done());
        final Pipeline<Req> pipeline = b.name("report").workers(1).onComplete((r, e) -> completed.incrementAndGet())
            .build().start();

        Submit.untilAccepted(pipeline, new Req(hotKey, true));
        final Suspension holder = held.poll(30, TimeUnit.SECONDS);
        for (int i = 0; i < 3; i++)
        {
            Submit.untilAccepted(pipeline, new Req(hotKey, false));
        }
        for (int i = 0; i < 5; i++)
        {
            Submit.untilAccepted(pipeline, new Req(coldKey, false));
        }
        awaitTrue(() -> grid.report().contended() == 3 && completed.get() == 5, "waiters parked, cold requests done");
        holder.resume(Outcome.done()); // also exercises the abandon path: completes holding the cell
        awaitTrue(() -> completed.get() == 9, "all done");
        final ContentionReport report = grid.report();

        final CellStats hot = report.cell(0, 2);
        assertEquals(4, hot.acquisitions());
        assertEquals(3, hot.contended());
        assertEquals(1, hot.abandoned());
        assertEquals(0.75, hot.contentionRate());
        assertEquals(3, hot.waitTimes().getTotalCount());
        assertTrue(hot.waitAtPercentile(50) > 0 && hot.maxWait() >= hot.waitAtPercentile(99));
        assertEquals(5, report.cell(1, 4).acquisitions());
        assertEquals(0, report.cell(1, 4).contended());
        assertEquals(9, report.acquisitions());
        assertEquals(4, report.row(0).acquisitions());
        assertEquals(-1, report.row(0).column());
        assertEquals(hot, report.hottest(5).get(0));
        assertEquals(1, report.hottest(5).size());

        final String table = report.table();
        assertTrue(table.startsWith("lock grid 'report': 2 stages x 8 data sets; 9 acquisitions, 3 contended (33.33%), 1 abandoned\n"),
            table);
        assertTrue(table.contains("|  7     |"), "row x&y: data set 2 at 75% shows as 7\n" + table);
        assertTrue(table.contains("|    .   |"), "row second: data set 4 used, never contended\n" + table);
        assertTrue(table.contains("hottest cells"), table);

        // An interval: two more free acquisitions of the hot cell.
        for (int i = 0; i < 2; i++)
        {
            Submit.untilAccepted(pipeline, new Req(hotKey, false));
        }
        awaitTrue(() -> completed.get() == 11, "interval requests done");
        assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        final ContentionReport interval = grid.report().since(report);
        assertEquals(2, interval.cell(0, 2).acquisitions());
        assertEquals(0, interval.cell(0, 2).contended());
        assertEquals(0, interval.cell(0, 2).waitTimes().getTotalCount());
        assertEquals(0, interval.contended());

        final String svg = HeatMap.svg(report, HeatMap.Shade.CONTENTION_RATE);
        assertTrue(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assertTrue(svg.contains("<title>stage x&amp;y, data set 2: 4 acquisitions, 3 contended (75.00%)"), svg);
        assertTrue(svg.contains("fill=\"" + HeatMap.color(0.75) + "\""), "hot cell shaded at 75% of the fixed scale");
        assertTrue(svg.contains("fill=\"#e5e7eb\""), "unused cells grey");
        assertWellFormed(svg);
        for (final HeatMap.Shade shade : HeatMap.Shade.values())
        {
            final Path file = HeatMap.write(report, shade, dir.resolve("maps/" + shade + ".svg"));
            assertWellFormed(Files.readString(file));
        }
    }

    @Test
    void durationsAndColoursAreFormattedForPeople()
    {
        assertEquals("999 ns", ContentionReport.nanos(999));
        assertEquals("1.50 µs", ContentionReport.nanos(1_500));
        assertEquals("1.00 ms", ContentionReport.nanos(999_700));
        assertEquals("2.50 s", ContentionReport.nanos(2_500_000_000L));
        assertEquals("#fff7ec", HeatMap.color(0));
        assertEquals("#7f0000", HeatMap.color(1));
        assertEquals("a&amp;b&lt;c&gt;&quot;&#39;", HeatMap.escape("a&b<c>\"'"));
    }

    private static void assertWellFormed(final String xml) throws Exception
    {
        DocumentBuilderFactory.newInstance().newDocumentBuilder()
            .parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    private static long keyIn(final LockGrid grid, final int column)
    {
        long k = 0;
        while (grid.columnOf(k) != column)
        {
            k++;
        }
        return k;
    }
}
