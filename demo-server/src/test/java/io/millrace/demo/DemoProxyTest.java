package io.millrace.demo;

import io.millrace.balance.RefreshResult;
import io.millrace.balance.UpstreamGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo as a reverse proxy, over real loopback sockets: a demo with {@code --upstream} flags (or
 * an upstream file) in front of two small upstreams. Every test ends with no leak reported by the
 * paranoid detector and every pooled chunk back.
 */
@Timeout(120)
class DemoProxyTest
{
    private static String text(final RawHttp.Response r)
    {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    private static void stop(final DemoServerFixture server)
    {
        server.close();
        assertEquals(0, server.chunksInUse(), "every pooled chunk is back");
        assertEquals(0, server.leaks.leaksReported(), "the paranoid leak detector reported no leak");
    }

    @Test
    void servesThroughTheGroupButAnswersMetricsAndStatsItself(@TempDir final Path root) throws Exception
    {
        try (TestUpstream a = new TestUpstream("a"); TestUpstream b = new TestUpstream("b"))
        {
            final DemoServerFixture server = new DemoServerFixture(root, "--upstream", a.address(), "--upstream",
                b.address() + ",weight=2,zone=z1", "--balance", "round-robin", "--max-fails", "3", "--retries", "1");
            try
            {
                assertNull(server.service.directory(), "a proxy opens no data directory");
                int fromA = 0;
                int fromB = 0;
                try (DemoClient c = new DemoClient(server.port()))
                {
                    for (int i = 0; i < 30; i++)
                    {
                        final RawHttp.Response r = c.get("/hello?i=" + i);
                        assertEquals(200, r.status());
                        final String body = text(r);
                        assertTrue(body.equals("a GET /hello") || body.equals("b GET /hello"), body);
                        fromA += body.startsWith("a ") ? 1 : 0;
                        fromB += body.startsWith("b ") ? 1 : 0;
                    }
                    final RawHttp.Response put = c.request("PUT", "/kv/k", "v".getBytes(StandardCharsets.US_ASCII));
                    assertEquals(200, put.status(), "/kv is proxied too");
                    assertTrue(text(put).endsWith(" PUT /kv/k"), text(put));
                    assertEquals(10, fromA, "weights 1 and 2 under smooth round robin: a third to a");
                    assertEquals(20, fromB);
                    assertEquals(31, a.requests.get() + b.requests.get());

                    final String metrics = text(c.get("/metrics"));
                    assertTrue(metrics.contains("millrace_upstream_requests_total{upstream=\"" + a.address() + "\"} " +
                        a.requests.get() + "\n"), metrics);
                    assertTrue(metrics.contains("millrace_upstream_requests_total{upstream=\"" + b.address() + "\"} " +
                        b.requests.get() + "\n"), metrics);
                    assertTrue(metrics.contains("millrace_upstream_weight{upstream=\"" + b.address() + "\"} 2\n"), metrics);
                    assertTrue(metrics.contains("millrace_upstream_state{upstream=\"" + a.address() + "\",state=\"up\"} 1\n"),
                        metrics);
                    assertTrue(metrics.contains("millrace_upstream_info{upstream=\"" + b.address() +
                        "\",zone=\"z1\",backup=\"false\"} 1\n"), metrics);
                    assertTrue(metrics.contains("# TYPE millrace_upstream_failures_total counter\n"), metrics);
                    assertTrue(metrics.contains("millrace_proxy_retries_total 0\n"), metrics);
                    assertTrue(metrics.contains("millrace_stage_requests_total{stage=\"proxy /*\"}"), metrics);
                    assertFalse(metrics.contains("millrace_log_appends_total"), "a proxy has no logs");

                    final RawHttp.Response stats = c.get("/stats");
                    assertEquals(200, stats.status());
                    final String page = text(stats);
                    assertTrue(page.contains("Upstreams"), "the upstream section");
                    assertTrue(page.contains("<th>upstream</th><th>zone</th><th>state</th><th>weight</th><th>active</th>" +
                        "<th>requests</th><th>failures</th><th>ejections</th><th>latency (avg)</th><th>latency (mean)</th>"), page);
                    final String rowB = "<td>" + b.address() + "</td><td>z1</td><td>up</td><td class=\"n\">2</td>";
                    assertTrue(page.contains(rowB), page);
                    assertTrue(page.contains("<td>" + a.address() + "</td><td>-</td><td>up</td><td class=\"n\">1</td>"), page);
                    assertTrue(page.matches("(?s).*<td>" + java.util.regex.Pattern.quote(a.address()) +
                        "</td>.*?<td class=\"n\">\\d{1,3}(\\.\\d+)? (µs|ms)</td>.*"), "latency in readable units");
                    assertEquals(31, a.requests.get() + b.requests.get(), "/metrics and /stats did not reach an upstream");
                }
            }
            finally
            {
                stop(server);
            }
        }
    }

    @Test
    void aBackupTakesRequestsOnlyWhenThePrimaryIsOut(@TempDir final Path root) throws Exception
    {
        final int dead;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            dead = s.getLocalPort();
        }
        try (TestUpstream backup = new TestUpstream("backup"))
        {
            final DemoServerFixture server = new DemoServerFixture(root, "--upstream", "127.0.0.1:" + dead, "--upstream",
                backup.address() + ",backup", "--balance", "least-time");
            try (DemoClient c = new DemoClient(server.port()))
            {
                for (int i = 0; i < 10; i++)
                {
                    final RawHttp.Response r = c.get("/x");
                    assertEquals(200, r.status(), "the refused primary is retried on the backup");
                    assertEquals("backup GET /x", text(r));
                }
                final String page = text(c.get("/stats"));
                assertTrue(page.contains("<td>127.0.0.1:" + dead + "</td><td>-</td><td><span class=\"warn-text\">ejected</span></td>"),
                    page);
                assertTrue(page.contains("<td>" + backup.address() + "</td><td>-</td><td>backup</td>"), page);
                assertTrue(text(c.get("/metrics")).contains("millrace_upstream_ejections_total{upstream=\"127.0.0.1:" + dead + "\"} 1\n"));
            }
            finally
            {
                stop(server);
            }
        }
    }

