package io.millrace.http;

import io.millrace.balance.BalancePolicy;
import io.millrace.balance.UpstreamGroup;
import io.millrace.balance.UpstreamSpec;
import io.millrace.memory.LeakDetector;
import io.millrace.net.OutboundOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue acceptance, over real loopback sockets: a backend that answers slowly makes
 * {@code least-time} shift traffic away from it. Two upstreams behind an {@link HttpProxy} on two
 * workers, one of them adding 20 ms to every response; four clients send GETs. After a warm-up the
 * fast upstream must take a clear majority, while the same load under {@code round-robin} (the
 * control) splits evenly: the shift is the policy's doing. Counts are asserted, never the test's own
 * timings; the 20 ms is the upstream's, a hundred times a loopback answer, so the margin holds on a
 * loaded machine.
 */
@Timeout(120)
class HttpProxyLeastTimeTest
{
    private static final int CLIENTS = 4;
    private static final int WARM_UP = 40;
    private static final int MEASURED = 400;

    /** Requests each backend took during the measured part. */
    private record Split(int fast, int slow)
    {
    }

    @Test
    void aSlowBackendGetsLittleTrafficUnderLeastTime() throws Exception
    {
        final Split split = run(BalancePolicy.LEAST_TIME);
        assertEquals(MEASURED, split.fast() + split.slow(), "every measured request reached one of the two");
        assertTrue(split.fast() >= MEASURED * 3 / 4, "least-time sent the fast backend " + split.fast() + " of " + MEASURED +
            " (the slow one " + split.slow() + "); expected at least three quarters");
    }

    @Test
    void roundRobinSplitsTheSameLoadEvenly() throws Exception
    {
        final Split split = run(BalancePolicy.ROUND_ROBIN);
        assertEquals(MEASURED, split.fast() + split.slow());
        assertTrue(Math.abs(split.fast() - split.slow()) <= MEASURED / 10, "round-robin ignores latency: " + split);
    }

    private static Split run(final String policy) throws Exception
    {
        final LeakDetector leaks = LeakDetector.paranoid();
        try (ProxyTestBackend fast = ProxyTestBackend.text("fast");
             ProxyTestBackend slow = new ProxyTestBackend((head, body, out) ->
             {
                 sleep(20);
                 out.write(ProxyTestBackend.ok("slow"));
                 return true;
             }))
        {
            final UpstreamGroup group = UpstreamGroup.builder().workers(2).passive(1, Duration.ofSeconds(30))
                .add(UpstreamSpec.of("127.0.0.1", fast.port()), UpstreamSpec.of("127.0.0.1", slow.port())).build();
            final HttpProxy proxy = HttpProxy.builder(group).policy(BalancePolicy.named(policy))
                .outbound(OutboundOptions.defaults().connectTimeout(Duration.ofSeconds(2)).readTimeout(Duration.ofSeconds(10)))
                .build();
            final HttpServer server = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2)
                .leakDetector(leaks).proxy("/*", proxy).start();
            try
            {
                load(server, WARM_UP);
                final int fastBefore = fast.requests.get();
                final int slowBefore = slow.requests.get();
                load(server, MEASURED);
                assertEquals(0, proxy.errors(), "no request failed");
                return new Split(fast.requests.get() - fastBefore, slow.requests.get() - slowBefore);
            }
            finally
            {
                server.shutdown(Duration.ofSeconds(10));
                assertEquals(0, StreamedBodyTest.chunksInUse(server), "every pooled chunk is back after shutdown");
                assertEquals(0, leaks.leaksReported(), "the paranoid leak detector reported no leak");
            }
        }
    }

    /** {@code total} GETs from {@link #CLIENTS} keep-alive clients at once (spread over both workers); all must be 200. */
    private static void load(final HttpServer server, final int total) throws Exception
    {
        final AtomicInteger left = new AtomicInteger(total);
        final List<String> failures = new CopyOnWriteArrayList<>();
        final List<Thread> clients = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++)
        {
            final Thread t = new Thread(() ->
            {
                try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
                {
                    while (left.getAndDecrement() > 0)
                    {
                        c.send("GET /work HTTP/1.1\r\nHost: x\r\n\r\n");
                        final RawHttpClient.Response r = c.read();
                        if (r.status() != 200)
                        {
                            failures.add(r.status() + " " + r.text());
                        }
                    }
                }
                catch (final Exception e)
                {
                    failures.add(e.toString());
                }
            }, "client-" + i);
            t.start();
            clients.add(t);
        }
        for (final Thread t : clients)
        {
            t.join(60_000);
        }
        assertEquals(List.of(), failures);
    }

    private static void sleep(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
    }
}
