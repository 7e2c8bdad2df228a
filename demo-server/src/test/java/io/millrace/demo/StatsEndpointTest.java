package io.millrace.demo;

import io.millrace.demo.stats.StatsSample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /stats} of a running server under load, read over a socket: the page refreshes itself,
 * draws its charts as inline SVG, shows the tally grid's heat map, and writes readable units.
 * And {@code /tally}, the endpoint whose lock grid the page shows.
 */
class StatsEndpointTest
{
    private static final Pattern UNREADABLE = Pattern.compile(
        "\\d(,\\d{3})+(\\.\\d+)?\\s*(ns|µs|ms)|\\d{4,}(\\.\\d+)?\\s*(ns|µs|ms)\\b");
    private static final Pattern DURATION = Pattern.compile(">\\d{1,3}(\\.\\d+)? (ns|µs|ms|s)<");

    @Test
    void theStatsPageUnderLoadHasChartsAHeatMapARefreshAndReadableUnits(@TempDir final Path root) throws Exception
    {
        try (DemoServerFixture server = new DemoServerFixture(root))
        {
            final int perClient = 1_500;
            final List<Thread> clients = new ArrayList<>();
            final List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int c = 0; c < 4; c++)
            {
                // Four connections spread over both workers: POSTs of one name meet in one grid cell.
                final Thread t = new Thread(() ->
                {
                    try (RawHttp http = new RawHttp(server.port()))
                    {
                        for (int i = 0; i < perClient; i++)
                        {
                            http.send("POST /tally/hits HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" +
                                "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
                            assertEquals(200, http.read().status());
                            assertEquals(200, http.read().status());
                        }
                    }
                    catch (final Throwable ex)
                    {
                        failures.add(ex);
                    }
                }, "stats-load-" + c);
                t.start();
                clients.add(t);
            }
            for (final Thread t : clients)
            {
                t.join(TimeUnit.SECONDS.toMillis(60));
            }
            assertEquals(List.of(), failures);
            try (RawHttp http = new RawHttp(server.port()))
            {
                assertEquals(4L * perClient + "\n", http.send("GET /tally/hits HTTP/1.1\r\nHost: x\r\n\r\n").read().text(),
                    "the grid let no two increments meet");
            }
            // The sampler takes a snapshot a second; wait for one that saw the tallies, and for a
            // second snapshot: a line joins two samples (a lone one is drawn as a dot).
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < deadline && !(sawTallies(server.service) && server.service.statsHistory().samples().size() >= 2))
            {
                Thread.sleep(100);
            }
            assertTrue(sawTallies(server.service), "a sample of the tally stage's requests");
            assertTrue(server.service.statsHistory().samples().size() >= 2, "two samples to draw a line between");

            final RawHttp.Response response;
            try (RawHttp http = new RawHttp(server.port()))
            {
                response = http.send("GET /stats HTTP/1.1\r\nHost: x\r\n\r\n").read();
            }
            assertEquals(200, response.status());
            assertEquals("text/html; charset=utf-8", response.header("Content-Type"));
            assertEquals("no-store", response.header("Cache-Control"));
            final String html = response.text();
            assertTrue(html.contains("<meta http-equiv=\"refresh\" content=\"2\">"), "refreshes itself");
            assertTrue(count(html, "<svg class=\"chart\"") >= 3, "throughput, p99 and ring-depth charts: " + html);
            assertTrue(html.contains("<path fill=\"none\""), "a chart has a line: " + html);
            assertTrue(html.contains("lock grid &#39;tallies&#39;: contended acquisitions by stage x data set"), "the grid's heat map");
            assertTrue(html.contains("<td>tally</td>"), "the tally stage's row");
            assertTrue(html.contains("Pool hit rates") && html.contains("ring depth"), html);
            assertFalse(html.contains("<script"), "no script");
            final Matcher bad = UNREADABLE.matcher(html);
            assertFalse(bad.find(), () -> "unreadable number: " + bad.group());
            assertTrue(DURATION.matcher(html).find(), "durations with a unit");
            assertTrue(html.contains("/s<"), "rates per second");
            assertTrue(html.contains(" KiB<") || html.contains(" MiB<"), "bytes in binary units");
        }
    }

    @Test
    void tallyCountsNamesAndRefusesBadOnes(@TempDir final Path root) throws Exception
    {
        try (DemoServerFixture server = new DemoServerFixture(root); RawHttp http = new RawHttp(server.port()))
        {
            assertEquals("0\n", http.send("GET /tally/apples HTTP/1.1\r\nHost: x\r\n\r\n").read().text());
            assertEquals("1\n", http.send("POST /tally/apples HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").read().text());
            assertEquals("2\n", http.send("POST /tally/apples HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").read().text());
            assertEquals("2\n", http.send("GET /tally/apples HTTP/1.1\r\nHost: x\r\n\r\n").read().text());
            assertEquals(404, http.send("POST /tally/a/b HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").read().status());
            assertEquals(404, http.send("POST /tally/" + "n".repeat(Tallies.MAX_NAME_CHARS + 1) +
                " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").read().status());
            assertEquals(405, http.send("DELETE /tally/apples HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
        }
    }

    private static boolean sawTallies(final HttpService service)
    {
        final int stage = service.statsHistory().stageNames().indexOf("tally");
        for (final StatsSample s : service.statsHistory().samples())
        {
            if (stage >= 0 && s.stageRequests()[stage] > 0)
            {
                return true;
            }
        }
        return false;
    }

    private static int count(final String text, final String part)
    {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1))
        {
            n++;
        }
        return n;
    }
}
