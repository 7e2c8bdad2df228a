package io.millrace.demo.stats;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LineChartTest
{
    private static final long NOW = 1_800_000_000_000L;

    @Test
    void drawsOneLinePerSeriesWithReadableTicksAndLegend() throws Exception
    {
        final long[] times = {NOW - 3_000, NOW - 2_000, NOW - 1_000, NOW};
        final String svg = LineChart.svg("Requests <per> second", times, NOW, List.of(
            new LineChart.Series("completed", new double[] {0, 11_000, 12_500, 11_400}),
            new LineChart.Series("a & b", new double[] {Double.NaN, 300, Double.NaN, 400})), LineChart.Scale.LINEAR,
            Units::rate, 600, 200);
        final Document doc = parse(svg);
        assertEquals(1, doc.getElementsByTagName("path").getLength(), "the second series has only single points");
        assertTrue(svg.contains(">Requests &lt;per&gt; second<"), svg);
        assertTrue(svg.contains(">a &amp; b <tspan"), "escaped legend: " + svg);
        assertTrue(svg.contains(">11.4k/s</tspan>"), "the legend shows the latest value: " + svg);
        assertTrue(svg.contains(">15.0k/s</text>"), "round ticks up to 15k: " + svg);
        assertTrue(svg.contains(">now</text>") && svg.contains(">-1 min</text>"), "a minute at least, up to now: " + svg);
        assertEquals(2, doc.getElementsByTagName("circle").getLength(), "its two points between gaps are dots");
    }

    @Test
    void latenciesGoOnALogAxisOfDecades() throws Exception
    {
        final long[] times = {NOW - 1_000, NOW};
        final String svg = LineChart.svg("p99", times, NOW, List.of(
            new LineChart.Series("end to end", new double[] {3_400_000, 12_000_000}),
            new LineChart.Series("parse", new double[] {180, 0})), LineChart.Scale.LOG, Units::duration, 600, 200);
        parse(svg);
        for (final String tick : new String[] {"100 ns", "1.00 µs", "10.0 µs", "100 µs", "1.00 ms", "10.0 ms", "100 ms"})
        {
            assertTrue(svg.contains(">" + tick + "</text>"), tick + " in " + svg);
        }
        assertFalse(svg.contains(">1.00 s</text>"), "no decade above the data");
    }

    @Test
    void anEmptyHistorySaysItIsCollecting() throws Exception
    {
        final String svg = LineChart.svg("empty", new long[0], NOW, List.of(new LineChart.Series("x", new double[0])),
            LineChart.Scale.LOG, Units::duration, 400, 100);
        parse(svg);
        assertTrue(svg.contains("collecting samples"), svg);
    }

    static Document parse(final String xml) throws Exception
    {
        final DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }
}
