package io.millrace.demo.stats;

import io.millrace.lock.CellStats;
import io.millrace.lock.ContentionReport;
import io.millrace.lock.HeatMap;
import io.millrace.lock.LockGrid;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Every lock grid the server registered: its heat map (stages x data sets, shaded by contended
 * acquisitions relative to the busiest cell, so that the waiting shows even when it is rare; each
 * cell's numbers in its tooltip), its hottest cells, and a warning for each cell whose wait
 * dwarfs its hold (a convoy: {@link CellStats#waitDwarfsHold()}).
 *
 * <p>Threading: grids are registered from any thread ({@link #register}); rendering reads a
 * copy-on-write list and each grid's {@link LockGrid#report()}, which is safe from any thread.
 */
public final class LockGridSection implements StatsSection
{
    /** Hottest cells listed under each map. */
    static final int HOTTEST = 5;

    private final List<LockGrid> grids = new CopyOnWriteArrayList<>();

    /**
     * Adds a grid to the page.
     *
     * @param grid the grid
     * @return this section
     */
    public LockGridSection register(final LockGrid grid)
    {
        grids.add(java.util.Objects.requireNonNull(grid, "grid"));
        return this;
    }

    @Override
    public String title()
    {
        return "Lock grids";
    }

    @Override
    public void render(final StatsFrame frame, final StringBuilder html)
    {
        if (grids.isEmpty())
        {
            html.append("<p class=\"note\">No lock grid is registered.</p>\n");
            return;
        }
        for (final LockGrid grid : grids)
        {
            final ContentionReport report = grid.report();
            html.append("<h3>").append(Html.escape(grid.name())).append("</h3>\n<p class=\"status\">")
                .append(Units.count(report.rows().size())).append(" stages x ").append(Units.count(report.columns()))
                .append(" data sets: ").append(Units.count(report.acquisitions())).append(" acquisitions, ")
                .append(Units.count(report.contended())).append(" contended (").append(Units.percent(report.contentionRate()))
                .append("), ").append(Units.count(report.abandoned())).append(" abandoned, since start.</p>\n");
            html.append(HeatMap.svg(report, HeatMap.Shade.CONTENDED));
            final List<CellStats> convoys = report.convoys();
            for (final CellStats c : convoys.subList(0, Math.min(HOTTEST, convoys.size())))
            {
                html.append("<p class=\"warn-text\">Convoy: stage ").append(Html.escape(c.stage())).append(", data set ")
                    .append(c.column()).append(": requests wait ").append(Units.duration(c.meanWaitNanos()))
                    .append(" on average for a cell held ").append(Units.duration(c.meanHoldNanos()))
                    .append(" (").append(Units.times(c.waitToHold())).append("). A cell this cheap to hold is ")
                    .append("not worth queueing for: keep the data set on one worker (a partitioned stage), use an atomic, ")
                    .append("or split it.</p>\n");
            }
            final List<CellStats> hot = report.hottest(HOTTEST);
            if (!hot.isEmpty())
            {
                html.append("<table>\n");
                Html.row(html, "th", 1, "stage", "data set", "acquisitions", "contended", "rate", "wait p50", "wait p99",
                    "wait max", "mean hold", "wait / hold");
                for (final CellStats c : hot)
                {
                    Html.row(html, "td", 1, Html.escape(c.stage()), Integer.toString(c.column()),
                        Units.count(c.acquisitions()), Units.count(c.contended()), Units.percent(c.contentionRate()),
                        Units.duration(c.waitAtPercentile(50)), Units.duration(c.waitAtPercentile(99)),
                        Units.duration(c.maxWait()), c.holdSamples() == 0 ? "-" : Units.duration(c.meanHoldNanos()),
                        c.holdSamples() == 0 ? "-" : Units.times(c.waitToHold()));
                }
                html.append("</table>\n");
            }
        }
    }
}
