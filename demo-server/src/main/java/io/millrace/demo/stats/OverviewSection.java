package io.millrace.demo.stats;

import io.millrace.metrics.MetricsSnapshot;

import org.HdrHistogram.Histogram;

/**
 * The page's first lines: throughput and p99 of the last second, requests in flight against their
 * bound, totals, and end-to-end latency percentiles since start.
 *
 * <p>Stateless; safe from any thread.
 */
public final class OverviewSection implements StatsSection
{
    @Override
    public String title()
    {
        return "Overview";
    }

    @Override
    public void render(final StatsFrame frame, final StringBuilder html)
    {
        final MetricsSnapshot s = frame.snapshot();
        final StatsSample latest = frame.latest();
        html.append("<div class=\"tiles\">\n");
        tile(html, latest == null ? "-" : Units.rate(latest.completed()), "completed, last second");
        tile(html, latest == null || latest.endToEndP99() == 0 ? "-" : Units.duration(latest.endToEndP99()),
            "end-to-end p99, last second");
        tile(html, Units.count(s.inFlight()) + " / " + Units.count(s.maxInFlight()), "in flight / bound");
        tile(html, Units.count(s.completed()), "completed");
        tile(html, Units.count(s.failed()), "failed");
        tile(html, Units.count(s.rejectedOverloaded()), "rejected: overload");
        tile(html, Units.count(s.rejectedNotRunning()), "rejected: not running");
        html.append("</div>\n");

        final Histogram e2e = s.endToEndNanos();
        html.append("<table>\n");
        Html.row(html, "th", 1, "end to end, since start", "requests", "p50", "p90", "p99", "p99.9", "max");
        Html.row(html, "td", 1, "submit to completion", Units.count(e2e.getTotalCount()),
            Units.duration(s.endToEndAtPercentile(50)), Units.duration(s.endToEndAtPercentile(90)),
            Units.duration(s.endToEndAtPercentile(99)), Units.duration(s.endToEndAtPercentile(99.9)),
            Units.duration(e2e.getTotalCount() == 0 ? 0 : e2e.getMaxValue()));
        html.append("</table>\n");
    }

    private static void tile(final StringBuilder html, final String value, final String key)
    {
        html.append("<div class=\"tile\"><div class=\"v\">").append(Html.escape(value)).append("</div><div class=\"k\">")
            .append(Html.escape(key)).append("</div></div>\n");
    }
}
