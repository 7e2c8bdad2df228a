package io.millrace.demo.stats;

import io.millrace.metrics.StageMetrics;

import org.HdrHistogram.Histogram;

import java.util.List;

/**
 * One row per stage: the last second's rate and p99, then totals and percentiles since start of
 * service time (one dispatch) and queue wait (in a ring, or a blocking stage's queue, before it).
 *
 * <p>Stateless; safe from any thread.
 */
public final class StagesSection implements StatsSection
{
    @Override
    public String title()
    {
        return "Stages";
    }

    @Override
    public void render(final StatsFrame frame, final StringBuilder html)
    {
        final StatsSample latest = frame.latest();
        final List<String> sampled = frame.stageNames();
        html.append("<table>\n");
        Html.row(html, "th", 2, "stage", "placement", "req/s now", "p99 now", "requests", "dispatches", "parked",
            "errors", "service p50", "service p99", "service max", "queue p50", "queue p99", "queue max");
        for (final StageMetrics stage : frame.snapshot().stages())
        {
            final int i = sampled.indexOf(stage.name());
            final boolean now = latest != null && i >= 0 && i < latest.stageRequests().length;
            Html.row(html, "td", 2, Html.escape(stage.name()), Html.escape(stage.placement()),
                now ? Units.rate(latest.stageRequests()[i]) : "-",
                now && latest.stageP99()[i] > 0 ? Units.duration(latest.stageP99()[i]) : "-",
                Units.count(stage.requests()), Units.count(stage.dispatches()), Units.count(stage.parked()),
                Units.count(stage.errors()), time(stage.serviceTimeNanos(), 50), time(stage.serviceTimeNanos(), 99),
                max(stage.serviceTimeNanos()), time(stage.queueWaitNanos(), 50), time(stage.queueWaitNanos(), 99),
                max(stage.queueWaitNanos()));
        }
        html.append("</table>\n<p class=\"note\">Service time: one dispatch of the stage. Queue wait: time in a ring ")
            .append("or a blocking stage's queue before it (a stage that follows another on the same thread waits for ")
            .append("nothing and records nothing). A request resumed into the stage it parked in is dispatched twice and ")
            .append("counted once. Percentiles are since start; \"now\" is the last second.</p>\n");
    }

    private static String time(final Histogram h, final double percentile)
    {
        return h.getTotalCount() == 0 ? "-" : Units.duration(h.getValueAtPercentile(percentile));
    }

    private static String max(final Histogram h)
    {
        return h.getTotalCount() == 0 ? "-" : Units.duration(h.getMaxValue());
    }
}
