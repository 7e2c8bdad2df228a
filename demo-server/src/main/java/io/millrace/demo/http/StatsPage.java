package io.millrace.demo.http;

import io.millrace.memory.PoolStats;
import io.millrace.http.HttpDate;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.metrics.StageMetrics;
import io.millrace.metrics.WorkerMetrics;

import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders a {@link MetricsSnapshot} as one self-contained HTML page for a person (no scripts, no
 * external styles): pipeline totals, end-to-end latency, a table per stage (dispatches, requests,
 * service time and queue wait), per worker and per lookaside pool, and the lock grid's heat map if
 * there is one. Every name that comes from the application is escaped.
 *
 * <p>Stateless; safe from any thread.
 */
public final class StatsPage
{
    private static final String STYLE = """
        body { font-family: sans-serif; margin: 1.5em; color: #111827; }
        table { border-collapse: collapse; margin-bottom: 1.5em; }
        th, td { padding: 0.25em 0.75em; border-bottom: 1px solid #e5e7eb; }
        th { text-align: left; background: #f3f4f6; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; }
        p.note { color: #4b5563; }
        """;

    private StatsPage()
    {
    }

    /**
     * @param snapshot         the pipeline's metrics
     * @param pools            further lookaside pools by name, may be empty; the workers' own pools
     *                         (request contexts, buffer chunks) are shown without being passed here
     * @param heatMapSvgOrNull an SVG document (from {@code HeatMap.svg}) to show as is, or null
     * @return an HTML document
     */
    public static String render(final MetricsSnapshot snapshot, final Map<String, PoolStats> pools,
        final String heatMapSvgOrNull)
    {
        final StringBuilder html = new StringBuilder(16_384);
        html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .append("<title>Millrace stats</title>\n<style>\n").append(STYLE).append("</style>\n</head>\n<body>\n")
            .append("<h1>Millrace</h1>\n");
        html.append("<p>").append(HttpDate.now()).append(": ")
            .append(number(snapshot.inFlight())).append(" in flight (bound ").append(number(snapshot.maxInFlight()))
            .append("), ").append(number(snapshot.completed())).append(" completed, ")
            .append(number(snapshot.failed())).append(" failed, ")
            .append(number(snapshot.rejectedOverloaded())).append(" rejected for overload, ")
            .append(number(snapshot.rejectedNotRunning())).append(" rejected while not running.</p>\n");

        html.append("<h2>End-to-end latency</h2>\n<table>\n");
        row(html, "th", 0, "requests", "p50 \u00b5s", "p90 \u00b5s", "p99 \u00b5s", "p99.9 \u00b5s", "max \u00b5s");
        final Histogram endToEnd = snapshot.endToEndNanos();
        row(html, "td", 0, number(endToEnd.getTotalCount()), micros(snapshot.endToEndAtPercentile(50)),
            micros(snapshot.endToEndAtPercentile(90)), micros(snapshot.endToEndAtPercentile(99)),
            micros(snapshot.endToEndAtPercentile(99.9)), micros(max(endToEnd)));
        html.append("</table>\n");

        html.append("<h2>Stages</h2>\n<table>\n");
        row(html, "th", 2, "stage", "placement", "dispatches", "requests", "parked", "errors", "p50 \u00b5s", "p90 \u00b5s",
            "p99 \u00b5s", "max \u00b5s", "queue p50 \u00b5s", "queue p99 \u00b5s", "queue max \u00b5s");
        for (final StageMetrics stage : snapshot.stages())
        {
            row(html, "td", 2, escape(stage.name()), escape(stage.placement()), number(stage.dispatches()),
                number(stage.requests()), number(stage.parked()), number(stage.errors()),
                micros(stage.serviceTimeAtPercentile(50)), micros(stage.serviceTimeAtPercentile(90)),
                micros(stage.serviceTimeAtPercentile(99)), micros(max(stage.serviceTimeNanos())),
                micros(stage.queueWaitAtPercentile(50)), micros(stage.queueWaitAtPercentile(99)),
                micros(max(stage.queueWaitNanos())));
        }
        html.append("</table>\n");

        html.append("<h2>Workers</h2>\n<table>\n");
        row(html, "th", 2, "worker", "thread", "ring depth", "ring capacity", "publishes received", "submits received",
            "batches", "mean batch", "max batch", "publishes sent", "parks", "wakes", "completed", "failed");
        for (final WorkerMetrics w : snapshot.workers())
        {
            row(html, "td", 2, Integer.toString(w.index()), escape(w.threadName()), number(w.ringDepth()),
                number(w.ringCapacity()), number(w.publishesReceived()), number(w.submitsReceived()), number(w.batches()),
                String.format(Locale.ROOT, "%.2f", w.meanBatch()), number(w.maxBatch()), number(w.publishesSent()),
                number(w.parks()), number(w.wakes()), number(w.completed()), number(w.failed()));
        }
        html.append("</table>\n");

        final List<PoolStats> allPools = new ArrayList<>();
        final List<String> names = new ArrayList<>();
        for (final WorkerMetrics w : snapshot.workers())
        {
            for (final PoolStats own : new PoolStats[] {w.contextPool(), w.bufferChunks()})
            {
                if (own != null)
                {
                    allPools.add(own);
                    names.add(own.name());
                }
            }
        }
        for (final Map.Entry<String, PoolStats> pool : pools.entrySet())
        {
            allPools.add(pool.getValue());
            names.add(pool.getKey());
        }
        html.append("<h2>Lookaside pools</h2>\n<table>\n");
        row(html, "th", 1, "pool", "hits", "misses", "hit rate", "frees", "returns", "drops", "sweeps", "evicted", "idle", "live");
        for (int i = 0; i < allPools.size(); i++)
        {
            final PoolStats p = allPools.get(i);
            final long acquisitions = p.hits() + p.misses();
            row(html, "td", 1, escape(names.get(i)), number(p.hits()), number(p.misses()),
                acquisitions == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * p.hits() / acquisitions),
                number(p.frees()), number(p.returns()), number(p.drops()), number(p.sweeps()), number(p.evicted()),
                number(p.idle()), number(p.live()));
        }
        html.append("</table>\n");

