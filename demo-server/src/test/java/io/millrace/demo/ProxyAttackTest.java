package io.millrace.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo as a reverse proxy, attacked from outside as a user's fleet would break it: real
 * processes, a backend killed with SIGKILL in the middle of a load. What the framework-level attacks
 * ({@code HttpProxyUpstreamAttackTest}, {@code HttpProxyClientAttackTest}) cannot show: real process
 * death, the demo's own flags and its {@code /metrics} afterwards.
 */
@Timeout(180)
class ProxyAttackTest
{
    private static final Pattern OPEN = Pattern.compile("(?m)^millrace_upstream_connections_open (\\d+)");
    private static final Pattern IDLE = Pattern.compile("(?m)^millrace_upstream_connections_idle (\\d+)");
    private static final Pattern CHUNKS_LIVE = Pattern.compile("(?m)^millrace_pool_live\\{[^}]*chunk[^}]*\\} (\\d+)");

    @Test
    void getsSeeNoErrorWhileABackendIsKilledMidLoad(@TempDir final Path dir) throws Exception
    {
        try (ServerProcess a = ServerProcess.start("--data-dir", dir.resolve("a").toString(), "--workers", "1");
             ServerProcess b = ServerProcess.start("--data-dir", dir.resolve("b").toString(), "--workers", "1"))
        {
            try (ServerProcess proxy = ServerProcess.start("--upstream", "127.0.0.1:" + a.port(),
                "--upstream", "127.0.0.1:" + b.port() + ",weight=3", "--balance", "least-time",
                "--health-path", "/hello", "--max-fails", "1", "--retries", "2"))
            {
                final long chunksBefore;
                try (DemoClient c = new DemoClient(proxy.port()))
                {
                    for (int i = 0; i < 20; i++)
                    {
                        assertEquals(200, c.get("/hello").status());
                    }
                    chunksBefore = sum(CHUNKS_LIVE, new String(c.get("/metrics").body(), StandardCharsets.UTF_8));
                }
                assertTrue(chunksBefore >= 0, "the chunk pool's live gauge is on /metrics");
                final AtomicBoolean stop = new AtomicBoolean();
                final AtomicInteger ok = new AtomicInteger();
                final Map<String, Integer> errors = new ConcurrentHashMap<>();
                final List<Thread> clients = new ArrayList<>();
                for (int t = 0; t < 4; t++)
                {
                    final Thread client = new Thread(() ->
                    {
                        while (!stop.get())
                        {
                            try (DemoClient c = new DemoClient(proxy.port()))
                            {
                                for (int i = 0; i < 200 && !stop.get(); i++)
                                {
                                    final int status = c.get("/hello").status();
                                    if (status == 200)
                                    {
                                        ok.incrementAndGet();
                                    }
                                    else
                                    {
                                        errors.merge("status " + status, 1, Integer::sum);
                                    }
                                }
                            }
                            catch (final Exception ex)
                            {
                                errors.merge(ex.toString(), 1, Integer::sum);
                            }
                        }
                    }, "load-" + t);
                    client.start();
                    clients.add(client);
                }
                waitFor(ok, 2_000);
                b.kill(); // SIGKILL: the weight-3 backend dies with requests in flight on its connections
                final int atKill = ok.get();
                waitFor(ok, atKill + 2_000);
                stop.set(true);
                for (final Thread t : clients)
                {
                    t.join(30_000);
                }
                assertTrue(errors.isEmpty(), "no client saw the death (" + ok.get() + " ok): " + errors + "\n" + proxy.output());
                try (DemoClient c = new DemoClient(proxy.port()))
                {
                    assertEquals(200, c.get("/hello").status(), "the proxy serves on");
                    String metrics = "";
                    for (int i = 0; i < 200; i++)
                    {
                        metrics = new String(c.get("/metrics").body(), StandardCharsets.UTF_8);
                        if (gauge(OPEN, metrics) == gauge(IDLE, metrics) && sum(CHUNKS_LIVE, metrics) <= chunksBefore + 8)
                        {
                            break;
                        }
                        Thread.sleep(20);
                    }
                    assertEquals(gauge(IDLE, metrics), gauge(OPEN, metrics), "no upstream connection is left leased:\n" + metrics);
                    assertTrue(sum(CHUNKS_LIVE, metrics) <= chunksBefore + 8, "chunks in use back to the baseline of "
                        + chunksBefore + ": " + sum(CHUNKS_LIVE, metrics));
                    assertEquals(200, c.get("/stats").status(), "the stats page renders");
                }
                assertEquals(0, proxy.stop(), "SIGTERM drains and exits 0:\n" + proxy.output());
            }
        }
    }

    private static void waitFor(final AtomicInteger ok, final int target) throws InterruptedException
    {
        for (int i = 0; i < 3_000 && ok.get() < target; i++)
        {
            Thread.sleep(10);
        }
        assertTrue(ok.get() >= target, "the load made progress: " + ok.get());
    }

    private static long sum(final Pattern p, final String metrics)
    {
        final Matcher m = p.matcher(metrics);
        long total = -1;
        while (m.find())
        {
            total = Math.max(total, 0) + Long.parseLong(m.group(1));
        }
        return total;
    }

    private static long gauge(final Pattern p, final String metrics)
    {
        final Matcher m = p.matcher(metrics);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}
