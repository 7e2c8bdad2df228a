package io.millrace.http;

import io.millrace.balance.UpstreamGroup;
import io.millrace.balance.UpstreamSpec;
import io.millrace.balance.Upstream;
import io.millrace.memory.LeakDetector;
import io.millrace.net.OutboundOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An upstream killed under a GET load: no client sees an error (each failed attempt goes to the
 * other upstream), the dead one is taken out, and once restarted it comes back after {@code rise}
 * successful HTTP probes run on the proxy's worker timers.
 */
@Timeout(120)
class HttpProxyHealthTest
{
    private static final ProxyTestBackend.Answer ANSWER = (head, body, out) -> answer(out);

    private static boolean answer(final OutputStream out) throws IOException
    {
        out.write(ProxyTestBackend.ok("up"));
        return true;
    }

    @Test
    void aKilledUpstreamCostsNoClientErrorIsTakenOutAndComesBackAfterProbes() throws Exception
    {
        final LeakDetector leaks = LeakDetector.paranoid();
        ProxyTestBackend a = new ProxyTestBackend(ANSWER);
        final ProxyTestBackend b = new ProxyTestBackend(ANSWER);
        final int portA = a.port();
        final UpstreamGroup group = UpstreamGroup.builder().workers(2).passive(1, Duration.ofMillis(500))
            .probes(Duration.ofMillis(100), 2, 1)
            .add(UpstreamSpec.of("127.0.0.1", portA), UpstreamSpec.of("127.0.0.1", b.port())).build();
        final HttpProxy proxy = HttpProxy.builder(group).tries(2).healthPath("/health")
            .outbound(OutboundOptions.defaults().connectTimeout(Duration.ofSeconds(1)).readTimeout(Duration.ofSeconds(5))).build();
        final HttpServer server = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2).leakDetector(leaks)
            .proxy("/*", proxy).start();
        final Upstream upA = group.find("127.0.0.1:" + portA);
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicInteger ok = new AtomicInteger();
        final List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        final List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < 4; t++)
        {
            final Thread th = new Thread(() ->
            {
                for (int i = 0; i < 100_000 && !stop.get(); i++)
                {
                    try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
                    {
                        for (int k = 0; k < 20 && !stop.get(); k++)
                        {
                            c.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
                            final RawHttpClient.Response r = c.read();
                            if (r.status() != 200)
                            {
                                errors.add(r.status() + " " + r.text());
                            }
                            ok.incrementAndGet();
                        }
                    }
                    catch (final IOException ex)
                    {
                        errors.add(ex.toString());
                    }
                }
            }, "client-" + t);
            th.start();
            clients.add(th);
        }
        try
        {
            final ProxyTestBackend first = a;
            waitFor(() -> ok.get() > 500 && first.requests.get() > 50, "load reaches both upstreams");
            a.close(); // killed under load
            final long killedAt = System.nanoTime();
            waitFor(() -> !upA.isAdmitted(), "the dead upstream is taken out");
            assertTrue(System.nanoTime() - killedAt < Duration.ofSeconds(5).toNanos());
            final int before = ok.get();
            waitFor(() -> ok.get() > before + 500, "the load goes on");
            assertFalse(upA.isAdmitted(), "still out while dead: probes fail");
            a = new ProxyTestBackend(portA, ANSWER); // restarted on its port
            final ProxyTestBackend restarted = a;
            waitFor(upA::isAdmitted, "re-admitted after rise probes");
            waitFor(() -> restarted.heads.stream().anyMatch(h -> h.startsWith("GET /x")), "traffic reaches it again");
            assertTrue(restarted.heads.stream().anyMatch(h -> h.startsWith("GET /health")), "probes were HTTP GETs of the path");
        }
        finally
        {
            stop.set(true);
            for (final Thread th : clients)
            {
                th.join(20_000);
            }
            server.shutdown(Duration.ofSeconds(10));
            a.close();
            b.close();
        }
        assertEquals(List.of(), errors, "no client saw an error");
        assertEquals(0, StreamedBodyTest.chunksInUse(server));
        assertEquals(0, leaks.leaksReported());
    }

    private static void waitFor(final java.util.function.BooleanSupplier condition, final String what) throws InterruptedException
    {
        for (int i = 0; i < 2_000; i++)
        {
            if (condition.getAsBoolean())
            {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("timed out waiting: " + what);
    }
}