    /**
     * The upstream file's reload (what SIGHUP calls; {@link DemoProxyProcessTest} sends the signal
     * itself): under a steady load from two clients, an added upstream gets traffic, a removed one
     * drains and leaves, and no request fails.
     */
    @Test
    void reloadingTheUpstreamFileAddsAndDrainsWithoutLosingRequests(@TempDir final Path root) throws Exception
    {
        try (TestUpstream a = new TestUpstream("a"); TestUpstream b = new TestUpstream("b"))
        {
            final Path file = root.resolve("upstreams");
            Files.writeString(file, "# the fleet\n" + a.address() + "\n");
            final DemoServerFixture server = new DemoServerFixture(root, "--upstream-file", file.toString());
            final AtomicBoolean run = new AtomicBoolean(true);
            final AtomicInteger ok = new AtomicInteger();
            final List<String> failures = new CopyOnWriteArrayList<>();
            final List<Thread> clients = new java.util.ArrayList<>();
            try
            {
                final ProxyMode proxy = server.service.proxyMode();
                final UpstreamGroup group = proxy.group();
                assertEquals(List.of(a.address()), group.upstreams().stream().map(u -> u.name()).toList());
                for (int t = 0; t < 2; t++)
                {
                    final Thread client = new Thread(() ->
                    {
                        try (DemoClient c = new DemoClient(server.port()))
                        {
                            while (run.get())
                            {
                                final RawHttp.Response r = c.get("/load");
                                if (r.status() != 200)
                                {
                                    failures.add(r.status() + " " + text(r));
                                }
                                ok.incrementAndGet();
                            }
                        }
                        catch (final Exception e)
                        {
                            failures.add(e.toString());
                        }
                    }, "load-" + t);
                    client.start();
                    clients.add(client);
                }
                awaitCount(ok, 200);

                Files.writeString(file, a.address() + "\n" + b.address() + ",weight=2   # joins\n");
                final RefreshResult added = proxy.reload();
                assertEquals(new RefreshResult(1, 0, 1, 0), added);
                awaitCount(b.requests, 100);

                Files.writeString(file, b.address() + "\n");
                final RefreshResult drained = proxy.reload();
                assertEquals(1, drained.draining(), drained.toString());
                final long deadline = System.nanoTime() + 10_000_000_000L;
                while (group.find(a.address()) != null && System.nanoTime() < deadline)
                {
                    Thread.sleep(10);
                }
                assertNull(group.find(a.address()), "the drained upstream left once its last request ended");
                final int aAfter = a.requests.get();
                final int before = ok.get();
                awaitCount(ok, before + 200);
                assertEquals(aAfter, a.requests.get(), "a drained upstream gets no new request");

                Files.writeString(file, "not an upstream\n");
                assertTrue(assertThrowsIllegal(proxy).startsWith("--upstream-file: "), "a bad file is refused");
                assertEquals(List.of(b.address()), group.upstreams().stream().map(u -> u.name()).toList(),
                    "and changes nothing");
                server.service.reloadUpstreams(); // the signal's path: logs, never throws
            }
            finally
            {
                run.set(false);
                for (final Thread t : clients)
                {
                    t.join(30_000);
                }
                stop(server);
            }
            assertEquals(List.of(), failures, "no request failed during the reloads");
            assertTrue(a.requests.get() > 0 && b.requests.get() > 0);
        }
    }

    private static String assertThrowsIllegal(final ProxyMode proxy)
    {
        return org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, proxy::reload).getMessage();
    }

    private static void awaitCount(final AtomicInteger counter, final int atLeast) throws InterruptedException
    {
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while (counter.get() < atLeast)
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("count stayed at " + counter.get() + ", below " + atLeast);
            }
            Thread.sleep(5);
        }
    }
}
