package io.millrace.demo.stats;

import io.millrace.metrics.MetricsSnapshot;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatsPageTest
{
    /** A duration written as a person should not have to read it: 4 digits or a thousands separator before the unit. */
    static final Pattern UNREADABLE = Pattern.compile("\\d(,\\d{3})+(\\.\\d+)?\\s*(ns|µs|ms)|\\d{4,}(\\.\\d+)?\\s*(ns|µs|ms)\\b");
    private static final long SECOND = 1_000_000_000L;

    @Test
    void aPageOfSectionsThatRefreshesDrawsChartsAndWritesReadableUnits()
    {
        final StatsHistory history = new StatsHistory(300);
        for (int i = 0; i <= 30; i++)
        {
            history.record(Snapshots.of("<script>alert('x')</script>", 40_000L * i, 2_004_877_300L, i % 5, 1_000L * i, 3),
                i * SECOND, 1_000L * i);
        }
        final StatsPage page = new StatsPage(() -> Snapshots.of("never used", 0, 0, 0, 0, 0), history, List.of(
            new OverviewSection(), new ChartsSection(), new StagesSection(), new WorkersSection(), new PoolsSection(),
            new LockGridSection()));
        final String html = page.render(history.latestSnapshot(), 30_000);

        assertTrue(html.startsWith("<!DOCTYPE html>"), html);
        assertTrue(html.endsWith("</html>\n"), html);
        assertTrue(html.contains("<meta http-equiv=\"refresh\" content=\"" + StatsPage.REFRESH_SECONDS + "\">"), "refreshes");
        assertEquals(3, count(html, "<svg class=\"chart\""), "throughput, p99 and ring depth charts");
        assertTrue(count(html, "<path ") >= 4, "lines drawn: " + html);
        assertFalse(html.contains("<script"), "no script, and names are escaped: " + html);
        assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), html);
        final String own = html.replace("http://www.w3.org/2000/svg", "");
        assertFalse(own.contains("http://") || own.contains("https://") || own.contains(" src="), "nothing fetched from elsewhere");
        assertTrue(html.contains("<td class=\"n\">2.00 s</td>"), "service p50 of 2,004,877,300 ns: " + html);
        assertTrue(html.contains("40.0k/s"), "the last second's rate: " + html);
        final Matcher bad = UNREADABLE.matcher(html);
        assertFalse(bad.find(), () -> "unreadable number: " + bad.group());
        assertTrue(html.contains("No lock grid is registered."), html);
        for (final String tag : new String[] {"table", "tr", "section", "svg"})
        {
            assertEquals(count(html, "<" + tag + ">") + count(html, "<" + tag + " "), count(html, "</" + tag + ">"), tag);
        }
    }

    @Test
    void sectionsAddedLaterAppearAndOneThatThrowsDoesNotTakeThePageDown()
    {
        final StatsHistory history = new StatsHistory(10);
        final MetricsSnapshot snapshot = Snapshots.of("work", 10, 1_000, 0, 0, 0);
        final StatsPage page = new StatsPage(() -> snapshot, history, List.of(new OverviewSection()));
        page.add(new StatsSection()
        {
            @Override
            public String title()
            {
                return "Upstreams";
            }

            @Override
            public void render(final StatsFrame frame, final StringBuilder html)
            {
                html.append("<table><tr><td>backend-1</td></tr></table>\n");
            }
        }).add(new StatsSection()
        {
            @Override
            public String title()
            {
                return "Broken";
            }

            @Override
            public void render(final StatsFrame frame, final StringBuilder html)
            {
                html.append("<table><tr><td>half a table");
                throw new IllegalStateException("no data <here>");
            }
        });
        final String html = page.render();
        assertTrue(html.contains("<h2>Upstreams</h2>\n<table><tr><td>backend-1</td></tr></table>"), html);
        assertTrue(html.contains("<a href=\"#s1\">Upstreams</a>"), "in the index: " + html);
        assertTrue(html.contains("This section failed to render: java.lang.IllegalStateException: no data &lt;here&gt;"), html);
        assertFalse(html.contains("half a table"), "what the failed section wrote is dropped");
        assertTrue(html.contains("collecting samples") || html.contains("<div class=\"tiles\">"), html);
    }

    static int count(final String text, final String part)
    {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1))
        {
            n++;
        }
        return n;
    }
}