        if (heatMapSvgOrNull != null)
        {
            html.append("<h2>Lock contention</h2>\n").append(heatMapSvgOrNull).append('\n');
        }
        html.append("<p class=\"note\">Latencies are since start: end to end from submit to completion; per stage ")
            .append("the service time of a dispatch and the queue wait before it (in a ring or a blocking stage's queue). ")
            .append("A request resumed into the stage it suspended in is dispatched twice and counted once. Machine-readable: ")
            .append("<a href=\"/metrics\">/metrics</a>.</p>\n</body>\n</html>\n");
        return html.toString();
    }

    /**
     * @param text any text
     * @return it safe as HTML element content or a double- or single-quoted attribute value
     */
    static String escape(final String text)
    {
        if (text == null)
        {
            return "";
        }
        final StringBuilder s = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            switch (c)
            {
                case '&' -> s.append("&amp;");
                case '<' -> s.append("&lt;");
                case '>' -> s.append("&gt;");
                case '"' -> s.append("&quot;");
                case '\'' -> s.append("&#39;");
                default -> s.append(c);
            }
        }
        return s.toString();
    }

    /**
     * Cells are escaped by the caller. Columns after the first {@code textColumns} hold numbers and
     * align right, so that digits line up.
     */
    private static void row(final StringBuilder html, final String cell, final int textColumns, final String... values)
    {
        html.append("<tr>");
        for (int i = 0; i < values.length; i++)
        {
            html.append('<').append(cell).append(cell.equals("td") && i >= textColumns ? " class=\"n\">" : ">")
                .append(values[i]).append("</").append(cell).append('>');
        }
        html.append("</tr>\n");
    }

    private static String number(final long value)
    {
        return String.format(Locale.ROOT, "%,d", value);
    }

    private static long max(final Histogram h)
    {
        return h.getTotalCount() == 0 ? 0 : h.getMaxValue();
    }

    private static String micros(final long nanos)
    {
        return String.format(Locale.ROOT, "%,.1f", nanos / 1000.0);
    }
}
