package io.millrace.demo.http;

import io.millrace.memory.PoolStats;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.metrics.StageMetrics;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatsPageTest
{
    @Test
    void showsEveryStageWorkerAndPoolOfARealPipeline() throws InterruptedException
    {
        final MetricsSnapshot snapshot = SmallPipeline.run(500);
        final String html = StatsPage.render(snapshot, Map.of("buffers", new PoolStats("b", 3, 1, 0, 0, 0, 0, 0, 0, 0)), null);
        assertTrue(html.startsWith("<!DOCTYPE html>"), html);
        assertTrue(html.endsWith("</html>\n"), html);
        for (final String stage : new String[] {"parse", "owner", "reply"})
        {
            assertTrue(html.contains("<tr><td>" + stage + "</td>"), stage);
        }
        assertTrue(html.contains("<tr><td>parse</td><td>inline</td><td class=\"n\">500</td><td class=\"n\">500</td>"),
            "parse dispatches and requests: " + html);
        assertTrue(html.contains("<h2>End-to-end latency</h2>"), html);
        assertTrue(html.contains("<td class=\"n\">50</td>"), "reply errors");
        assertTrue(html.contains("<td>" + snapshot.workers().get(0).threadName() + "</td>"));
        assertTrue(html.contains("<td>buffers</td><td class=\"n\">3</td><td class=\"n\">1</td><td class=\"n\">75.0%</td>"), html);
        assertTrue(html.contains("<td>" + snapshot.workers().get(1).contextPool().name() + "</td>"));
        assertFalse(html.contains("<svg"));
        assertBalanced(html, "table");
        assertBalanced(html, "tr");
    }

    @Test
    void escapesNamesAndEmbedsTheHeatMap()
    {
        final Histogram h = new Histogram(1, 60_000_000_000L, 2);
        h.recordValue(1_500);
        h.recordValue(250_000);
        final MetricsSnapshot snapshot = PrometheusTextTest.snapshot(
            List.of(new StageMetrics("<script>alert('x')</script>&", "inline", 0, 2, 2, 0, 0, h, new Histogram(2))), null);
        final String svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect width=\"1\" height=\"1\"/></svg>";
        final String html = StatsPage.render(snapshot, Map.of("p\"<b>", new PoolStats("x", 0, 0, 0, 0, 0, 0, 0, 0, 0)), svg);
        assertFalse(html.contains("<script>"), html);
        assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"), html);
        assertTrue(html.contains("<td>p&quot;&lt;b&gt;</td>"), html);
        assertTrue(html.contains(svg), "heat map embedded as is");
        assertTrue(html.contains("<td class=\"n\">1.5</td>"), "p50 in microseconds: " + html);
        assertTrue(html.contains("<th>queue p99 \u00b5s</th>"), html);
        assertTrue(html.contains("<td class=\"n\">-</td>"), "no hit rate without acquisitions");
    }

    private static void assertBalanced(final String html, final String tag)
    {
        final int open = html.split("<" + tag + ">", -1).length - 1;
        final int close = html.split("</" + tag + ">", -1).length - 1;
        assertTrue(open > 0 && open == close, tag + ": " + open + " open, " + close + " closed");
    }
}
